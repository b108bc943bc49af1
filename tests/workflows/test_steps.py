"""The step skeleton (workflows.steps) and what pages offer from it.

Personas: ``reporter`` (Solsiden barnehage) and ``caseworker`` (Barneverntjenesten) for concerns;
``sender`` (Rådgivning), ``coordinator`` (Psykisk helse og rus), ``tildeling_staff`` and
``rask_staff`` (catalogue services) for referrals. A page must offer exactly the steps whose
services would accept them: every service is tried on every status and rolled back.
"""
import importlib
import inspect

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from viewflow.workflow.flow import View
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AccessLog
from notifications.models import Reminder
from referrals.access import concern_roles, referral_roles
from referrals.models import Concern, ConcernFeedback, Referral
from tests.factories import advance, make_child, make_consultation, make_melding, next_child_identity
from tests.referral_factories import make_referral, make_referral_org
from workflows import processes
from workflows.concern import services as csvc
from workflows.flows.concern import ConcernFlow
from workflows.models import Deadline
from workflows.referral import services as rsvc
from workflows.services.tasks import task_complete

pytestmark = pytest.mark.django_db

REFUSALS = {"out_of_order", "not_member"}


class _Rollback(Exception):
    pass


def refused(call) -> bool:
    """Whether ``call`` is refused as out of order or by role; whatever it does is rolled back.
    Any other refusal (a field's error) means the step itself was accepted."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return False
    except ValidationError as e:
        return getattr(e, "code", None) in REFUSALS


def tasks(record):
    """``{node name: status}`` of the record's viewflow tasks."""
    return {t.flow_task.name: t.status for t in Task.objects.filter(process_id=record.process.pk)}


# --- concerns ----------------------------------------------------------------------------------


def concern_calls(org, user, concern):
    child = make_child(org, **next_child_identity())
    return {
        "edit": lambda: csvc.concern_draft_update(concern=concern, user=user, version=csvc.NO_FORM, observations="Ny tekst."),
        "delete": lambda: csvc.concern_draft_delete(concern=concern, user=user, version=csvc.NO_FORM),
        "send": lambda: csvc.concern_submit(concern=concern, user=user),
        "upgrade": lambda: csvc.consultation_upgrade(consultation=concern, user=user, person=child, parents_informed=True, child_informed=True),
        "answer": lambda: csvc.consultation_answer(concern=concern, user=user, advice="Snakk med foreldrene."),
        "receipt": lambda: csvc.concern_confirm_receipt(concern=concern, user=user),
        "review": lambda: csvc.concern_review(concern=concern, user=user, decision="investigate"),
        "extend": lambda: csvc.concern_extend_investigation(concern=concern, user=user, reason="Venter på BUP."),
        "conclude": lambda: csvc.concern_conclude_investigation(concern=concern, user=user, outcome="closed"),
        "feedback_initial": lambda: csvc.concern_send_feedback(concern=concern, user=user, kind="initial"),
        "feedback_final": lambda: csvc.concern_send_feedback(concern=concern, user=user, kind="final"),
    }


def concern_in(org, state):
    if state == "draft":
        return make_melding(org, submit=False)
    if state == "consultation draft":
        return make_consultation(org, submit=False)
    if state == "consultation":
        return make_consultation(org)
    if state == "answered":
        concern = make_consultation(org)
        return csvc.consultation_answer(concern=concern, user=org.caseworker, advice="Snakk med foreldrene.")
    if state == "upgraded":
        concern = make_consultation(org)
        csvc.consultation_upgrade(consultation=concern, user=org.reporter, person=make_child(org, **next_child_identity()),
                                  parents_informed=True, child_informed=True)
        return Concern.objects.get(pk=concern.pk)
    melding = make_melding(org)
    if state == "submitted":
        return melding
    base, _sep, feedback = state.partition(" + ")
    concern = advance(melding, org, base)
    for kind in feedback.split(" + ") if feedback else ():
        csvc.concern_send_feedback(concern=concern, user=org.caseworker, kind=kind)
    return Concern.objects.get(pk=concern.pk)


CONCERN_STATES = [
    "draft", "consultation draft", "submitted", "received", "investigating + initial", "investigating", "closed",
    "investigated", "investigated + initial + final", "consultation", "answered", "upgraded",
]


