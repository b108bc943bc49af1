"""The process registry (issue 13, point 3): every cross-process list reads workflows.processes.

Today is frozen at Tuesday 1 September 2026, 10:00. The persons and services:
- Sara, 17, consented to sharing with Rask psykisk helsehjelp; the nurse in Skolehelsetjenesten
  referred her there on that consent and later records that she withdrew it
- the caseworker in Barneverntjenesten receives concerns; the reporter in Solsiden barnehage files them
- the coordinator in Rådgivning rus og psykisk helse routes referrals
- "school_absence", a made-up process that does not exist: registered in a test as resting on consent,
  to show the withdrawal cascade and the menu pick up a new entry without any other list
"""
import dataclasses
import importlib
import pkgutil

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AccessLog
from config.context_processors import navigation
from consent.models import Consent, Disclosure
from referrals.models import Referral
from tests.factories import make_consent
from tests.referral_scenario import frozen_now, sara, svc  # noqa: F401 (fixtures)
from workflows import processes as registry
from workflows.checks import node_problems, registry_problems
from workflows.processes import process_named
from workflows.referral.services import HANDLER, referral_send
from workflows.withdrawal import consent_withdraw_cascade

HOOK = "tests.workflows.test_processes.absences_end"
MENU = "tests.workflows.test_processes.absence_menu"

calls = []


def absences_end(*, consent, user, revoked):
    """The withdrawal hook of the made-up "school_absence" process: records what it was given and
    what the database looked like at that moment."""
    calls.append({
        "consent": consent, "user": user, "revoked": list(revoked),
        "in_transaction": transaction.get_connection().in_atomic_block,
        "withdrawn_in_db": Consent.objects.get(pk=consent.pk).withdrawn_at is not None,
    })
    return ["school absence ended"]


def absences_refuse(*, consent, user, revoked):
    raise RuntimeError("the school absence case could not be ended")


def absences_open(consent):
    return 0


def absence_menu(facts):
    return {"school_absences": "rustjeneste" in facts.kinds}


def made_up(**changes):
    """A registry entry for a made-up process, shaped like the concern entry (its pages are never mounted)."""
    fields = dict(name="school_absence", rests_on_consent=True, on_consent_withdrawn=HOOK, consent_note="",
                  cases_on_consent=f"{__name__}.absences_open")
    fields.update(changes)
    return dataclasses.replace(process_named("concern"), **fields)


@pytest.fixture(autouse=True)
def no_calls():
    calls.clear()
    yield
    calls.clear()


def flows_on_disk() -> set[str]:
    """Every Flow class defined in a module under workflows/flows/, found without the registry."""
    from viewflow.workflow.flow import Flow

    import workflows.flows as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"workflows.flows.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Flow) and value.__module__ == module.__name__:
                found.add(f"{module.__name__}.{value.__name__}")
    return found


def registry_errors():
    return [e for e in checks.run_checks() if e.id == "workflows.E001"]


