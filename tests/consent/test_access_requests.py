"""Access requests (GDPR art. 15) and the full report: the privacy function's, on a registered request
(issue 6, point 2).

Personas: ``privacy`` works in Personvernombudet (the privacy function); a service leader and a
superuser who must get 404 on every request URL.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AccessLog
from consent.access_requests import access_request_due, access_request_register
from consent.models import AccessRequest
from org.models import Service
from tests.factories import make_service, member
from tests.referral_factories import make_referral, make_referral_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def ro():
    return make_referral_org()


@pytest.fixture
def privacy(ro):
    office = make_service(ro.org.municipality, "Personvernombudet", Service.Kind.PERSONVERN)
    return member(office)


@pytest.fixture
def referral(ro):
    referral = make_referral(ro)
    person = referral.person
    person.national_id = _fnr()
    person.save(update_fields=["national_id"])
    return referral


def _fnr():
    from people.validators import synthetic_national_id

    return synthetic_national_id(datetime.date(1990, 7, 13), start=400)


class DueDateTests:
    def test_it_gives_one_calendar_month_to_answer(self):
        assert access_request_due(datetime.date(2026, 3, 15)) == datetime.date(2026, 4, 15)

    def test_it_ends_a_month_from_the_31st_on_the_last_day_of_a_short_month(self):
        assert access_request_due(datetime.date(2027, 1, 31)) == datetime.date(2027, 2, 28)


class RegisterTests:
    def test_it_registers_a_request_and_shows_the_full_report(self, client, ro, privacy, referral):
        client.force_login(privacy)
        response = client.post(reverse("consent:access_requests"), {
            "national_id": referral.person.national_id, "reference": "2026/1234", "received_on": "2026-11-20", "requested_by": "person",
        })
        request = AccessRequest.objects.get()
        assert response.status_code == 302
        assert request.person == referral.person
        assert request.due_on == datetime.date(2026, 12, 20)
        page = client.get(reverse("consent:access_request", args=[request.code]))
        assert page.status_code == 200
        # Everything: the sender's disclosure to Tildelingskontoret is in it.
        assert [d.to_service for d in page.context["report"].disclosures] == [ro.tildeling]
        assert page.context["report"].service is None
        assert AccessLog.objects.filter(user=privacy, person=referral.person, via="privacy", purpose="transparency report (GDPR art. 15)").exists()

    def test_it_reports_only_its_own_municipalitys_services(self, client, ro, privacy, referral):
        from tests.factories import make_org

        elsewhere = make_org("9002")
        other = make_service(elsewhere.municipality, "Annen kommunes tjeneste", Service.Kind.OTHER)
        from audit.services import access_log_write

        access_log_write(user=elsewhere.nav_staff, action="view", obj=referral.person, person=referral.person, purpose="registered", service=other)
        client.force_login(privacy)
        request = access_request_register(user=privacy, national_id=referral.person.national_id, reference="2026/8", received_on=datetime.date.today())
        report = client.get(reverse("consent:access_request", args=[request.code])).context["report"]
        assert report.access_entries and all(e.service is None or e.service.municipality_id == ro.org.municipality.pk for e in report.access_entries)

    def test_it_says_nothing_is_held_for_an_unknown_number(self, client, privacy):
        client.force_login(privacy)
        client.post(reverse("consent:access_requests"), {
            "national_id": _fnr(), "reference": "2026/9", "received_on": "2026-11-20", "requested_by": "person",
        })
        request = AccessRequest.objects.get()
        page = client.get(reverse("consent:access_request", args=[request.code]))
        assert request.person is None
        assert page.context["report"] is None
        assert b'data-testid="no-person"' in page.content

    def test_it_refuses_an_invalid_number_and_saves_nothing(self, client, privacy):
        client.cookies["django_language"] = "en"
        client.force_login(privacy)
        response = client.post(reverse("consent:access_requests"), {
            "national_id": "12345678901", "reference": "2026/9", "received_on": "2026-11-20", "requested_by": "person",
        })
        assert response.status_code == 422
        assert "not valid" in str(response.context["form"].errors["national_id"])
        assert not AccessRequest.objects.exists()

    def test_it_refuses_a_receipt_date_in_the_future(self, privacy):
        with pytest.raises(Exception) as e:
            access_request_register(user=privacy, national_id=_fnr(), reference="x", received_on=datetime.date.today() + datetime.timedelta(days=1))
        assert "received_on" in e.value.message_dict
        assert not AccessRequest.objects.exists()

    def test_it_marks_a_request_answered_once(self, client, privacy, referral):
        request = access_request_register(user=privacy, national_id=referral.person.national_id, reference="2026/5", received_on=datetime.date.today())
        client.force_login(privacy)
        client.post(reverse("consent:access_request_answer", args=[request.code]))
        request.refresh_from_db()
        assert request.status == AccessRequest.Status.ANSWERED and request.answered_by == privacy
        client.post(reverse("consent:access_request_answer", args=[request.code]))
        assert AccessLog.objects.filter(purpose="access request answered").count() == 1


class OnlyThePrivacyFunctionTests:
    def test_it_answers_404_to_leaders_outsiders_and_a_superuser(self, client, ro, privacy, referral):
        request = access_request_register(user=privacy, national_id=referral.person.national_id, reference="2026/5", received_on=datetime.date.today())
        superuser = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
        urls = [
            reverse("consent:access_requests"), reverse("consent:access_request", args=[request.code]),
            reverse("consent:access_request_pdf", args=[request.code]),
        ]
        for user in (ro.org.reporter_leader, ro.org.bv_leader, ro.sender, superuser):
            client.force_login(user)
            for url in urls:
                assert client.get(url).status_code == 404, (user, url)
            assert client.post(reverse("consent:access_request_answer", args=[request.code])).status_code == 404
        request.refresh_from_db()
        assert request.status == AccessRequest.Status.OPEN

    def test_it_refuses_the_service_call_to_anyone_else(self, ro, referral):
        with pytest.raises(Exception):
            access_request_register(user=ro.sender, national_id=referral.person.national_id, reference="x", received_on=datetime.date.today())
        assert not AccessRequest.objects.exists()

    def test_it_flags_an_overdue_request_in_the_list(self, client, privacy, referral):
        with time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
            access_request_register(user=privacy, national_id=referral.person.national_id, reference="2026/77", received_on=datetime.date(2026, 10, 1))
        with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
            client.force_login(privacy)
            page = client.get(reverse("consent:access_requests"))
        assert b"sh-overdue" in page.content