class ConcernOfferedStepsTests:
    @pytest.mark.parametrize("state", CONCERN_STATES)
    def test_it_offers_exactly_the_steps_the_services_accept(self, org, state):
        concern = concern_in(org, state)
        for user in (org.reporter, org.caseworker):
            offered = csvc.STEPS.available(concern, concern_roles(user, concern))
            calls = concern_calls(org, user, concern)
            assert set(calls) == {step.name for step in csvc.STEPS}
            accepted = {name for name, call in calls.items() if not refused(call)}
            assert set(offered) == accepted, (state, user)

    @pytest.mark.parametrize("state", ["submitted", "received", "investigating", "investigated", "consultation"])
    def test_it_shows_the_handler_the_forms_of_the_offered_steps(self, client, org, state):
        concern = concern_in(org, state)
        client.force_login(org.caseworker)
        response = client.get(reverse("concerns:detail", args=[concern.code]))
        offered = csvc.STEPS.available(concern, {"handler"})
        assert set(response.context["action_forms"]) == set(offered)

    def test_it_offers_the_reporter_the_send_button_only_on_a_draft(self, client, org):
        draft, sent = make_melding(org, submit=False), make_melding(org)
        client.force_login(org.reporter)
        send_url = reverse("concerns:send", args=[draft.code])
        assert send_url.encode() in client.get(reverse("concerns:detail", args=[draft.code])).content
        assert b"/send/" not in client.get(reverse("concerns:detail", args=[sent.code])).content


# --- referrals ---------------------------------------------------------------------------------


def referral_calls(ro, user, referral):
    return {
        "route": lambda: rsvc.referral_route(referral=referral, user=user, target_service=ro.tildeling),
        "receive": lambda: rsvc.referral_receive(referral=referral, user=user),
        "decide": lambda: rsvc.referral_accept(referral=referral, user=user),
        "in_progress": lambda: rsvc.referral_set_progress(referral=referral, user=user, status=Referral.Status.IN_PROGRESS),
        "on_hold": lambda: rsvc.referral_set_progress(referral=referral, user=user, status=Referral.Status.ON_HOLD, reason="Venter på lege."),
        "notes": lambda: rsvc.referral_notes_save(referral=referral, user=user, notes="Ringt."),
        "close": lambda: rsvc.referral_close(referral=referral, user=user, completed=True, outcome="Fått bolig."),
        "cancel": lambda: rsvc.referral_cancel(referral=referral, user=user),
        "forward": lambda: rsvc.referral_forward(referral=referral, user=user, target_service=ro.rask),
    }


def referral_in(ro, state):
    routed = state.startswith("routed")
    referral = make_referral(ro, via_coordinator=routed)
    if state == "queued":
        return make_referral(ro, via_coordinator=True)
    if routed:
        referral = rsvc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
    state = state.removeprefix("routed").strip()
    staff = ro.tildeling_staff
    steps = {
        "received": [lambda r: rsvc.referral_receive(referral=r, user=staff)],
        "accepted": ["received", lambda r: rsvc.referral_accept(referral=r, user=staff)],
        "in-progress": ["accepted", lambda r: rsvc.referral_set_progress(referral=r, user=staff, status=Referral.Status.IN_PROGRESS)],
        "on-hold": ["accepted", lambda r: rsvc.referral_set_progress(referral=r, user=staff, status=Referral.Status.ON_HOLD, reason="Venter.")],
        "completed": ["accepted", lambda r: rsvc.referral_close(referral=r, user=staff, completed=True, outcome="Fått bolig.")],
        "rejected": ["received", lambda r: rsvc.referral_decline(referral=r, user=staff, reason="Ikke vår målgruppe.")],
        "forwarded": ["rejected", lambda r: (rsvc.referral_forward(referral=r, user=ro.sender, target_service=ro.rask), r)[1]],
        "cancelled": [lambda r: rsvc.referral_cancel(referral=r, user=ro.sender)],
    }

    def walk(r, name):
        for step in steps.get(name, ()):
            r = walk(r, step) if isinstance(step, str) else step(r)
        return r

    return Referral.objects.get(pk=walk(referral, state).pk)


REFERRAL_STATES = [
    "requested", "queued", "routed", "received", "accepted", "in-progress", "on-hold", "completed",
    "rejected", "routed rejected", "forwarded", "routed forwarded", "cancelled",
]


@pytest.fixture
def ro(db):
    return make_referral_org()


