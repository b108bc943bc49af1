"""Bad input, through the pages and through the services: a clear error, nothing changed, never a 500.

Personas: ``reporter`` (Solsiden barnehage), ``caseworker`` and ``bv_leader`` (Barneverntjenesten).
Errors are asserted by field and code, not by wording (the UI language is Norwegian).
"""
import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from viewflow.workflow.status import STATUS

from people.models import Person
from referrals.models import Concern, ConcernFeedback
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from workflows.flows.concern import ConcernFlow
from workflows.concern import services as svc
from workflows.services.deadlines import deadline_for
from tests.factories import advance, make_consultation, make_melding

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
VALID_FNR = synthetic_national_id(datetime.date(2020, 1, 15), start=600)
# The same number with its last check digit changed: the checksum no longer holds.
BAD_CHECKSUM_FNR = VALID_FNR[:-1] + str((int(VALID_FNR[-1]) + 1) % 10)


def melding_post(org, **overrides):
    data = {
        "kind": "melding", "reporting_service": org.barnehage.pk, "receiving_service": org.barnevern.pk,
        "given_name": "Emma", "family_name": "Test", "national_id": VALID_FNR, "birth_date": "",
        "observations": "Mor virket beruset ved levering.", "categories": ["parent_intoxicated"],
        "urgency": "normal", "parents_informed": "yes", "child_informed": "yes", "not_informed_reason": "",
        "send": "1",
    }
    data.update(overrides)
    return data


def consultation_post(org, **overrides):
    data = {
        "kind": "consultation", "reporting_service": org.barnehage.pk, "receiving_service": org.barnevern.pk,
        "child_age": "5", "observations": "En gutt sier at pappa sover mye.", "categories": ["parental_substance_use"],
        "urgency": "normal", "send": "1",
    }
    data.update(overrides)
    return data


def counts():
    return Person.objects.count(), Concern.objects.count()


def action(client, concern, name, **data):
    """POST a handling form as the page does: with the version the page was rendered from."""
    data.setdefault("version", svc.concern_version(Concern.objects.get(pk=concern.pk)))
    return client.post(reverse("concerns:action", args=[concern.code, name]), data)


def action_form(response, key):
    return response.context["action_forms"][key]


def error_messages(response):
    return [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


class NationalIdTests:
    def test_it_rejects_a_wrong_checksum_on_the_form(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), melding_post(org, national_id=BAD_CHECKSUM_FNR))
        assert response.status_code == 422
        assert response.context["form"].has_error("national_id", code="invalid_national_id")

    def test_it_saves_nothing_for_a_wrong_checksum(self, client, org):
        client.force_login(org.reporter)
        before = counts()
        client.post(reverse("concerns:create"), melding_post(org, national_id=BAD_CHECKSUM_FNR))
        assert counts() == before

    def test_it_accepts_the_same_form_with_a_valid_number(self, client, org):
        client.force_login(org.reporter)
        people, concerns = counts()
        response = client.post(reverse("concerns:create"), melding_post(org))
        assert response.status_code == 302
        assert counts() == (people + 1, concerns + 1)
        assert Concern.objects.get(person__national_id=VALID_FNR).status == Concern.Status.SUBMITTED

    def test_it_refuses_a_wrong_checksum_in_the_service(self, org):
        before = counts()
        with pytest.raises(ValidationError) as raised:
            person_get_or_create(user=org.reporter, given_name="Emma", national_id=BAD_CHECKSUM_FNR)
        assert raised.value.code == "invalid_national_id"
        assert counts() == before

    def test_it_refuses_a_birth_date_that_contradicts_the_number(self, org):
        with pytest.raises(ValidationError) as raised:
            person_get_or_create(user=org.reporter, given_name="Emma", national_id=VALID_FNR, birth_date=datetime.date(2020, 1, 16))
        assert "birth_date" in raised.value.error_dict
        assert not Person.objects.filter(national_id=VALID_FNR).exists()

    def test_it_refuses_a_birth_date_in_the_future_on_the_form(self, client, org):
        client.force_login(org.reporter)
        before = counts()
        tomorrow = (datetime.date.today() + timedelta(days=2)).isoformat()
        response = client.post(reverse("concerns:create"), melding_post(org, national_id="", birth_date=tomorrow))
        assert response.status_code == 422
        assert response.context["form"].has_error("birth_date")
        assert counts() == before


