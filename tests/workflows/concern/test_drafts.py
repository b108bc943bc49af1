"""Drafts (issue 7, point 7): "Save as draft" keeps an incomplete concern, checking only what must
hold to store it; its service edits it, sends it (then everything is checked) or deletes it after
confirming; the melding made from an upgraded consultation is edited the same way.

Personas: ``reporter`` (Solsiden barnehage, the draft's service); ``other_bh_staff`` (another
barnehage) and ``caseworker`` (barnevern), who must get 404 on a draft.
"""
import datetime

import pytest
from django.urls import reverse
from guardian.models import GroupObjectPermission

from audit.models import AccessLog
from people.models import Person, PersonRecord
from referrals.models import Concern
from tests.factories import make_consultation, make_melding
from tests.workflows.concern.test_bad_input import BAD_CHECKSUM_FNR, VALID_FNR
from workflows.concern import services as svc

pytestmark = pytest.mark.django_db


def draft_post(org, **fields):
    return {"kind": "melding", "reporting_service": org.barnehage.pk, "receiving_service": org.barnevern.pk, "draft": "1", **fields}


def complete(**overrides):
    data = {
        "given_name": "Emma", "family_name": "Test", "national_id": VALID_FNR, "birth_date": "",
        "observations": "Mor virket beruset ved levering.", "categories": ["parent_intoxicated"], "urgency": "normal",
        "parents_informed": "yes", "child_informed": "yes", "not_informed_reason": "",
    }
    data.update(overrides)
    return data


def edit(client, concern, **data):
    """POST the draft's edit form as its page does, with the version it was rendered from."""
    concern = Concern.objects.get(pk=concern.pk)
    data.setdefault("version", svc.concern_version(concern))
    data.setdefault("receiving_service", concern.receiving_service_id)
    return client.post(reverse("concerns:edit", args=[concern.code]), data)


@pytest.fixture
def empty_draft(org):
    return svc.concern_draft_create(user=org.reporter, kind=Concern.Kind.MELDING, reporting_service=org.barnehage,
                                    receiving_service=org.barnevern)


class SaveDraftTests:
    def test_it_saves_an_empty_melding_as_a_draft(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), draft_post(org))
        assert response.status_code == 302
        draft = Concern.objects.get()
        assert (draft.status, draft.person, draft.observations, draft.categories) == (Concern.Status.DRAFT, None, "", [])
        assert not Person.objects.exists()

    def test_it_keeps_the_child_of_a_draft_given_a_number(self, client, org):
        client.force_login(org.reporter)
        client.post(reverse("concerns:create"), draft_post(org, national_id=VALID_FNR, given_name="Emma"))
        draft = Concern.objects.get()
        assert draft.person.national_id == VALID_FNR
        assert PersonRecord.objects.get(person=draft.person, service=org.barnehage).given_name == "Emma"

    def test_it_refuses_a_wrong_number_in_a_draft(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), draft_post(org, national_id=BAD_CHECKSUM_FNR))
        assert response.status_code == 422
        assert set(response.context["form"].errors) == {"national_id"}
        assert (Person.objects.count(), Concern.objects.count()) == (0, 0)

    def test_it_refuses_a_name_it_cannot_keep_without_a_number_or_birth_date(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), draft_post(org, given_name="Emma"))
        assert response.status_code == 422
        assert set(response.context["form"].errors) == {"birth_date"}
        assert not Concern.objects.exists()

    def test_it_refuses_an_identity_number_in_a_consultation_draft(self, client, org):
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:create"), draft_post(org, kind="consultation", observations=f"Nr {VALID_FNR}"))
        assert response.status_code == 422
        assert "observations" in response.context["form"].errors
        assert not Concern.objects.exists()

    def test_it_refuses_an_identity_number_in_a_consultation_draft_through_the_service(self, org):
        with pytest.raises(Exception) as raised:
            svc.concern_draft_create(user=org.reporter, kind=Concern.Kind.CONSULTATION, reporting_service=org.barnehage,
                                     receiving_service=org.barnevern, observations=f"Nr {VALID_FNR}")
        assert "observations" in raised.value.error_dict
        assert not Concern.objects.exists()


