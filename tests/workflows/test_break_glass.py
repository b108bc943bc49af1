"""Technical administrators have no case access; emergency access breaks the glass (issue 6, point 5).

Personas: ``root`` is a superuser with no membership (the technical administrator); the barnevern
caseworker and leader hold the melding; ``privacy`` works in Personvernombudet.
"""
import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from notifications.models import Reminder
from org.models import Service
from referrals.models import BreakGlassAccess
from tests.factories import make_melding, make_service, member
from tests.referral_factories import make_referral, make_referral_org
from workflows.services.break_glass import break_glass_open, break_glass_review

pytestmark = pytest.mark.django_db

WHY = "Akutt: politiet melder at barnet er savnet, vakthavende trenger saken nå."


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.test", "pw")


@pytest.fixture
def privacy(org):
    return member(make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))


@pytest.fixture
def melding(org):
    return make_melding(org)


class SuperuserHasNoCaseAccessTests:
    def test_it_answers_404_to_a_superuser_on_concern_and_referral_pages(self, client, org, root, melding):
        referral = make_referral(make_referral_org("9990"))
        client.force_login(root)
        for url in (
            reverse("concerns:detail", args=[melding.code]), reverse("concerns:log", args=[melding.code]),
            reverse("referrals:detail", args=[referral.code]),
            reverse("referrals:contact_detail", args=[referral.contact.code]),
            reverse("consent:detail", args=[referral.consent.code]),
            reverse("consent:person", args=[referral.person.code]),
        ):
            assert client.get(url).status_code == 404, url
        assert not AccessLog.objects.filter(user=root).exists()

    def test_it_answers_404_to_a_superuser_on_viewflow_process_pages(self, client, root, melding):
        client.force_login(root)
        for name in ("process_detail", "process_chart"):
            url = reverse(f"workflow:flows:concern:{name}", kwargs={"process_pk": melding.process.pk})
            assert client.get(url).status_code == 404


class BreakGlassTests:
    def test_it_lets_the_administrator_read_after_breaking_the_glass_and_logs_the_real_actor(self, client, org, root, privacy, melding):
        client.force_login(root)
        response = client.post(reverse("break_glass:index"), {
            "kind": "concern", "reference": f"https://samhandling.example/concerns/{melding.code}/", "justification": WHY, "minutes": 30,
        })
        assert response.status_code == 302
        assert response["Location"] == reverse("concerns:detail", args=[melding.code])
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert b'data-testid="emergency-banner"' in page.content
        row = AccessLog.objects.filter(user=root, object_type="referrals.concern", object_id=melding.pk).get()
        assert (row.via, row.service_id, row.action) == ("break_glass", None, "view")

    def test_it_notifies_the_leaders_of_the_service_and_the_privacy_function(self, org, root, privacy, melding):
        access = break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=30)
        reminders = {(r.service_id, r.audience) for r in Reminder.objects.filter(obligation=f"breakglass:{access.pk}")}
        assert reminders == {(org.barnevern.pk, Reminder.Audience.LEADERS), (privacy.memberships.get().service_id, Reminder.Audience.STAFF)}
        assert str(melding.code) not in Reminder.objects.filter(obligation=f"breakglass:{access.pk}").first().message

    def test_it_ends_the_access_when_the_time_is_up(self, client, root, melding):
        start = timezone.now()
        break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        client.force_login(root)
        with time_machine.travel(start + datetime.timedelta(minutes=11)):
            assert client.get(reverse("concerns:detail", args=[melding.code])).status_code == 404

    def test_it_is_read_only(self, client, root, melding):
        break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        client.force_login(root)
        response = client.post(reverse("concerns:action", args=[melding.code, "receipt"]), {"version": "x"})
        assert response.status_code == 404
        assert client.get(reverse("workflow:flows:concern:process_detail", kwargs={"process_pk": melding.process.pk})).status_code == 404
        melding.refresh_from_db()
        assert melding.status == "submitted"

    def test_it_refuses_a_short_justification_and_saves_nothing(self, root, melding):
        with pytest.raises(ValidationError) as e:
            break_glass_open(user=root, kind="concern", reference=str(melding.code), justification="trenger", minutes=10)
        assert "justification" in e.value.message_dict
        assert not BreakGlassAccess.objects.exists() and not Reminder.objects.filter(obligation__startswith="breakglass").exists()

    def test_it_refuses_a_duration_over_the_maximum(self, root, melding):
        with pytest.raises(ValidationError) as e:
            break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=24 * 60)
        assert "minutes" in e.value.message_dict

    def test_it_refuses_someone_who_already_holds_a_role(self, org, melding):
        with pytest.raises(ValidationError):
            break_glass_open(user=org.caseworker, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        assert not BreakGlassAccess.objects.exists()

    def test_it_refuses_a_user_without_a_service_or_staff_status(self, melding):
        nobody = get_user_model().objects.create_user("nobody", password="pw")
        with pytest.raises(ValidationError):
            break_glass_open(user=nobody, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)

    def test_it_refuses_staff_of_another_municipality(self, melding):
        from tests.factories import make_org

        elsewhere = make_org("9001")
        with pytest.raises(ValidationError) as e:
            break_glass_open(user=elsewhere.nav_staff, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        assert "reference" in e.value.message_dict
        assert not BreakGlassAccess.objects.exists()

    def test_it_lets_staff_of_the_same_municipality_break_the_glass(self, org, melding):
        access = break_glass_open(user=org.nav_staff, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        assert access.owner_service == org.barnevern

    def test_it_refuses_an_unknown_reference(self, root):
        with pytest.raises(ValidationError) as e:
            break_glass_open(user=root, kind="concern", reference="00000000-0000-0000-0000-000000000000", justification=WHY, minutes=10)
        assert "reference" in e.value.message_dict


class PageTests:
    def test_it_shows_the_page_in_bokmal_with_its_own_menu(self, client, org):
        client.force_login(org.caseworker)
        page = client.get(reverse("break_glass:index")).content.decode()
        assert "Åpne en nødtilgang" in page
        assert "No viewsets found" not in page


class ReviewTests:
    def test_it_lets_the_barnevern_leader_review_it_afterwards(self, client, org, root, melding):
        access = break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        client.force_login(org.bv_leader)
        page = client.get(reverse("break_glass:index"))
        assert WHY.encode() in page.content
        client.post(reverse("break_glass:review", args=[access.code]), {"note": "Begrunnet; politiet bekreftet."})
        access.refresh_from_db()
        assert access.reviewed_by == org.bv_leader and access.review_note == "Begrunnet; politiet bekreftet."

    def test_it_lets_the_privacy_function_review_it(self, org, root, privacy, melding):
        access = break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        break_glass_review(access=access, user=privacy, note="Sett.")
        assert AccessLog.objects.filter(user=privacy, purpose="emergency access reviewed", via="privacy").exists()

    def test_it_answers_404_to_others_who_try_to_review(self, client, org, root, melding):
        access = break_glass_open(user=root, kind="concern", reference=str(melding.code), justification=WHY, minutes=10)
        for user in (org.caseworker, org.reporter_leader, root):
            client.force_login(user)
            assert client.post(reverse("break_glass:review", args=[access.code]), {"note": "x"}).status_code == 404
        access.refresh_from_db()
        assert access.reviewed_at is None
