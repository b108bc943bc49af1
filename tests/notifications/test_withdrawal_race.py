"""A consent withdrawal racing the delivery of a notice about what rested on it (issue 12, point 2).

Real PostgreSQL, real row locks, two real connections (threads). Each race is made deterministic by
holding one side's transaction open at a chosen point and observing, in pg_stat_activity, that the
other side waits for it. The rule under test: nothing is written or e-mailed for a recipient after
the commit that took the recipient's access away.

Personas (tests.referral_factories): ``sender`` in Rådgivning refers Kari, on her consent, to
Tildelingskontoret, whose ``tildeling_staff`` is told "a new referral has arrived". The sender then
records that Kari withdrew her consent.
"""
import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.utils import timezone

from consent.services import consent_withdraw
from notifications.models import Email, Notification, Reminder
from notifications.services import email_send, reminder_deliver_one
from tests.notifications.workers import WAIT, wait_until
from tests.referral_factories import make_referral, make_referral_org
from workflows.withdrawal import consent_withdraw_cascade

# Serialized rollback: each test starts from the migrated data (age rules, policies), not a flushed database.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]

# The consent service alone revokes the grants and touches no reminder, so only the grant lock can
# order it against a delivery; the cascade (what the page calls) also cancels the referral's notices.
WITHDRAWALS = {"consent_withdraw": consent_withdraw, "consent_withdraw_cascade": consent_withdraw_cascade}


@pytest.fixture(autouse=True)
def postgresql(postgresql_only):
    """Row locks are the subject: PostgreSQL only."""


@pytest.fixture
def referred(transactional_db):
    """Kari referred to Tildelingskontoret on her consent; the arrival notice is due, not delivered."""
    ro = make_referral_org()
    referral = make_referral(ro)
    reminder = Reminder.objects.get(service=ro.tildeling, due_at__lte=timezone.now(), sent_at__isnull=True)
    return ro, referral, reminder


class Side(threading.Thread):
    """One side of a race on its own database connection: runs ``work`` in a transaction, sets
    ``reached`` when ``work`` is done, and commits only once ``release`` is set."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.reached, self.release = work, threading.Event(), threading.Event()
        self.result, self.error = None, None

    def run(self):
        try:
            with transaction.atomic():
                self.result = self.work()
                self.reached.set()
                assert self.release.wait(WAIT), "the test never released this side"
        except Exception as exc:  # noqa: BLE001 - reported by finish()
            self.error = exc
            self.reached.set()
        finally:
            connection.close()

    def finish(self):
        self.release.set()
        self.join(WAIT)
        assert not self.is_alive(), "a side of the race never ended"
        if self.error:
            raise self.error
        return self.result


def waiting_on_a_lock() -> int:
    """How many sessions of the test database wait for a row lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def withdraw(name, ro, referral):
    return lambda: WITHDRAWALS[name](consent=referral.consent, user=ro.sender, note="Trakk samtykket muntlig.")


@pytest.mark.parametrize("withdrawal", sorted(WITHDRAWALS))
class WithdrawalFirstTests:
    def test_it_delivers_nothing_when_the_withdrawal_commits_while_delivery_waits(self, referred, withdrawal):
        ro, referral, reminder = referred
        withdrawing = Side(withdraw(withdrawal, ro, referral))
        withdrawing.start()
        assert withdrawing.reached.wait(WAIT) and withdrawing.error is None, withdrawing.error
        delivering = Side(lambda: reminder_deliver_one(reminder_id=reminder.pk))
        delivering.start()
        delivering.release.set()  # it commits as soon as it is through

        wait_until(waiting_on_a_lock, "the delivery to wait for the withdrawal's locks")
        assert delivering.is_alive()
        withdrawing.finish()
        delivering.finish()

        assert not Notification.objects.filter(reminder=reminder).exists()
        assert not Email.objects.exists()


@pytest.mark.parametrize("withdrawal", sorted(WITHDRAWALS))
class DeliveryFirstTests:
    def test_it_commits_the_notice_first_and_then_drops_its_email(self, referred, withdrawal, mailoutbox):
        ro, referral, reminder = referred
        delivering = Side(lambda: reminder_deliver_one(reminder_id=reminder.pk))
        delivering.start()
        assert delivering.reached.wait(WAIT) and delivering.error is None, delivering.error
        withdrawing = Side(withdraw(withdrawal, ro, referral))
        withdrawing.start()
        withdrawing.release.set()

        wait_until(waiting_on_a_lock, "the withdrawal to wait for the delivery's locks")
        assert withdrawing.is_alive() and not withdrawing.reached.is_set()
        assert delivering.finish() is True
        withdrawing.finish()

        # The notice was committed before the withdrawal; its e-mail, due after it, is not sent.
        assert list(Notification.objects.filter(reminder=reminder).values_list("user_id", flat=True)) == [ro.tildeling_staff.pk]
        email = Email.objects.get(notification__reminder=reminder)
        assert email_send(email_id=email.pk) == "dropped"
        email.refresh_from_db()
        assert (email.state, email.reason) == (Email.State.DROPPED, Email.Reason.NO_ACCESS)
        assert mailoutbox == []


class HeldSendBackend(EmailBackend):
    """The in-memory mail backend, slow as a real mail server can be: it holds each send until the
    test releases it (``sending`` tells the test it has begun)."""

    sending = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        HeldSendBackend.sending.set()
        assert HeldSendBackend.release.wait(WAIT), "the test never released the mail server"
        return super().send_messages(messages)


class SendFirstTests:
    def test_it_makes_the_withdrawal_wait_for_an_email_already_being_sent(self, referred, settings):
        ro, referral, reminder = referred
        assert reminder_deliver_one(reminder_id=reminder.pk)
        email = Email.objects.get(notification__reminder=reminder)
        settings.EMAIL_BACKEND = "tests.notifications.test_withdrawal_race.HeldSendBackend"
        HeldSendBackend.sending.clear()
        HeldSendBackend.release.clear()
        mail.outbox = []

        sender = threading.Thread(target=lambda: (email_send(email_id=email.pk), connection.close()), daemon=True)
        sender.start()
        assert HeldSendBackend.sending.wait(WAIT)
        withdrawing = Side(withdraw("consent_withdraw", ro, referral))
        withdrawing.start()
        withdrawing.release.set()

        wait_until(waiting_on_a_lock, "the withdrawal to wait for the e-mail in flight")
        assert not withdrawing.reached.is_set()
        HeldSendBackend.release.set()
        sender.join(WAIT)
        withdrawing.finish()

        email.refresh_from_db()
        assert email.state == Email.State.SENT
        assert [m.to for m in mail.outbox] == [[ro.tildeling_staff.email]]
        referral.consent.refresh_from_db()
        assert referral.consent.withdrawn_at is not None