class ReferralOfferedStepsTests:
    @pytest.mark.parametrize("state", REFERRAL_STATES)
    def test_it_offers_exactly_the_steps_the_services_accept(self, ro, state):
        referral = referral_in(ro, state)
        for user in (ro.sender, ro.coordinator, ro.tildeling_staff, ro.rask_staff):
            offered = rsvc.STEPS.available(referral, referral_roles(user, referral))
            calls = referral_calls(ro, user, referral)
            assert set(calls) == {step.name for step in rsvc.STEPS if not step.system}  # system steps: no page offers them
            accepted = {name for name, call in calls.items() if not refused(call)}
            assert set(offered) == accepted, (state, user.username)

    @pytest.mark.parametrize("state", ["requested", "queued", "received", "accepted", "on-hold", "routed rejected"])
    def test_it_shows_the_forms_of_the_offered_steps(self, client, ro, state):
        referral = referral_in(ro, state)
        for user in (ro.sender, ro.coordinator, ro.tildeling_staff):
            roles = referral_roles(user, referral)
            if not roles:
                continue
            client.force_login(user)
            response = client.get(reverse("referrals:detail", args=[referral.code]))
            offered = rsvc.STEPS.available(referral, roles)
            expected = {"progress" if name in ("in_progress", "on_hold") else name for name in offered}
            assert set(response.context["action_forms"]) == expected, (state, user.username)

    def test_it_offers_only_the_other_progress_status(self, client, ro):
        referral = referral_in(ro, "on-hold")
        client.force_login(ro.tildeling_staff)
        form = client.get(reverse("referrals:detail", args=[referral.code])).context["action_forms"]["progress"]
        assert [value for value, _label in form.fields["status"].choices] == [Referral.Status.IN_PROGRESS]


# --- the skeleton ------------------------------------------------------------------------------


def everything(concern):
    """What a refused step must leave untouched."""
    return {
        "concern": Concern.objects.filter(pk=concern.pk).values().get(),
        "log": AccessLog.objects.count(),
        "reminders": list(Reminder.objects.order_by("pk").values("pk", "sent_at", "cancelled_at")),
        "deadlines": list(Deadline.objects.order_by("pk").values()),
        "feedback": ConcernFeedback.objects.count(),
        "tasks": tasks(concern),
    }


class StepSkeletonTests:
    @pytest.mark.parametrize("state, call", [
        ("submitted", lambda org, c: csvc.concern_confirm_receipt(concern=c, user=org.caseworker, version="1.0")),
        ("received", lambda org, c: csvc.concern_review(concern=c, user=org.caseworker, decision="investigate", version="1.0")),
        ("closed", lambda org, c: csvc.concern_send_feedback(concern=c, user=org.caseworker, kind="initial", version="1.0")),
        ("investigating", lambda org, c: csvc.concern_conclude_investigation(concern=c, user=org.caseworker, outcome="closed", version="1.0")),
        ("investigating", lambda org, c: csvc.concern_extend_investigation(concern=c, user=org.caseworker, reason="Venter.", version="1.0")),
    ])
    def test_it_changes_nothing_on_a_stale_version(self, org, state, call):
        concern = concern_in(org, state)
        before = everything(concern)
        with pytest.raises(ValidationError) as raised:
            call(org, concern)
        assert raised.value.code == "stale"
        assert everything(concern) == before

    def test_it_audits_the_step_under_the_acting_service(self, org):
        concern = make_melding(org)
        csvc.concern_confirm_receipt(concern=concern, user=org.caseworker, version=csvc.concern_version(concern))
        row = AccessLog.objects.order_by("-pk").first()
        assert (row.user, row.service, row.action, row.purpose, row.person) == (
            org.caseworker, org.barnevern, "update", "receipt confirmed", concern.person,
        )

    def test_it_completes_the_task_and_meets_the_deadline(self, org):
        concern = make_melding(org)
        csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert tasks(concern)["receipt"] == STATUS.DONE
        assert Deadline.objects.get(subject_id=concern.pk, policy__process="concern", policy__step="receipt").met_at is not None

    def test_it_undoes_the_change_when_the_task_cannot_be_completed(self, org):
        concern = make_melding(org)
        ConcernFlow.task_class.objects.filter(process=concern.process, flow_task=ConcernFlow.receipt).update(status=STATUS.CANCELED)
        with pytest.raises(ValidationError) as raised:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert raised.value.code == "out_of_order"
        concern.refresh_from_db()
        assert (concern.status, concern.received_at) == (Concern.Status.SUBMITTED, None)
        assert not AccessLog.objects.filter(purpose="receipt confirmed").exists()

    def test_it_refuses_a_non_member_before_telling_the_status(self, org):
        concern = advance(make_melding(org), org, "investigated")
        with pytest.raises(ValidationError) as raised:
            csvc.concern_confirm_receipt(concern=concern, user=org.reporter)
        assert raised.value.code == "not_member"

    def test_it_refuses_an_activation_of_another_task(self, org):
        concern = advance(make_melding(org), org, "received")
        review = ConcernFlow.task_class.objects.get(process=concern.process, flow_task=ConcernFlow.review)
        activation = ConcernFlow.review.activation_class(review)
        with transaction.atomic(), pytest.raises(ValueError):
            task_complete(ConcernFlow, concern.process, "conclude", org.caseworker, activation)
        assert tasks(concern)["review"] == STATUS.NEW

    def test_it_leaves_a_refused_task_page_step_open(self, client, org):
        concern = advance(make_melding(org), org, "received")
        task = ConcernFlow.task_class.objects.get(process=concern.process, flow_task=ConcernFlow.review)
        kwargs = {"process_pk": concern.process.pk, "task_pk": task.pk}
        client.force_login(org.caseworker)
        client.post(reverse("workflow:flows:concern:review:assign", kwargs=kwargs), {})
        before = everything(concern)
        response = client.post(reverse("workflow:flows:concern:review:execute", kwargs=kwargs),
                               {"decision": "close", "justification": "", "version": csvc.concern_version(concern)})
        assert response.status_code == 422
        assert everything(concern) == before
        assert ConcernFlow.task_class.objects.get(pk=task.pk).status == STATUS.ASSIGNED


