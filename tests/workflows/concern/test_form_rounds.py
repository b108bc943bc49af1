"""One round of errors (issue 7, point 6): the concern form reports every missing answer at once,
and marks the questions that must be answered.

Personas: ``reporter`` (Solsiden barnehage).
"""
import re

import pytest
from django.urls import reverse

from people.models import Person
from referrals.models import Concern
from tests.factories import make_consultation
from tests.workflows.concern.test_bad_input import VALID_FNR
from workflows.concern import services as svc

pytestmark = pytest.mark.django_db


def empty_post(org, kind="melding", **extra):
    return {"kind": kind, "reporting_service": org.barnehage.pk, "receiving_service": org.barnevern.pk, "send": "1", **extra}


def counts():
    return Person.objects.count(), Concern.objects.count()


class OneRoundTests:
    def test_it_reports_every_missing_answer_of_an_empty_melding_at_once(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), empty_post(org))
        assert response.status_code == 422
        assert {"given_name", "birth_date", "observations", "categories", "urgency", "parents_informed", "child_informed"} <= set(
            response.context["form"].errors
        )
        assert counts() == (0, 0)

    def test_it_asks_why_not_in_the_same_round_as_the_name(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), empty_post(
            org, national_id=VALID_FNR, observations="Sliten.", categories=["neglect"], urgency="normal",
            parents_informed="no", child_informed="yes",
        ))
        assert response.status_code == 422
        assert set(response.context["form"].errors) == {"given_name", "not_informed_reason"}

    def test_it_sends_the_melding_once_every_answer_is_given(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), empty_post(
            org, national_id=VALID_FNR, given_name="Emma", observations="Sliten.", categories=["neglect"], urgency="normal",
            parents_informed="no", child_informed="yes", not_informed_reason="Fare for barnet.",
        ))
        assert response.status_code == 302
        assert Concern.objects.get().status == Concern.Status.SUBMITTED

    def test_it_reports_every_missing_answer_of_an_empty_consultation_at_once(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), empty_post(org, kind="consultation", observations=f"Eleven har nummer {VALID_FNR}."))
        assert response.status_code == 422
        # The identity number in the text is named in the same round as the missing answers.
        assert {"observations", "categories", "urgency"} <= set(response.context["form"].errors)
        assert not {"given_name", "parents_informed"} & set(response.context["form"].errors)

    def test_it_reports_every_missing_answer_of_the_upgrade_at_once(self, client, org):
        consultation = make_consultation(org)
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:upgrade", args=[consultation.code]), {"parents_informed": "no"})
        assert response.status_code == 422
        assert {"given_name", "birth_date", "child_informed", "not_informed_reason"} <= set(response.context["form"].errors)

    def test_it_shows_an_incomplete_draft_sent_from_its_page_with_every_missing_answer(self, client, org):
        draft = svc.concern_draft_create(user=org.reporter, kind=Concern.Kind.MELDING, reporting_service=org.barnehage,
                                         receiving_service=org.barnevern)
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:send", args=[draft.code]), {"version": svc.concern_version(draft)})
        assert response.status_code == 422
        assert {"given_name", "birth_date", "observations", "categories", "parents_informed", "child_informed"} <= set(
            response.context["form"].errors
        )
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT
        # The form it shows saves to the draft's edit page, not back to "send".
        assert f'action="{reverse("concerns:edit", args=[draft.code])}"' in response.content.decode()

    def test_it_refuses_to_send_an_incomplete_draft_through_the_service(self, org):
        draft = svc.concern_draft_create(user=org.reporter, kind=Concern.Kind.MELDING, reporting_service=org.barnehage,
                                         receiving_service=org.barnevern, observations="Sliten.")
        with pytest.raises(Exception) as raised:
            svc.concern_submit(concern=draft, user=org.reporter)
        assert {"person", "categories", "parents_informed", "child_informed"} <= set(raised.value.error_dict)
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT


def label_of(html, field_id):
    """The <label> (or <legend>) of a field, by the id it is for."""
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', html, re.S)
    return match.group(1) if match else ""


class RequiredMarkTests:
    def test_it_marks_the_required_questions_and_explains_the_mark(self, client, org):
        client.force_login(org.reporter)
        html = client.get(reverse("concerns:create")).content.decode()
        assert 'data-testid="required-legend"' in html
        for field_id in ("id_given_name", "id_observations"):
            label = label_of(html, field_id)
            assert 'class="sh-required-mark" aria-hidden="true">*' in label
            assert label.rstrip().endswith("</span>"), "the mark follows the label and its colon"
        for field_id in ("id_family_name", "id_national_id", "id_not_informed_reason"):
            assert "sh-required-mark" not in label_of(html, field_id)

    def test_it_says_required_to_assistive_technology(self, client, org):
        client.force_login(org.reporter)
        html = client.get(reverse("concerns:create")).content.decode()
        given = re.search(r'<input[^>]*name="given_name"[^>]*>', html).group(0)
        assert " required" in given and 'aria-required="true"' in given
        radios = re.findall(r'<input[^>]*name="parents_informed"[^>]*>', html)
        assert radios and all(" required" in r and "aria-required" not in r for r in radios)
        # A group of checkboxes has no required attribute: its legend says it in words.
        legend = re.search(r'<legend>((?:(?!</legend>).)*)</legend>\s*<div id="id_categories">', html, re.S)
        assert legend and "sh-visually-hidden" in legend.group(1)

    def test_it_keeps_the_marks_on_a_draft_returned_with_an_error(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), {**empty_post(org, national_id="123"), "send": "", "draft": "1"})
        assert response.status_code == 422
        assert "sh-required-mark" in label_of(response.content.decode(), "id_observations")