class RegistryCompleteTests:
    def test_it_finds_nothing_wrong_with_the_real_registry(self):
        assert registry_problems() == []

    def test_it_has_an_entry_for_every_flow_under_workflows_flows(self):
        assert flows_on_disk() == {p.flow for p in registry.processes()}
        assert flows_on_disk() >= {"workflows.flows.concern.ConcernFlow", "workflows.flows.referral.ReferralFlow",
                                   "workflows.flows.youth_contract.YouthContractFlow", "workflows.flows.individual_plan.IndividualPlanFlow"}

    def test_it_registers_the_processes_in_their_order(self):
        assert [p.name for p in registry.processes()] == ["concern", "referral", "youth_contract", "individual_plan", "brukerplan"]
        assert [p.name for p in registry.processes() if p.rests_on_consent] == ["referral", "youth_contract", "individual_plan"]

    def test_it_imports_every_hook_of_every_entry(self):
        for process in registry.processes():
            assert process.flow_class().__name__.endswith("Flow"), process.name
            assert process.app_class().app_name, process.name
            for hook in (process.access_check(), process.menu_flags(), process.demo_seeder()):
                assert callable(hook), process.name
            if process.rests_on_consent:
                assert callable(process.withdrawal_hook()), process.name

    def test_it_reports_a_node_that_would_write_its_own_task_or_has_an_oncreate_hook(self):
        from types import SimpleNamespace

        from viewflow.workflow.nodes.view import ViewActivation

        from workflows.flows.concern import ConcernFlow

        assert node_problems("ConcernFlow", ConcernFlow.instance.nodes()) == []
        viewflows = SimpleNamespace(name="approve", activation_class=ViewActivation, _on_create=None)
        hooked = SimpleNamespace(name="review", activation_class=ConcernFlow.review.activation_class, _on_create=lambda activation: None)
        assert node_problems("F", [viewflows, hooked]) == [
            "flow F: node 'approve' is not one of workflows.flows.nodes (its task would not be written with the step's)",
            "flow F: node 'review' has an onCreate hook (it would see its task before it is written)",
        ]

    def test_it_reports_a_flow_module_without_an_entry(self):
        without_referral = [p for p in registry.processes() if p.name != "referral"]
        assert registry_problems(without_referral) == [
            "flow workflows.flows.referral.ReferralFlow has no entry in workflows/processes.py",
        ]

    @pytest.mark.parametrize("hook", ["label", "flow_icon", "access", "app", "task_related", "persons", "audit_purposes", "demo", "menu"])
    def test_it_reports_an_entry_lacking_a_required_hook(self, hook):
        empty = () if isinstance(getattr(process_named("concern"), hook), tuple) else ""
        broken = [dataclasses.replace(p, **{hook: empty}) if p.name == "concern" else p for p in registry.processes()]
        assert registry_problems(broken) == [f"process 'concern' lacks {hook!r}"]

    def test_it_reports_an_entry_without_its_flow(self):
        broken = [dataclasses.replace(p, flow="") if p.name == "concern" else p for p in registry.processes()]
        assert registry_problems(broken) == [
            "process 'concern' lacks 'flow'",
            "flow workflows.flows.concern.ConcernFlow has no entry in workflows/processes.py",
        ]

    def test_it_reports_a_process_resting_on_consent_without_a_withdrawal_hook(self):
        broken = [dataclasses.replace(p, on_consent_withdrawn="") if p.name == "referral" else p for p in registry.processes()]
        assert registry_problems(broken) == ["process 'referral' rests on consent but has no 'on_consent_withdrawn' hook"]

    def test_it_reports_a_process_not_resting_on_consent_that_does_not_say_why(self):
        broken = [dataclasses.replace(p, consent_note="") if p.name == "concern" else p for p in registry.processes()]
        assert registry_problems(broken) == [
            "process 'concern' says it never rests on consent without saying why ('consent_note')",
        ]

    @pytest.mark.parametrize("hook, path", [
        ("access", "referrals.access.no_such_check"),
        ("app", "workflows.concern.urls.NoSuchApp"),
        ("demo", "workflows.concern.no_such_module.seed"),
        ("menu", "workflows.concern.urls.no_such_menu"),
        ("flow", "workflows.flows.concern.NoSuchFlow"),
    ])
    def test_it_reports_a_dotted_path_that_does_not_import(self, hook, path):
        broken = [dataclasses.replace(p, **{hook: path}) if p.name == "concern" else p for p in registry.processes()]
        problems = registry_problems(broken)
        assert any(p.startswith(f"process 'concern': {hook} {path!r} does not import") for p in problems), problems

    def test_it_reports_a_withdrawal_hook_that_does_not_import(self):
        path = "workflows.referral.services.no_such_hook"
        broken = [dataclasses.replace(p, on_consent_withdrawn=path) if p.name == "referral" else p for p in registry.processes()]
        problems = registry_problems(broken)
        assert len(problems) == 1 and problems[0].startswith(f"process 'referral': on_consent_withdrawn {path!r} does not import")

    def test_it_reports_a_process_registered_twice(self):
        concern = process_named("concern")
        assert registry_problems([*registry.processes(), concern]) == ["process 'concern' is registered twice"]

    def test_it_accepts_a_new_complete_entry(self):
        assert registry_problems([*registry.processes(), made_up()]) == []


class RegistrySystemCheckTests:
    def test_it_passes_the_system_checks_with_the_real_registry(self):
        assert registry_errors() == []

    def test_it_refuses_to_start_when_a_flow_has_no_entry(self, monkeypatch):
        monkeypatch.setattr(registry, "REGISTRY", [p for p in registry.processes() if p.name != "referral"])
        errors = registry_errors()
        assert [e.msg for e in errors] == ["flow workflows.flows.referral.ReferralFlow has no entry in workflows/processes.py"]
        assert all(e.level == checks.ERROR for e in errors)

    def test_it_refuses_to_start_when_an_entry_lacks_a_hook(self, monkeypatch):
        broken = [dataclasses.replace(p, access="") if p.name == "referral" else p for p in registry.processes()]
        monkeypatch.setattr(registry, "REGISTRY", broken)
        assert [e.msg for e in registry_errors()] == ["process 'referral' lacks 'access'"]


@pytest.fixture
def consent(svc, sara):
    return make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask])


@pytest.fixture
def sent(svc, sara, consent):
    """Sara's referral to Rask, resting on her consent."""
    return referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="mental_health",
                         reason="Sover dårlig og har mye angst.", target_service=svc.rask, consent=consent)


