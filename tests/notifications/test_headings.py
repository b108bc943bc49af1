"""Notifications say which case and step they are about, and opening one marks it read and goes to
the case (issue 7, point 12).

Personas: ``caseworker`` (Barneverntjenesten) is told of a melding the ``reporter`` (Solsiden
barnehage) sends; the reporter is told when it is received; a referral's receiving caseworker
(Tildelingskontoret) and coordinator (tests/referral_factories.py). Another user gets 404.
"""
import importlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation

from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from tests.factories import advance, make_melding, member
from tests.referral_factories import make_referral, make_referral_org
from workflows.referral import services as rsvc

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _notice(user):
    return Notification.objects.filter(user=user).select_related("reminder__subject_type").latest("created_at", "id")


def _heading(notification):
    with translation.override("en"):
        return notification.case_label(), notification.topic_label()


class HeadingTests:
    def test_it_names_the_concern_the_step_and_its_deadline_for_barnevern(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
            reminders_sweep()
        n = _notice(org.caseworker)
        assert _heading(n) == (f"Concern {concern.reference}", "Bekreft mottak av melding")
        assert n.deadline_at is not None and n.deadline_at > SENT
        assert concern.person.given_name not in n.case_label() + n.topic_label() + n.message + n.url

    def test_it_names_the_step_without_a_deadline_for_the_reporter(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = advance(make_melding(org), org, "received")
            reminders_sweep()
        n = _notice(org.reporter)
        assert _heading(n) == (f"Concern {concern.reference}", "Receipt confirmed")
        assert n.deadline_at is None

    def test_it_names_the_referral_and_the_answer_deadline_for_the_receiver(self):
        ro = make_referral_org()
        with time_machine.travel(SENT, tick=False):
            referral = make_referral(ro, via_coordinator=True)
            rsvc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
            reminders_sweep()
        coordinator_notice = _notice(ro.coordinator)
        assert _heading(coordinator_notice) == (f"Referral {referral.reference}", "Ruting av henvisning")
        receiver_notice = _notice(ro.tildeling_staff)
        assert _heading(receiver_notice)[0] == f"Referral {referral.reference}"
        assert receiver_notice.topic.startswith("Svar på henvisning") and receiver_notice.deadline_at is not None

    def test_it_shows_the_heading_on_the_list_and_not_the_word_information(self, client, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
            reminders_sweep()
        n = _notice(org.caseworker)
        client.force_login(org.caseworker)
        page = client.get(reverse("notifications:index")).content.decode()
        with translation.override("en"):
            due = formats.date_format(timezone.localtime(n.deadline_at), "SHORT_DATETIME_FORMAT")
        assert f"Concern {concern.reference}: Bekreft mottak av melding – deadline {due}" in page
        assert "Information" not in page

        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
        page = client.get(reverse("notifications:index")).content.decode()
        assert f"{concern.reference}: Bekreft mottak av melding" in page
        assert "Informasjon" not in page


class OpenTests:
    def _arrival(self, org):
        make_melding(org)
        reminders_sweep()
        return _notice(org.caseworker)

    def test_it_marks_the_notification_read_and_goes_to_the_case(self, client, org):
        n = self._arrival(org)
        client.force_login(org.caseworker)
        response = client.post(reverse("notifications:open", args=[n.pk]))
        assert response.status_code == 302 and response["Location"] == n.url
        n.refresh_from_db()
        assert n.read_at is not None
        assert client.get(n.url).status_code == 200

    def test_it_answers_404_to_another_user_and_changes_nothing(self, client, org):
        n = self._arrival(org)
        client.force_login(org.reporter)
        assert client.post(reverse("notifications:open", args=[n.pk])).status_code == 404
        assert client.post(reverse("notifications:open", args=[n.pk + 1000])).status_code == 404
        n.refresh_from_db()
        assert n.read_at is None

    def test_it_opens_only_by_post(self, client, org):
        n = self._arrival(org)
        client.force_login(org.caseworker)
        assert client.get(reverse("notifications:open", args=[n.pk])).status_code == 405
        n.refresh_from_db()
        assert n.read_at is None

    def test_it_never_sends_the_user_off_the_site(self, client, org):
        n = self._arrival(org)
        Notification.objects.filter(pk=n.pk).update(url="//evil.example/x")
        client.force_login(org.caseworker)
        response = client.post(reverse("notifications:open", args=[n.pk]))
        assert response["Location"] == reverse("notifications:index")

    def test_it_offers_opening_from_the_list(self, client, org):
        n = self._arrival(org)
        client.force_login(org.caseworker)
        page = client.get(reverse("notifications:index")).content.decode()
        assert f'action="{reverse("notifications:open", args=[n.pk])}"' in page


class BackfillTests:
    def test_it_gives_existing_notifications_their_heading(self, org):
        """Rows written before the heading fields (0004) get them from what they point at (0005)."""
        with time_machine.travel(SENT, tick=False):
            concern = advance(make_melding(org), org, "received")
            reminders_sweep()
        expected = {n.pk: (n.reference, n.topic, n.deadline_at) for n in Notification.objects.all()}
        assert expected and all(ref for ref, _t, _d in expected.values())
        Reminder.objects.update(reference="", topic="", deadline_at=None)
        Notification.objects.update(reference="", topic="", deadline_at=None)

        backfill = importlib.import_module("notifications.migrations.0005_notification_heading_backfill")
        backfill.forwards(django_apps, None)

        found = {n.pk: (n.reference, n.topic, n.deadline_at) for n in Notification.objects.all()}
        assert found == expected
        reporter = Notification.objects.get(user=org.reporter)
        assert (reporter.reference, reporter.topic) == (concern.reference, "Receipt confirmed")
