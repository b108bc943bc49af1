"""The reminder sweep: once per recipient, re-checked at delivery, cancelled means never, and
e-mails that identify no one. Real database, real guardian checks, Celery run eagerly in-process.

Personas: ``caseworker`` and ``bv_leader`` (Barneverntjenesten) receive "a new concern has arrived"
when ``reporter`` (Solsiden barnehage) sends a melding.
"""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from notifications.models import Notification, Reminder
from notifications.models import Email
from notifications.services import email_send, reminder_cancel, reminders_claim, reminders_sweep
from org import permissions
from org.services import membership_set
from workflows.concern.services import HANDLER, concern_confirm_receipt
from tests.factories import make_melding

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
SENT = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)


def arrival_reminder(org, concern):
    """The "a new concern has arrived" reminder to barnevern, due when the melding is sent."""
    return Reminder.objects.get(key=f"concern:{concern.pk}:submitted:{org.barnevern.pk}")


def notified(reminder):
    return set(Notification.objects.filter(reminder=reminder).values_list("user_id", flat=True))



@pytest.fixture
def swept_with_mail(org, eager_celery, mailoutbox, django_capture_on_commit_callbacks):
    """A melding sent and swept, its e-mails sent through the real task (locmem backend)."""
    concern = make_melding(org)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_sweep()
    return concern