class AnonymousConsultationTests:
    @pytest.mark.parametrize("text", [
        f"Barnet ({VALID_FNR}) sier at mor drikker.",
        f"Barnet {VALID_FNR[:6]} {VALID_FNR[6:]} sier at mor drikker.",
        f"Barnet {BAD_CHECKSUM_FNR} sier at mor drikker.",
    ])
    def test_it_refuses_an_identity_number_in_the_text(self, client, org, text):
        client.force_login(org.reporter)
        before = counts()
        response = client.post(reverse("concerns:create"), consultation_post(org, observations=text))
        assert response.status_code == 422
        assert response.context["form"].has_error("observations")
        assert counts() == before

    def test_it_refuses_an_identity_number_in_the_service(self, org):
        before = counts()
        with pytest.raises(ValidationError) as raised:
            make_consultation(org, observations=f"Gjelder {VALID_FNR}.")
        assert "observations" in raised.value.error_dict
        assert counts() == before

    def test_it_refuses_a_name_in_an_anonymous_consultation(self, client, org):
        client.force_login(org.reporter)
        before = counts()
        response = client.post(reverse("concerns:create"), consultation_post(org, given_name="Emma"))
        assert response.status_code == 422
        assert response.context["form"].has_error("given_name")
        assert counts() == before

    def test_it_accepts_an_anonymous_consultation_without_identity(self, client, org):
        client.force_login(org.reporter)
        people, concerns = counts()
        response = client.post(reverse("concerns:create"), consultation_post(org))
        assert response.status_code == 302
        assert counts() == (people, concerns + 1)

    def test_it_refuses_advice_that_contains_an_identity_number(self, org):
        consultation = make_consultation(org)
        with pytest.raises(ValidationError):
            svc.consultation_answer(concern=consultation, user=org.caseworker, advice=f"Meld saken om {VALID_FNR}.")
        consultation.refresh_from_db()
        assert (consultation.status, consultation.advice) == (Concern.Status.SUBMITTED, "")


class ClosingDecisionTests:
    def test_it_refuses_to_close_without_a_justification_on_the_page(self, client, org):
        concern = advance(make_melding(org), org, "received")
        client.force_login(org.caseworker)
        response = action(client, concern, "review", decision="close", justification="  ")
        assert response.status_code == 422
        assert action_form(response, "review").has_error("justification")

    def test_it_leaves_the_status_unchanged_when_closing_is_refused(self, client, org):
        concern = advance(make_melding(org), org, "received")
        client.force_login(org.caseworker)
        action(client, concern, "review", decision="close", justification="")
        concern.refresh_from_db()
        assert (concern.status, concern.review_decision, concern.reviewed_at) == (Concern.Status.RECEIVED, "", None)

    def test_it_refuses_to_close_without_a_justification_in_the_service(self, org):
        concern = advance(make_melding(org), org, "received")
        with pytest.raises(ValidationError) as raised:
            svc.concern_review(concern=concern, user=org.caseworker, decision="close", justification="")
        assert "justification" in raised.value.error_dict
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED

    def test_it_keeps_the_review_task_open_when_closing_is_refused(self, org):
        concern = advance(make_melding(org), org, "received")
        with pytest.raises(ValidationError):
            svc.concern_review(concern=concern, user=org.caseworker, decision="close", justification="")
        review = ConcernFlow.task_class.objects.get(process=concern.process, flow_task=ConcernFlow.review)
        assert review.status == STATUS.NEW

    def test_it_refuses_to_close_without_a_justification_on_the_task_page(self, client, org):
        concern = advance(make_melding(org), org, "received")
        task = ConcernFlow.task_class.objects.get(process=concern.process, flow_task=ConcernFlow.review)
        kwargs = {"process_pk": concern.process.pk, "task_pk": task.pk}
        client.force_login(org.caseworker)
        client.post(reverse("workflow:flows:concern:review:assign", kwargs=kwargs), {})
        response = client.post(
            reverse("workflow:flows:concern:review:execute", kwargs=kwargs),
            {"decision": "close", "justification": "", "version": svc.concern_version(concern)},
        )
        assert response.status_code == 422
        assert response.context["form"].has_error("justification")
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED

    def test_it_refuses_an_unknown_decision(self, client, org):
        concern = advance(make_melding(org), org, "received")
        client.force_login(org.caseworker)
        response = action(client, concern, "review", decision="forget-it", justification="x")
        assert response.status_code == 422
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED


class ExtensionInputTests:
    def test_it_refuses_an_extension_without_a_reason_on_the_page(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        due_before = deadline_for(concern, "investigation", process="concern").due_at
        client.force_login(org.caseworker)
        response = action(client, concern, "extend", reason="", until="")
        assert response.status_code == 422
        assert action_form(response, "extend").has_error("reason")
        assert deadline_for(concern, "investigation", process="concern").due_at == due_before

    def test_it_refuses_a_malformed_date(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        due_before = deadline_for(concern, "investigation", process="concern").due_at
        client.force_login(org.caseworker)
        response = action(client, concern, "extend", reason="Venter på BUP", until="31.02.2026")
        assert response.status_code == 422
        assert action_form(response, "extend").has_error("until")
        assert deadline_for(concern, "investigation", process="concern").due_at == due_before

    def test_it_refuses_a_new_deadline_earlier_than_the_current_one(self, org):
        concern = advance(make_melding(org), org, "investigating")
        deadline = deadline_for(concern, "investigation", process="concern")
        with pytest.raises(ValidationError) as raised:
            svc.concern_extend_investigation(
                concern=concern, user=org.caseworker, reason="Venter på BUP", until=deadline.due_at.date() - timedelta(days=3)
            )
        assert "until" in raised.value.error_dict
        assert deadline_for(concern, "investigation", process="concern").due_at == deadline.due_at


class OutOfOrderTests:
    def test_it_refuses_a_review_before_receipt(self, org):
        concern = make_melding(org)
        with pytest.raises(ValidationError) as raised:
            svc.concern_review(concern=concern, user=org.caseworker, decision="investigate")
        assert raised.value.code == "out_of_order"
        concern.refresh_from_db()
        assert (concern.status, concern.reviewed_at) == (Concern.Status.SUBMITTED, None)

    def test_it_refuses_a_review_before_receipt_on_the_page(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        response = action(client, concern, "review", decision="investigate", justification="")
        assert response.status_code == 422
        assert action_form(response, "review").non_field_errors()
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED

    def test_it_refuses_to_confirm_receipt_twice(self, org):
        with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), tick=False) as traveller:
            concern = advance(make_melding(org), org, "received")
            traveller.shift(timedelta(hours=2))
            with pytest.raises(ValidationError) as raised:
                svc.concern_confirm_receipt(concern=concern, user=org.bv_leader)
        assert raised.value.code == "out_of_order"
        concern.refresh_from_db()
        assert (concern.received_at, concern.received_by) == (datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), org.caseworker)

    def test_it_refuses_to_confirm_receipt_twice_on_the_page(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        assert action(client, concern, "receipt").status_code == 302
        received_at = Concern.objects.get(pk=concern.pk).received_at
        response = action(client, concern, "receipt")
        assert response.status_code == 422
        assert Concern.objects.get(pk=concern.pk).received_at == received_at

    def test_it_refuses_to_send_a_melding_twice(self, client, org):
        concern = make_melding(org)
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:send", args=[concern.code]), {"version": ""})
        assert response.status_code == 302
        assert error_messages(response)
        assert ConcernFlow.process_class.objects.filter(concern=concern).count() == 1
        assert Concern.objects.get(pk=concern.pk).submitted_at == concern.submitted_at

    def test_it_refuses_to_conclude_a_closed_melding(self, org):
        concern = advance(make_melding(org), org, "closed")
        with pytest.raises(ValidationError):
            svc.concern_conclude_investigation(concern=concern, user=org.caseworker, outcome="measures")
        concern.refresh_from_db()
        assert (concern.status, concern.investigation_ended_at) == (Concern.Status.CLOSED, None)

    def test_it_refuses_final_feedback_before_the_investigation_ends(self, org):
        concern = advance(make_melding(org), org, "investigating")
        with pytest.raises(ValidationError):
            svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="final")
        assert not ConcernFeedback.objects.filter(concern=concern).exists()

    def test_it_refuses_feedback_before_receipt(self, org):
        concern = make_melding(org)
        with pytest.raises(ValidationError):
            svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial")
        assert not ConcernFeedback.objects.filter(concern=concern).exists()

    def test_it_refuses_the_first_feedback_before_the_review_decision(self, org):
        """§ 13-2: the first feedback tells the reporter whether an investigation was opened."""
        concern = advance(make_melding(org), org, "received")
        with pytest.raises(ValidationError) as raised:
            svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial")
        assert raised.value.code == "out_of_order"
        assert not ConcernFeedback.objects.filter(concern=concern).exists()

    def test_it_refuses_the_same_feedback_twice(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        client.force_login(org.caseworker)
        assert action(client, concern, "feedback", kind="initial", message="Mottatt.").status_code == 302
        response = action(client, concern, "feedback", kind="initial", message="Mottatt igjen.")
        assert response.status_code == 422
        assert list(ConcernFeedback.objects.filter(concern=concern).values_list("message", flat=True)) == ["Mottatt."]

    def test_it_refuses_to_upgrade_a_melding(self, org):
        melding = make_melding(org)
        with pytest.raises(ValidationError):
            svc.consultation_upgrade(consultation=melding, user=org.reporter, person=melding.person, parents_informed=True, child_informed=True)
        assert Concern.objects.get(pk=melding.pk).status == Concern.Status.SUBMITTED

    def test_it_refuses_a_handling_step_by_the_reporter(self, org):
        concern = make_melding(org)
        with pytest.raises(ValidationError):
            svc.concern_confirm_receipt(concern=concern, user=org.reporter)
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED


class StaleFormTests:
    def test_it_refuses_a_conclusion_from_a_stale_page(self, client, org):
        with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), tick=False) as traveller:
            concern = advance(make_melding(org), org, "investigating")
            stale_version = svc.concern_version(concern)
            traveller.shift(timedelta(minutes=5))
            svc.concern_send_feedback(concern=concern, user=org.bv_leader, kind="initial")
            client.force_login(org.caseworker)
            response = action(client, concern, "conclude", outcome="closed", summary="", version=stale_version)
        assert response.status_code == 422
        assert action_form(response, "conclude").has_error("__all__", code="stale")
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.INVESTIGATING

    def test_it_refuses_a_stale_version_in_the_service(self, org):
        concern = advance(make_melding(org), org, "received")
        with pytest.raises(ValidationError) as raised:
            svc.concern_review(concern=concern, user=org.caseworker, decision="investigate", version="1234.5")
        assert raised.value.code == "stale"
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED

    def test_it_refuses_a_stale_draft_edit(self, org):
        with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), tick=False) as traveller:
            draft = make_melding(org, submit=False)
            stale_version = svc.concern_version(draft)
            traveller.shift(timedelta(minutes=1))
            svc.concern_draft_update(concern=draft, user=org.reporter, version=stale_version, observations="Ny tekst.")
            with pytest.raises(ValidationError) as raised:
                svc.concern_draft_update(concern=draft, user=org.reporter, version=stale_version, observations="Eldre tekst.")
        assert raised.value.code == "stale"
        assert Concern.objects.get(pk=draft.pk).observations == "Ny tekst."

    def test_it_refuses_to_send_a_draft_from_a_stale_page(self, client, org):
        with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), tick=False) as traveller:
            draft = make_melding(org, submit=False)
            stale_version = svc.concern_version(draft)
            traveller.shift(timedelta(minutes=1))
            svc.concern_draft_update(concern=draft, user=org.reporter, version=stale_version, observations="Ny tekst.")
            client.force_login(org.reporter)
            response = client.post(reverse("concerns:send", args=[draft.code]), {"version": stale_version})
        assert response.status_code == 302
        assert error_messages(response)
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT

    def test_it_sends_a_draft_with_the_version_the_page_rendered(self, client, org):
        draft = make_melding(org, submit=False)
        client.force_login(org.reporter)
        page = client.get(reverse("concerns:detail", args=[draft.code])).content.decode()
        version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
        response = client.post(reverse("concerns:send", args=[draft.code]), {"version": version})
        assert response.status_code == 302
        assert not error_messages(response)
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.SUBMITTED


