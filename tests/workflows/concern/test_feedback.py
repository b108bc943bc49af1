"""The closed loop back to the reporter (barnevernsloven § 13-2): received, feedback, and nothing more.

Personas: ``reporter`` and ``reporter_leader`` (Solsiden barnehage), ``caseworker`` (Barneverntjenesten).
The UI speaks Norwegian bokmål by default; labels are compared as the page's language renders them,
times as Django formats them, so the tests hold with or without compiled translations.
"""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from notifications.models import Notification
from notifications.services import reminders_sweep
from referrals.models import Concern
from workflows.concern import services as svc
from tests.factories import advance, make_melding

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)
CONFIRMED = datetime(2026, 3, 2, 11, 37, tzinfo=OSLO)
DECISION_STATES = ["investigating", "closed", "investigated"]


def in_page_language(value):
    """``value`` (a label or a datetime) as the Norwegian page renders it."""
    with translation.override("nb"):
        if isinstance(value, datetime):
            return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        return str(value)


def testid_text(content: bytes, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', content.decode(), re.S)
    assert match, f"no element with data-testid={testid}"
    return " ".join(match.group(1).split())


def reporter_page(client, org, concern, language=None):
    client.force_login(org.reporter)
    if language:
        from django.conf import settings

        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse("concerns:detail", args=[concern.code])).content


def secret_labels():
    """Every label that would tell the reporter what barnevern decided, in both languages."""
    labels = [
        Concern.Status.INVESTIGATING.label, Concern.Status.CLOSED.label, Concern.Status.INVESTIGATED.label,
        *Concern.ReviewDecision.labels, *Concern.Outcome.labels,
    ]
    out = set()
    for language in ("nb", "en"):
        with translation.override(language):
            out |= {escape(str(label)) for label in labels}
    return out


class ReceiptTests:
    def test_it_shows_the_reporter_that_receipt_is_not_yet_confirmed(self, client, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        content = reporter_page(client, org, concern)
        assert testid_text(content, "status") == in_page_language(Concern.Status.SUBMITTED.label)
        assert in_page_language(CONFIRMED) not in testid_text(content, "received-at")

    def test_it_shows_the_reporter_the_time_of_receipt(self, client, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(CONFIRMED)
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert in_page_language(CONFIRMED) in testid_text(reporter_page(client, org, concern), "received-at")

    def test_it_shows_the_reporter_the_received_status(self, client, org):
        concern = advance(make_melding(org), org, "received")
        content = reporter_page(client, org, concern)
        assert testid_text(content, "status") == in_page_language(Concern.Status.RECEIVED.label)

    def test_it_says_received_in_english(self, client, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(CONFIRMED)
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        content = reporter_page(client, org, concern, language="en")
        assert testid_text(content, "status") == "Received"
        assert testid_text(content, "received-at").startswith("Received")

    def test_it_lists_the_time_of_receipt_in_the_reporters_own_concerns(self, client, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            traveller.move_to(CONFIRMED)
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        client.force_login(org.reporter)
        assert in_page_language(CONFIRMED).encode() in client.get(reverse("concerns:index")).content

    def test_it_notifies_the_reporting_service_of_the_receipt(self, org):
        concern = advance(make_melding(org), org, "received")
        reminders_sweep()
        notified = set(Notification.objects.filter(reminder__key=f"concern:{concern.pk}:received:{org.barnehage.pk}").values_list("user_id", flat=True))
        assert notified == {org.reporter.pk, org.reporter_leader.pk}


class FeedbackMessageTests:
    def test_it_shows_the_reporter_the_first_feedback(self, client, org):
        concern = advance(make_melding(org), org, "closed")
        svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial", message="Vi har mottatt meldingen din.")
        assert b"Vi har mottatt meldingen din." in reporter_page(client, org, concern)

    def test_it_shows_the_reporter_the_feedback_after_the_investigation(self, client, org):
        concern = advance(make_melding(org), org, "investigated")
        svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="final", message="Undersøkelsen er avsluttet.")
        assert escape("Undersøkelsen er avsluttet.").encode() in reporter_page(client, org, concern)

    def test_it_shows_the_standard_wording_when_the_caseworker_writes_nothing(self, client, org):
        concern = advance(make_melding(org), org, "investigating")
        feedback = svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial", message="  ")
        assert feedback.message.strip()
        assert escape(feedback.message).encode() in reporter_page(client, org, concern)

    @pytest.mark.parametrize("state,opened", [("investigating", True), ("closed", False), ("investigated", True)])
    def test_it_records_whether_an_investigation_was_opened(self, org, state, opened):
        concern = advance(make_melding(org), org, state)
        feedback = svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial")
        assert feedback.investigation_opened is opened

    def test_it_notifies_the_reporting_service_of_feedback(self, org):
        concern = advance(make_melding(org), org, "investigating")
        svc.concern_send_feedback(concern=concern, user=org.caseworker, kind="initial")
        reminders_sweep()
        assert Notification.objects.filter(
            user=org.reporter, reminder__key=f"concern:{concern.pk}:feedback_initial:{org.barnehage.pk}"
        ).exists()


class DecisionSecrecyTests:
    @pytest.mark.parametrize("state", DECISION_STATES)
    def test_it_shows_the_reporter_only_received_before_feedback(self, client, org, state):
        concern = advance(make_melding(org), org, state)
        content = reporter_page(client, org, concern)
        assert testid_text(content, "status") == in_page_language(Concern.Status.RECEIVED.label)

    @pytest.mark.parametrize("state", DECISION_STATES)
    def test_it_shows_no_decision_label_on_the_reporters_page(self, client, org, state):
        concern = advance(make_melding(org), org, state)
        content = reporter_page(client, org, concern).decode()
        assert not {label for label in secret_labels() if label in content}

    @pytest.mark.parametrize("state", DECISION_STATES)
    def test_it_shows_no_decision_label_in_the_reporters_own_concerns(self, client, org, state):
        advance(make_melding(org), org, state)
        client.force_login(org.reporter)
        content = client.get(reverse("concerns:index")).content.decode()
        assert not {label for label in secret_labels() if label in content}

    @pytest.mark.parametrize("state", ["investigating", "closed"])
    def test_it_leaks_no_raw_status_into_the_reporters_own_concerns(self, client, org, state):
        advance(make_melding(org), org, state)
        client.force_login(org.reporter)
        assert f"sh-status--{state}" not in client.get(reverse("concerns:index")).content.decode()

    def test_it_shows_the_caseworker_the_real_status(self, client, org):
        concern = advance(make_melding(org), org, "closed")
        client.force_login(org.caseworker)
        content = client.get(reverse("concerns:detail", args=[concern.code])).content
        assert testid_text(content, "status") == in_page_language(Concern.Status.CLOSED.label)