class StepDeclarationTests:
    @pytest.mark.parametrize("process", processes.processes(), ids=lambda p: p.name)
    def test_it_completes_every_human_task_of_the_flow_by_exactly_one_step(self, process):
        services = importlib.import_module(f"workflows.{process.name}.services")
        human = {node.name for node in process.flow_class().instance.nodes() if isinstance(node, View)}
        completing = [step.node for step in services.STEPS if step.node]
        assert sorted(completing) == sorted(human)

    @pytest.mark.parametrize("process", processes.processes(), ids=lambda p: p.name)
    def test_it_keeps_no_copy_of_the_skeleton_in_a_process(self, process):
        services = importlib.import_module(f"workflows.{process.name}.services")
        defined = {name for name, _obj in inspect.getmembers(services, inspect.isfunction) if _obj.__module__ == services.__name__}
        assert not defined & {"_lock", "_require_status", "_require_member", "_require_fresh", "_complete", "_complete_task"}
        assert services.STEPS.process == process.name

    @pytest.mark.parametrize("module", [
        "workflows.concern.views", "workflows.referral.views", "workflows.task_views", "workflows.views_consent",
        "workflows.views_break_glass", "consent.views", "consent.views_access_request", "audit.views", "notifications.views",
        "accounts.views",
    ])
    def test_it_leaves_every_transaction_to_the_services(self, module):
        source = inspect.getsource(importlib.import_module(module))
        assert "atomic" not in source and "import transaction" not in source


class OneNamePerStepTests:
    """A step, its flow node and its task page share one name; deadline policies name the clocks
    a step stops and starts (Step.meets and Step.opens)."""

    def test_it_names_each_task_step_after_its_flow_node(self):
        for process in processes.processes():
            services = importlib.import_module(f"workflows.{process.name}.services")
            views = {node.name for node in process.flow_class().instance.nodes() if isinstance(node, View)}
            task_steps = {step.name for step in services.STEPS if step.task}
            assert task_steps == views, process.name
            assert all(step.node == step.name for step in services.STEPS if step.task)

    def test_it_takes_the_task_pages_step_from_the_flow_node(self, org, client):
        concern = make_melding(org)
        task = concern.process.task_set.get(flow_task_type="HUMAN", status=STATUS.NEW)
        client.force_login(org.caseworker)
        url = reverse("workflow:flows:concern:receipt:execute", kwargs={"process_pk": concern.process.pk, "task_pk": task.pk})
        client.post(reverse("workflow:flows:concern:receipt:assign", kwargs={"process_pk": concern.process.pk, "task_pk": task.pk}), {})

        response = client.get(url)

        assert response.status_code == 200
        assert response.context["step"] == "receipt"


class SystemStepTests:
    """Steps the platform takes on an event (a consent withdrawn, a legal basis refused): the same
    skeleton, with the acting service given, never offered on a page."""

    def test_it_refuses_a_system_step_without_its_acting_service_and_a_member_step_with_one(self):
        referral = make_referral(make_referral_org())
        with pytest.raises(ValueError):
            with rsvc.WITHDRAWN.run(referral, user=None):
                pass
        with pytest.raises(ValueError):
            with rsvc.CANCEL.run(referral, user=referral.created_by, acting_service=referral.sender_service):
                pass

    def test_it_never_offers_a_system_step(self):
        ro = make_referral_org()
        referral = make_referral(ro)
        for user in (ro.sender, ro.coordinator):
            offered = rsvc.STEPS.available(referral, referral_roles(user, referral))
            assert not {"withdrawn", "basis_refused"} & set(offered)

    def test_it_refuses_a_declaration_that_mixes_the_two(self):
        with pytest.raises(ValueError):
            rsvc.STEPS.add("odd", system=True, actors=("sender_service",), statuses=(), purpose="x")
        with pytest.raises(ValueError):
            rsvc.STEPS.add("odd", actors=("sender_service",), statuses=(), purpose="x")