class EditDraftTests:
    def test_it_shows_the_draft_in_its_form_and_logs_the_read(self, client, org):
        draft = make_melding(org, submit=False)
        client.force_login(org.reporter)
        response = client.get(reverse("concerns:edit", args=[draft.code]))
        assert response.status_code == 200
        form = response.context["form"]
        assert (form["given_name"].value(), form["observations"].value()) == ("Emma", draft.observations)
        assert AccessLog.objects.filter(object_id=draft.pk, object_type="referrals.concern", action="view", purpose="concern draft",
                                        user=org.reporter, person=draft.person).exists()

    def test_it_saves_an_edited_draft_still_incomplete(self, client, org, empty_draft):
        client.force_login(org.reporter)
        response = edit(client, empty_draft, observations="Sliten om morgenen.", draft="1")
        assert response.status_code == 302
        draft = Concern.objects.get(pk=empty_draft.pk)
        assert (draft.status, draft.observations) == (Concern.Status.DRAFT, "Sliten om morgenen.")
        assert AccessLog.objects.filter(object_id=draft.pk, action="update", purpose="concern draft").exists()

    def test_it_sends_an_edited_draft_only_when_every_answer_is_given(self, client, org, empty_draft):
        client.force_login(org.reporter)
        response = edit(client, empty_draft, observations="Sliten.", send="1")
        assert response.status_code == 422
        assert {"given_name", "birth_date", "categories", "parents_informed", "child_informed"} <= set(response.context["form"].errors)
        assert Concern.objects.get(pk=empty_draft.pk).status == Concern.Status.DRAFT
        response = edit(client, empty_draft, **complete(), send="1")
        assert response.status_code == 302
        sent = Concern.objects.get(pk=empty_draft.pk)
        assert (sent.status, sent.person.national_id) == (Concern.Status.SUBMITTED, VALID_FNR)

    def test_it_keeps_one_child_when_a_draft_without_a_number_is_saved_again(self, client, org, empty_draft):
        client.force_login(org.reporter)
        born = datetime.date(2021, 4, 5).isoformat()
        edit(client, empty_draft, given_name="Ola", birth_date=born, draft="1")
        first = Concern.objects.get(pk=empty_draft.pk).person
        edit(client, empty_draft, given_name="Ola Jr.", birth_date=born, draft="1")
        draft = Concern.objects.get(pk=empty_draft.pk)
        assert draft.person == first and Person.objects.count() == 1
        assert PersonRecord.objects.get(person=first, service=org.barnehage).given_name == "Ola Jr."

    def test_it_refuses_a_stale_edit(self, client, org, empty_draft):
        client.force_login(org.reporter)
        old = svc.concern_version(empty_draft)
        edit(client, empty_draft, observations="Først.", draft="1")
        response = edit(client, empty_draft, observations="Sist.", draft="1", version=old)
        assert response.status_code == 422
        assert Concern.objects.get(pk=empty_draft.pk).observations == "Først."

    def test_it_sends_a_sent_concerns_edit_page_back_to_its_page(self, client, org):
        concern = make_melding(org)
        client.force_login(org.reporter)
        response = client.get(reverse("concerns:edit", args=[concern.code]))
        assert response.status_code == 302 and response["Location"] == reverse("concerns:detail", args=[concern.code])
        response = edit(client, concern, observations="Endret etterpå.", draft="1")
        assert Concern.objects.get(pk=concern.pk).observations != "Endret etterpå."

    @pytest.mark.parametrize("persona", ["other_bh_staff", "caseworker"])
    def test_it_answers_404_to_another_service(self, client, org, empty_draft, persona):
        client.force_login(getattr(org, persona))
        assert client.get(reverse("concerns:edit", args=[empty_draft.code])).status_code == 404
        assert edit(client, empty_draft, observations="Inntrenger.", draft="1").status_code == 404
        assert client.get(reverse("concerns:delete", args=[empty_draft.code])).status_code == 404
        assert client.post(reverse("concerns:delete", args=[empty_draft.code]), {"version": svc.concern_version(empty_draft)}).status_code == 404
        assert Concern.objects.get(pk=empty_draft.pk).observations == ""

    def test_it_offers_edit_and_delete_on_the_drafts_page(self, client, org, empty_draft):
        client.force_login(org.reporter)
        html = client.get(reverse("concerns:detail", args=[empty_draft.code])).content.decode()
        assert reverse("concerns:edit", args=[empty_draft.code]) in html
        assert reverse("concerns:delete", args=[empty_draft.code]) in html