class SweepOnceTests:
    def test_it_notifies_each_barnevern_member_once(self, org):
        concern = make_melding(org)
        reminders_sweep()
        assert notified(arrival_reminder(org, concern)) == {org.caseworker.pk, org.bv_leader.pk}

    def test_it_writes_nothing_more_when_swept_twice(self, org):
        make_melding(org)
        reminders_sweep()
        first = Notification.objects.count()
        assert reminders_sweep() == 0
        assert Notification.objects.count() == first

    def test_it_writes_no_duplicate_when_a_delivered_reminder_is_delivered_again(self, org):
        # As if the row had been delivered but its "sent" mark lost: the unique key holds.
        concern = make_melding(org)
        reminders_sweep()
        reminder = arrival_reminder(org, concern)
        Reminder.objects.filter(pk=reminder.pk).update(sent_at=None, claimed_until=None)
        reminders_sweep()
        assert Notification.objects.filter(reminder=reminder).count() == 2

    def test_it_marks_a_delivered_reminder_sent(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
            reminders_sweep()
        assert arrival_reminder(org, concern).sent_at == SENT

    def test_it_leaves_a_claimed_reminder_to_its_claimant(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
            claimed = reminders_claim()
            assert arrival_reminder(org, concern).pk in claimed
            assert arrival_reminder(org, concern).pk not in reminders_claim()

    def test_it_reclaims_a_reminder_whose_claim_expired(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            reminders_claim()
            traveller.shift(timedelta(seconds=settings.REMINDER_CLAIM_SECONDS + 1))
            assert arrival_reminder(org, concern).pk in reminders_claim()

    def test_it_does_not_deliver_before_the_due_time(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            Reminder.objects.filter(pk=arrival_reminder(org, concern).pk).update(due_at=SENT + timedelta(minutes=5))
            traveller.shift(timedelta(minutes=4))
            reminders_sweep()
        assert notified(arrival_reminder(org, concern)) == set()


class DeliveryRecheckTests:
    def test_it_skips_recipients_whose_service_lost_permission(self, org):
        concern = make_melding(org)
        permissions.revoke_from_service(perm=HANDLER, obj=concern, service=org.barnevern)
        reminders_sweep()
        reminder = arrival_reminder(org, concern)
        assert notified(reminder) == set()
        assert reminder.sent_at is not None

    def test_it_skips_a_recipient_who_left_the_service(self, org):
        concern = make_melding(org)
        membership_set(user=org.caseworker, service=org.barnevern, active=False)
        reminders_sweep()
        assert notified(arrival_reminder(org, concern)) == {org.bv_leader.pk}

    def test_it_never_delivers_a_cancelled_reminder(self, org):
        concern = make_melding(org)
        reminder = arrival_reminder(org, concern)
        assert reminder_cancel(obligation=reminder.obligation) >= 1
        reminders_sweep()
        reminder.refresh_from_db()
        assert notified(reminder) == set()
        assert reminder.sent_at is None

    def test_it_keeps_a_cancelled_reminder_cancelled_after_its_due_time(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            concern = make_melding(org)
            receipt_alarm = Reminder.objects.get(subject_id=concern.pk, kind=Reminder.Kind.ALARM)
            concern_confirm_receipt(concern=concern, user=org.caseworker)
            traveller.shift(timedelta(days=2))
            reminders_sweep()
        receipt_alarm.refresh_from_db()
        assert (receipt_alarm.cancelled_at, receipt_alarm.sent_at) == (SENT, None)
        assert not Notification.objects.filter(reminder=receipt_alarm).exists()


class EmailTests:
    def test_it_emails_each_recipient(self, org, swept_with_mail, mailoutbox):
        assert sorted(address for m in mailoutbox for address in m.to) == sorted([org.caseworker.email, org.bv_leader.email])

    def test_it_keeps_identifying_data_out_of_the_subject(self, org, swept_with_mail, mailoutbox):
        concern, child = swept_with_mail, swept_with_mail.person
        for mail in mailoutbox:
            for secret in (child.given_name, child.family_name, child.national_id, concern.reference, str(concern.code)):
                assert secret.lower() not in mail.subject.lower()
            assert not re.search(r"\d{6}", mail.subject)

    def test_it_keeps_names_and_numbers_out_of_the_body(self, org, swept_with_mail, mailoutbox):
        child = swept_with_mail.person
        for mail in mailoutbox:
            for secret in (child.given_name, child.family_name, child.national_id):
                assert secret not in mail.body

    def test_it_links_to_the_concern_in_the_body(self, org, swept_with_mail, mailoutbox):
        link = settings.SITE_URL.rstrip("/") + reverse("concerns:detail", args=[swept_with_mail.code])
        assert all(link in mail.body for mail in mailoutbox)

    def test_it_marks_the_email_sent_in_the_outbox(self, org, swept_with_mail):
        email = Email.objects.get(notification__user=org.caseworker)
        assert (email.state, email.attempts, email.claimed_until) == (Email.State.SENT, 1, None)
        assert email.sent_at is not None

    def test_it_sends_each_email_once(self, org, swept_with_mail, mailoutbox):
        email = Email.objects.get(notification__user=org.caseworker)
        sent = len(mailoutbox)
        assert email_send(email_id=email.pk) == ""
        assert len(mailoutbox) == sent

    def test_it_carries_the_outbox_message_id_as_the_idempotency_key(self, org, swept_with_mail, mailoutbox):
        ids = {m.to[0]: m.extra_headers["Message-ID"] for m in mailoutbox}
        assert ids == dict(Email.objects.values_list("notification__user__email", "message_id"))
        assert len(set(ids.values())) == 2

    def test_it_sends_no_email_to_a_user_without_an_address(self, org, eager_celery, mailoutbox, django_capture_on_commit_callbacks):
        org.caseworker.email = ""
        org.caseworker.save(update_fields=["email"])
        make_melding(org)
        with django_capture_on_commit_callbacks(execute=True):
            reminders_sweep()
        assert Notification.objects.filter(user=org.caseworker).exists()
        assert not Email.objects.filter(notification__user=org.caseworker).exists()
        assert [m.to for m in mailoutbox] == [[org.bv_leader.email]]


def badge(content: bytes):
    match = re.search(rb'data-testid="unread-count"[^>]*>([^<]*)<', content)
    return match.group(1).decode().strip() if match else None


class UnreadCountTests:
    def test_it_shows_the_unread_count_in_the_page_header(self, client, org):
        make_melding(org)
        make_melding(org)
        reminders_sweep()
        client.force_login(org.caseworker)
        assert badge(client.get(reverse("concerns:intake")).content) == "2"

    def test_it_shows_no_badge_without_unread_notifications(self, client, org):
        make_melding(org)
        reminders_sweep()
        client.force_login(org.reporter)
        assert badge(client.get(reverse("concerns:index")).content) is None

    def test_it_clears_the_badge_when_all_are_read(self, client, org):
        make_melding(org)
        reminders_sweep()
        client.force_login(org.caseworker)
        client.post(reverse("notifications:read_all"))
        assert badge(client.get(reverse("concerns:intake")).content) is None

    def test_it_counts_down_when_one_is_read(self, client, org):
        make_melding(org)
        make_melding(org)
        reminders_sweep()
        client.force_login(org.caseworker)
        client.post(reverse("notifications:read", args=[Notification.objects.filter(user=org.caseworker).first().pk]))
        assert badge(client.get(reverse("concerns:intake")).content) == "1"

    def test_it_does_not_let_a_user_mark_someone_elses_notification_read(self, client, org):
        make_melding(org)
        reminders_sweep()
        theirs = Notification.objects.get(user=org.caseworker)
        client.force_login(org.bv_leader)
        response = client.post(reverse("notifications:read", args=[theirs.pk]))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_it_answers_404_for_a_missing_notification(self, client, org):
        client.force_login(org.caseworker)
        assert client.post(reverse("notifications:read", args=[987654])).status_code == 404

    def test_it_caps_the_badge_at_99_plus(self, client, org):
        Notification.objects.bulk_create(
            Notification(user=org.caseworker, kind=Reminder.Kind.INFO, message=f"Melding {n}") for n in range(120)
        )
        client.force_login(org.caseworker)
        assert badge(client.get(reverse("concerns:intake")).content) == "99+"