class WithdrawalCascadeTests:
    def test_it_cancels_a_referral_resting_on_the_consent(self, svc, consent, sent):
        ended = consent_withdraw_cascade(consent=consent, user=svc.nurse, note="Sara vil ikke lenger.")
        sent.refresh_from_db()
        assert ended == [sent]
        assert sent.status == Referral.Status.CANCELLED

    def test_it_logs_each_case_it_ends_under_the_withdrawing_service(self, svc, consent, sent):
        consent_withdraw_cascade(consent=consent, user=svc.nurse)

        row = AccessLog.objects.filter(object_type="referrals.referral", object_id=sent.pk).latest("id")
        assert (row.purpose, row.service_id, row.user_id) == ("referral cancelled (consent withdrawn)", svc.helse.pk, svc.nurse.pk)

    def test_it_runs_the_hook_of_every_registered_process_resting_on_consent(self, monkeypatch, svc, consent, sent):
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, made_up()])
        ended = consent_withdraw_cascade(consent=consent, user=svc.nurse)
        assert ended == [Referral.objects.get(pk=sent.pk), "school absence ended"]
        assert len(calls) == 1
        revoked = list(Disclosure.objects.filter(consent=consent))
        assert revoked and all(d.revoked_at is not None for d in revoked)
        assert calls[0]["consent"] == consent and calls[0]["user"] == svc.nurse and calls[0]["revoked"] == revoked

    def test_it_runs_the_hook_inside_the_withdrawal_after_the_consent_is_withdrawn(self, monkeypatch, svc, consent, sent):
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, made_up()])
        consent_withdraw_cascade(consent=consent, user=svc.nurse)
        assert (calls[0]["in_transaction"], calls[0]["withdrawn_in_db"]) == (True, True)

    def test_it_rolls_the_whole_withdrawal_back_when_a_process_cannot_end_its_case(self, monkeypatch, svc, consent, sent):
        refusing = made_up(on_consent_withdrawn="tests.workflows.test_processes.absences_refuse")
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, refusing])
        with pytest.raises(RuntimeError):
            consent_withdraw_cascade(consent=consent, user=svc.nurse)
        consent.refresh_from_db()
        sent.refresh_from_db()
        assert (consent.withdrawn_at, sent.status) == (None, Referral.Status.REQUESTED)
        assert not Disclosure.objects.filter(consent=consent, revoked_at__isnull=False).exists()
        assert get_user_model().objects.get(pk=svc.rask_staff.pk).has_perm(HANDLER, sent)

    def test_it_leaves_a_process_that_does_not_rest_on_consent_alone(self, monkeypatch, svc, consent, sent):
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, made_up(rests_on_consent=False, consent_note="Lov.")])
        ended = consent_withdraw_cascade(consent=consent, user=svc.nurse)
        assert calls == []
        assert ended == [Referral.objects.get(pk=sent.pk)]


class RegistryMountsTests:
    def test_it_mounts_the_pages_of_every_registered_process(self):
        assert reverse("concerns:index")
        assert reverse("referrals:index")
        for process in registry.processes():
            assert reverse(f"{process.app_class().app_name}:index")


def nav_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return dict(navigation(request)["nav"])


class NavigationTests:
    def test_it_shows_a_barnevern_caseworker_the_concerns_received(self, org):
        nav = nav_for(org.caseworker)
        assert (nav["receives_concerns"], nav["reports_concerns"], nav["coordinator"]) == (True, False, False)

    def test_it_shows_a_kindergarten_reporter_the_concerns_filed(self, org):
        nav = nav_for(org.reporter)
        assert (nav["receives_concerns"], nav["reports_concerns"], nav["coordinator"]) == (False, True, False)

    def test_it_shows_a_substance_service_coordinator_the_routing_pages(self, svc):
        nav = nav_for(svc.coordinator)
        # The substance service also has opplysningsplikt, so it may file concerns too.
        assert (nav["receives_concerns"], nav["reports_concerns"], nav["coordinator"]) == (False, True, True)

    def test_it_takes_the_flags_of_every_registered_process(self, monkeypatch, svc):
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, made_up(menu=MENU)])
        assert nav_for(svc.coordinator)["school_absences"] is True
        assert nav_for(svc.nurse)["school_absences"] is False

    def test_it_shows_nothing_to_an_anonymous_visitor(self, db):
        from django.contrib.auth.models import AnonymousUser

        assert nav_for(AnonymousUser()) == {}


class SharedPagesFromTheRegistryTests:
    def test_it_offers_an_emergency_access_to_every_registered_kind_of_case(self, monkeypatch):
        from workflows.forms import BreakGlassForm

        absence = dataclasses.replace(process_named("referral"), name="school_absence", label="Skolefravær")
        monkeypatch.setattr(registry, "REGISTRY", [*registry.REGISTRY, absence])

        kinds = [value for value, _label in BreakGlassForm().fields["kind"].choices]

        assert kinds == ["concern", "referral", "youth_contract", "individual_plan", "brukerplan", "school_absence"]

    def test_it_names_the_case_owner_and_page_through_the_entry(self, svc, consent, sent):
        from workflows.services.break_glass import owner_service

        assert registry.process_for_record(sent).name == "referral"
        assert owner_service(sent) == svc.rask
        assert reverse(registry.process_for_record(sent).record_url, args=[sent.code]).endswith(f"{sent.code}/")

    def test_it_warns_on_the_consent_page_of_every_open_case_resting_on_the_consent(self, monkeypatch, svc, consent, sent):
        from consent import resting
        from consent.views import detail_context

        assert detail_context(RequestFactory().get("/"), consent)["open_cases"] == 1
        monkeypatch.setitem(resting._counters, "youth_contract", lambda c: 2 if c == consent else 0)

        assert detail_context(RequestFactory().get("/"), consent)["open_cases"] == 3
