"""The e-mail outbox (notifications.models.Email) and the sweep's batches, claims and log lines.

Real database, real guardian grants, the project's mail path with Django's in-memory backend
(``mailoutbox``); a failing mail server is the one thing faked (a mail backend class below).
Personas: ``caseworker`` and ``bv_leader`` (Barneverntjenesten) are notified when ``reporter``
(Solsiden barnehage) sends a melding.
"""
import logging
import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from notifications.models import Email, Notification, Reminder
from notifications.services import (
    email_send, emails_requeue, reminder_deliver_one, reminder_schedule, reminders_sweep, reminders_sweep_run,
)
from org import permissions
from org.services import membership_set
from tests.factories import make_melding
from workflows.concern.services import HANDLER

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message (a transient 4xx answer)."""

    def send_messages(self, messages):
        raise smtplib.SMTPDataError(451, b"Try again later")


def delivered(org):
    """A melding sent and its arrival reminder delivered; the e-mails wait in the outbox."""
    concern = make_melding(org)
    reminder = Reminder.objects.get(key=f"concern:{concern.pk}:submitted:{org.barnevern.pk}")
    assert reminder_deliver_one(reminder_id=reminder.pk)
    return concern, reminder


def caseworker_email(org) -> Email:
    return Email.objects.get(notification__user=org.caseworker)


class OutboxTests:
    def test_it_writes_one_queued_email_per_recipient_with_the_notification(self, org):
        _concern, reminder = delivered(org)
        rows = Email.objects.filter(notification__reminder=reminder)
        assert sorted(rows.values_list("notification__user__email", flat=True)) == sorted([org.caseworker.email, org.bv_leader.email])
        assert set(rows.values_list("state", "attempts")) == {(Email.State.QUEUED, 0)}

    def test_it_sends_a_queued_email_and_marks_it_sent(self, org, mailoutbox):
        delivered(org)
        email = caseworker_email(org)
        assert email_send(email_id=email.pk) == "sent"
        email.refresh_from_db()
        assert (email.state, email.attempts, email.claimed_until) == (Email.State.SENT, 1, None)
        assert [m.to for m in mailoutbox] == [[org.caseworker.email]]
        assert mailoutbox[0].extra_headers["Message-ID"] == email.message_id

    def test_it_leaves_an_email_to_the_attempt_that_holds_its_claim(self, org, mailoutbox):
        with time_machine.travel(SENT, tick=False):
            delivered(org)
            email = caseworker_email(org)
            Email.objects.filter(pk=email.pk).update(
                state=Email.State.SENDING, attempts=1, claimed_until=SENT + timedelta(seconds=30)
            )
            assert email_send(email_id=email.pk) == ""
        assert mailoutbox == []

    def test_it_resends_an_interrupted_attempt_with_the_same_message_id(self, org, mailoutbox, caplog):
        # A worker killed inside the send leaves SENDING and its claim; after the claim the next
        # attempt sends it, under the same Message-ID.
        with time_machine.travel(SENT, tick=False) as traveller:
            delivered(org)
            email = caseworker_email(org)
            Email.objects.filter(pk=email.pk).update(
                state=Email.State.SENDING, attempts=1, claimed_until=SENT + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
            )
            traveller.shift(timedelta(seconds=settings.EMAIL_CLAIM_SECONDS + 1))
            with caplog.at_level(logging.WARNING, logger="notifications.services"):
                assert email_send(email_id=email.pk) == "sent"
        email.refresh_from_db()
        assert (email.state, email.attempts) == (Email.State.SENT, 2)
        assert [m.extra_headers["Message-ID"] for m in mailoutbox] == [email.message_id]
        assert f"e-mail resent after an interrupted attempt id={email.pk} attempt=2" in caplog.text

    def test_it_queues_the_email_again_when_the_mail_server_refuses_it(self, org, settings, mailoutbox):
        settings.EMAIL_BACKEND = "tests.notifications.test_outbox.RefusingBackend"
        delivered(org)
        email = caseworker_email(org)
        assert email_send(email_id=email.pk) == "retry"
        email.refresh_from_db()
        assert (email.state, email.attempts, email.claimed_until, email.last_error) == (
            Email.State.QUEUED, 1, None, "SMTPDataError"
        )

    def test_it_gives_up_after_the_last_attempt(self, org, settings):
        settings.EMAIL_BACKEND = "tests.notifications.test_outbox.RefusingBackend"
        settings.EMAIL_MAX_ATTEMPTS = 2
        delivered(org)
        email = caseworker_email(org)
        assert [email_send(email_id=email.pk) for _ in range(3)] == ["retry", "failed", ""]
        email.refresh_from_db()
        assert (email.state, email.reason, email.attempts) == (Email.State.FAILED, Email.Reason.REFUSED, 2)


class EmailRecheckTests:
    def test_it_drops_the_email_when_the_service_lost_the_permission_after_delivery(self, org, mailoutbox):
        concern, _reminder = delivered(org)
        permissions.revoke_from_service(perm=HANDLER, obj=concern, service=org.barnevern)
        email = caseworker_email(org)
        assert email_send(email_id=email.pk) == "dropped"
        email.refresh_from_db()
        assert (email.state, email.reason) == (Email.State.DROPPED, Email.Reason.NO_ACCESS)
        assert mailoutbox == []

    def test_it_drops_the_email_of_a_recipient_who_left_the_service(self, org, mailoutbox):
        delivered(org)
        membership_set(user=org.caseworker, service=org.barnevern, active=False)
        assert email_send(email_id=caseworker_email(org).pk) == "dropped"
        leader_email = Email.objects.get(notification__user=org.bv_leader)
        assert email_send(email_id=leader_email.pk) == "sent"
        assert [m.to for m in mailoutbox] == [[org.bv_leader.email]]

    def test_it_drops_the_email_of_a_deactivated_user(self, org, mailoutbox):
        delivered(org)
        org.caseworker.is_active = False
        org.caseworker.save(update_fields=["is_active"])
        email = caseworker_email(org)
        assert email_send(email_id=email.pk) == "dropped"
        email.refresh_from_db()
        assert email.reason == Email.Reason.NO_ACCESS
        assert mailoutbox == []


class RequeueTests:
    def test_it_republishes_emails_whose_task_was_lost(self, org, eager_celery, mailoutbox):
        with time_machine.travel(SENT, tick=False) as traveller:
            delivered(org)  # the send tasks were never published (no on-commit here)
            assert emails_requeue() == 0, "a young e-mail's task may still be queued"
            traveller.shift(timedelta(seconds=61))
            assert emails_requeue() == 2
        assert sorted(m.to[0] for m in mailoutbox) == sorted([org.caseworker.email, org.bv_leader.email])
        assert set(Email.objects.values_list("state", flat=True)) == {Email.State.SENT}

    def test_it_leaves_sent_and_live_claimed_emails_alone(self, org, eager_celery):
        with time_machine.travel(SENT, tick=False) as traveller:
            delivered(org)
            caseworker, leader = caseworker_email(org), Email.objects.get(notification__user=org.bv_leader)
            Email.objects.filter(pk=caseworker.pk).update(state=Email.State.SENT)
            Email.objects.filter(pk=leader.pk).update(state=Email.State.SENDING, claimed_until=SENT + timedelta(minutes=5))
            traveller.shift(timedelta(minutes=2))
            assert emails_requeue() == 0
            traveller.shift(timedelta(minutes=4))  # the leader's attempt was interrupted: its claim is over
            assert emails_requeue() == 1


def due_reminders(org, count):
    """``count`` reminders due at SENT: a melding's arrival reminder and ``count - 1`` more on it
    (the melding's deadline reminders fall due days later and stay out of these sweeps)."""
    concern = make_melding(org)
    for i in range(count - 1):
        reminder_schedule(
            key=f"test:{i}", obligation="test", kind=Reminder.Kind.REMINDER, message=f"Påminnelse {i}",
            service=org.barnevern, audience=Reminder.Audience.STAFF, subject=concern, required_perm=HANDLER,
            due_at=SENT - timedelta(minutes=1),
        )
    return concern


class SweepBatchTests:
    def test_it_claims_batch_after_batch_until_none_is_due(self, org):
        with time_machine.travel(SENT, tick=False):
            due_reminders(org, 5)
            assert reminders_sweep(limit=2) == 5
            assert not Reminder.objects.filter(due_at__lte=SENT, sent_at__isnull=True).exists()

    def test_it_stops_when_its_time_budget_is_spent_and_says_rows_are_left(self, org):
        # One batch of two (a transaction on PostgreSQL, a claim on SQLite), then it stops.
        with time_machine.travel(SENT, tick=False):
            due_reminders(org, 5)
            assert reminders_sweep_run(limit=2, budget_seconds=0) == (2, True)
            assert Reminder.objects.filter(due_at__lte=SENT, sent_at__isnull=True, claimed_until__isnull=True).count() == 3
            assert reminders_sweep_run(limit=2) == (3, False)

    def test_a_batch_costs_the_same_queries_for_three_reminders_as_for_thirty(self, org, postgresql_only):
        def sweep_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                delivered, more = reminders_sweep_run(limit=50)
            assert not more and not Reminder.objects.filter(due_at__lte=SENT, sent_at__isnull=True).exists()
            return delivered, len(queries)

        with time_machine.travel(SENT, tick=False):
            first = due_reminders(org, 3)
            few = sweep_queries()
            # Thirty more on two subjects: a new melding's arrival reminder, twenty to its staff, nine to leaders.
            second = make_melding(org)
            for i in range(29):
                leaders = i < 9
                reminder_schedule(
                    key=f"{'leaders' if leaders else 'more'}:{i}", obligation="more", kind=Reminder.Kind.REMINDER,
                    message=f"Påminnelse {i}", service=org.barnevern,
                    audience=Reminder.Audience.LEADERS if leaders else Reminder.Audience.STAFF,
                    subject=first if leaders else second, required_perm=HANDLER, due_at=SENT - timedelta(minutes=1),
                )
            many = sweep_queries()
        assert (few[0], many[0]) == (3, 30)
        assert few[1] == many[1] <= 13, (few, many)  # two batches (one empty) and their savepoints
        leaders = Notification.objects.filter(reminder__key__startswith="leaders:")
        assert set(leaders.values_list("user_id", flat=True)) == {org.bv_leader.pk}

    def test_it_releases_a_failing_reminder_for_the_next_sweep(self, org, caplog):
        with time_machine.travel(SENT, tick=False):
            concern = due_reminders(org, 3)
            # A reminder about a kind of object the code no longer has: its delivery raises.
            gone = ContentType.objects.create(app_label="gone", model="removedmodel")
            broken = reminder_schedule(
                key="broken", obligation="broken", kind=Reminder.Kind.REMINDER, message="x", service=org.barnevern,
                audience=Reminder.Audience.STAFF, subject=concern, required_perm=HANDLER, due_at=SENT - timedelta(hours=1),
            )
            Reminder.objects.filter(pk=broken.pk).update(subject_type=gone)
            with caplog.at_level(logging.ERROR, logger="notifications.services"):
                assert reminders_sweep() == 3
            broken.refresh_from_db()
            assert (broken.sent_at, broken.claimed_until, broken.attempts) == (None, None, 1)
            assert f"reminder delivery failed, left for the next sweep id={broken.pk}" in caplog.text
            # The next sweep tries it again at once, not after a claim.
            assert reminders_sweep() == 0
            broken.refresh_from_db()
            assert (broken.sent_at, broken.attempts) == (None, 2)


class DeliveryLogTests:
    def test_it_logs_a_delivery_as_delivered_when_only_the_email_enqueue_fails(
        self, org, caplog, django_capture_on_commit_callbacks
    ):
        concern = make_melding(org)
        reminder = Reminder.objects.get(key=f"concern:{concern.pk}:submitted:{org.barnevern.pk}")
        saved = celery_app.conf.broker_url, celery_app.conf.task_publish_retry
        celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", task_publish_retry=False)
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        try:
            with caplog.at_level(logging.INFO, logger="notifications.services"):
                with django_capture_on_commit_callbacks(execute=True):
                    assert reminders_sweep() >= 1
        finally:
            celery_app.conf.update(broker_url=saved[0], task_publish_retry=saved[1])
            celery_app._pool = None
            celery_app.amqp._producer_pool = None
        assert Notification.objects.filter(reminder=reminder).count() == 2
        assert f"reminder delivered id={reminder.pk} e-mails=2" in caplog.text
        assert "e-mail not enqueued, the sweep will requeue it" in caplog.text
        assert "reminder delivery failed" not in caplog.text
        assert set(Email.objects.values_list("state", flat=True)) == {Email.State.QUEUED}