class NeverServerErrorTests:
    @pytest.mark.parametrize("name,data", [
        ("review", {"decision": ""}),
        ("extend", {"reason": "x" * 5000, "until": "2026-13-40"}),
        ("conclude", {"outcome": "nobody-knows"}),
        ("feedback", {"kind": "bogus", "message": "x"}),
        ("feedback", {}),
        ("answer", {"advice": ""}),
        ("receipt", {"version": "not-a-number"}),
    ])
    def test_it_answers_garbage_with_a_client_error(self, client, org, name, data):
        concern = advance(make_melding(org), org, "received")
        client.force_login(org.caseworker)
        response = action(client, concern, name, **data)
        assert 400 <= response.status_code < 500
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.RECEIVED

    def test_it_answers_404_to_an_unknown_action(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        assert action(client, concern, "delete-everything").status_code == 404

    def test_it_answers_405_to_a_get_on_an_action(self, client, org):
        concern = make_melding(org)
        client.force_login(org.caseworker)
        assert client.get(reverse("concerns:action", args=[concern.code, "receipt"])).status_code == 405
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED

    @pytest.mark.parametrize("overrides", [
        {"categories": ["not-a-category"]},
        {"kind": "gossip"},
        {"reporting_service": "999999"},
        {"receiving_service": "abc"},
        {"parents_informed": "maybe"},
        {"national_id": "1" * 14},
        {"child_age": "-4", "kind": "consultation", "national_id": "", "given_name": "", "family_name": ""},
        {"observations": ""},
    ])
    def test_it_rerenders_the_concern_form_on_garbage(self, client, org, overrides):
        client.force_login(org.reporter)
        before = counts()
        response = client.post(reverse("concerns:create"), melding_post(org, **overrides))
        assert response.status_code == 422
        assert response.context["form"].errors
        assert counts() == before

    def test_it_refuses_to_report_from_another_barnehage(self, client, org):
        client.force_login(org.reporter)
        before = counts()
        response = client.post(reverse("concerns:create"), melding_post(org, reporting_service=org.other_barnehage.pk))
        assert response.status_code == 422
        assert response.context["form"].has_error("reporting_service")
        assert counts() == before

    def test_it_rerenders_the_upgrade_form_on_a_wrong_checksum(self, client, org):
        consultation = make_consultation(org)
        client.force_login(org.reporter)
        before = counts()
        response = client.post(reverse("concerns:upgrade", args=[consultation.code]), {
            "national_id": BAD_CHECKSUM_FNR, "given_name": "Emma", "parents_informed": "yes", "child_informed": "yes",
        })
        assert response.status_code == 422
        assert response.context["form"].has_error("national_id", code="invalid_national_id")
        assert counts() == before
        assert Concern.objects.get(pk=consultation.pk).status == Concern.Status.SUBMITTED