class DeleteDraftTests:
    def test_it_asks_before_deleting(self, client, org, empty_draft):
        client.force_login(org.reporter)
        response = client.get(reverse("concerns:delete", args=[empty_draft.code]))
        assert response.status_code == 200 and 'data-testid="delete-form"' in response.content.decode()
        assert Concern.objects.filter(pk=empty_draft.pk).exists()

    def test_it_deletes_a_draft_its_permissions_and_logs_who_did(self, client, org):
        draft = make_melding(org, submit=False)
        client.force_login(org.reporter)
        response = client.post(reverse("concerns:delete", args=[draft.code]), {"version": svc.concern_version(draft)})
        assert response.status_code == 302 and response["Location"] == reverse("concerns:index")
        assert not Concern.objects.filter(pk=draft.pk).exists()
        assert not GroupObjectPermission.objects.filter(object_pk=str(draft.pk), content_type__model="concern").exists()
        row = AccessLog.objects.get(object_id=draft.pk, object_type="referrals.concern", action="delete")
        assert (row.user, row.service, row.person, row.purpose) == (org.reporter, org.barnehage, draft.person, "concern draft deleted")

    def test_it_refuses_a_delete_confirmed_on_an_old_page(self, client, org, empty_draft):
        client.force_login(org.reporter)
        old = svc.concern_version(empty_draft)
        edit(client, empty_draft, observations="Endret.", draft="1")
        response = client.post(reverse("concerns:delete", args=[empty_draft.code]), {"version": old})
        assert response.status_code == 302
        assert Concern.objects.filter(pk=empty_draft.pk).exists()

    def test_it_answers_404_to_deleting_a_sent_concern(self, client, org):
        concern = make_melding(org)
        client.force_login(org.reporter)
        assert client.post(reverse("concerns:delete", args=[concern.code]), {"version": svc.concern_version(concern)}).status_code == 404
        assert Concern.objects.filter(pk=concern.pk).exists()


class UpgradedDraftTests:
    @pytest.fixture
    def upgraded(self, org):
        consultation = make_consultation(org)
        return svc.consultation_upgrade(
            consultation=consultation, user=org.reporter, child={"national_id": VALID_FNR, "birth_date": None, "given_name": "Emma", "family_name": "Test"},
            parents_informed=True, child_informed=False, not_informed_reason="For liten.",
        )

    def test_it_lets_the_reporter_edit_and_send_the_melding_made_from_a_consultation(self, client, org, upgraded):
        client.force_login(org.reporter)
        page = client.get(reverse("concerns:edit", args=[upgraded.code]))
        assert page.status_code == 200
        assert page.context["form"]["given_name"].value() == "Emma"
        response = edit(client, upgraded, **complete(child_informed="no", not_informed_reason="For liten.",
                                                     observations="Utdypet etter drøftingen."), send="1")
        assert response.status_code == 302
        sent = Concern.objects.get(pk=upgraded.pk)
        assert (sent.status, sent.observations, sent.upgraded_from_id is not None) == (Concern.Status.SUBMITTED, "Utdypet etter drøftingen.", True)

    def test_it_does_not_delete_the_melding_made_from_a_consultation(self, client, org, upgraded):
        client.force_login(org.reporter)
        assert client.get(reverse("concerns:delete", args=[upgraded.code])).status_code == 404
        with pytest.raises(Exception):
            svc.concern_draft_delete(concern=upgraded, user=org.reporter, version=svc.concern_version(upgraded))
        assert Concern.objects.filter(pk=upgraded.pk).exists()
