"""Reminders survive racing sweeps, killed workers and a lost Redis queue (design: "Reminders and deadlines").

Everything here is real: PostgreSQL, Redis and Celery worker subprocesses. Each test commits its rows
(``transactional_db``) so that the workers, pointed at pytest-django's test database, see them.
Workers consume the Redis DB in REDIS_URL (flushed before and after each test), write mail to files
in a temporary directory, and are always stopped in teardown.
"""
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from config.celery import MAIL_QUEUE, SWEEPS_QUEUE
from notifications.models import Email, Notification, Reminder
from notifications.services import reminder_deliver_one, reminder_schedule, reminders_sweep
from org.models import Membership
from tests.factories import make_melding
from tests.notifications.workers import ALL_QUEUES, SWEEP, WAIT, enqueue, sent_mail, wait_until
from workflows.concern.services import HANDLER

SEND = "notifications.tasks.send_email"


# Serialized rollback: these tests start from, and leave, the migrated database (permissions,
# content types, policies) instead of a flushed one that later transactional tests would inherit.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _notifications_per_recipient(reminder_ids):
    rows = Notification.objects.filter(reminder_id__in=reminder_ids).values_list("reminder_id", "user_id")
    counts = {}
    for key in rows:
        counts[key] = counts.get(key, 0) + 1
    return counts


def _expected_recipients(reminder: Reminder) -> set[int]:
    members = Membership.objects.filter(service=reminder.service, active=True)
    if reminder.audience == Reminder.Audience.LEADERS:
        members = members.filter(role=Membership.Role.LEADER)
    return set(members.values_list("user_id", flat=True))


def _due_reminders(org, count: int) -> list[int]:
    """``count`` due reminders: the real "a concern has arrived" reminder of each submitted melding,
    plus reminders scheduled on those concerns for staff and for leaders."""
    concerns = [make_melding(org) for _ in range(4)]
    now = timezone.now()
    for i in range(count - len(concerns)):
        concern = concerns[i % len(concerns)]
        reminder_schedule(
            key=f"test:{concern.pk}:{i}", obligation=f"test:{concern.pk}", kind=Reminder.Kind.REMINDER,
            message=f"Påminnelse {i}", service=org.barnevern,
            audience=Reminder.Audience.LEADERS if i % 3 == 0 else Reminder.Audience.STAFF,
            subject=concern, required_perm=HANDLER, due_at=now - timedelta(seconds=i),
        )
    ids = list(Reminder.objects.filter(due_at__lte=timezone.now(), sent_at__isnull=True).values_list("id", flat=True))
    assert len(ids) == count
    return ids


def _assert_delivered_exactly_once(reminder_ids):
    reminders = list(Reminder.objects.filter(id__in=reminder_ids))
    assert all(r.sent_at is not None for r in reminders)
    counts = _notifications_per_recipient(reminder_ids)
    assert set(counts.values()) == {1}, "a (reminder, user) got more than one notification"
    for reminder in reminders:
        got = {user_id for (rid, user_id) in counts if rid == reminder.pk}
        assert got == _expected_recipients(reminder), reminder.key
    return counts


@pytest.mark.services
class RacingSweepsTests:
    def test_it_delivers_each_reminder_once_when_two_worker_sweeps_race(self, committed_org, start_worker, mail_dir):
        reminder_ids = _due_reminders(committed_org, 40)
        # Small batches make the two sweeps split the rows (SKIP LOCKED); a short claim and a slowed
        # delivery make the later sweeps re-claim rows that the first ones are still delivering.
        worker = start_worker("race", concurrency=4, REMINDER_SWEEP_BATCH=20, REMINDER_CLAIM_SECONDS=1,
                              REMINDER_DELIVERY_PAUSE_SECONDS=0.1)

        first = [enqueue(SWEEP), enqueue(SWEEP)]
        pending = Reminder.objects.filter(id__in=reminder_ids)
        wait_until(lambda: not pending.filter(claimed_until__isnull=True).exists(), "both sweeps to claim their rows")
        last_claim = max(pending.values_list("claimed_until", flat=True))
        wait_until(lambda: timezone.now() > last_claim, "the claims to expire", interval=0.05)
        assert pending.filter(sent_at__isnull=True).exists(), "delivery is not slow enough for the race"
        second = [enqueue(SWEEP), enqueue(SWEEP)]

        wait_until(lambda: not Reminder.objects.filter(id__in=reminder_ids, sent_at__isnull=True).exists(),
                   "every reminder to be sent")
        for task_id in first + second:
            worker.wait_task_done(task_id)
        counts = _assert_delivered_exactly_once(reminder_ids)
        assert Reminder.objects.filter(id__in=reminder_ids, attempts__gte=2).exists(), "no claim expired: the race did not happen"

        # Every notification's e-mail is sent, once.
        wait_until(lambda: not Email.objects.exclude(state=Email.State.SENT).exists(), "every e-mail to be sent")
        assert len(sent_mail(mail_dir)) == len(counts) == Notification.objects.count() == Email.objects.count()

    def test_it_delivers_each_reminder_once_when_two_threads_sweep_at_once(self, committed_org, broker):
        reminder_ids = _due_reminders(committed_org, 40)
        barrier = threading.Barrier(2)
        delivered, errors = [], []

        def sweep():
            try:
                barrier.wait()
                while n := reminders_sweep(limit=7):
                    delivered.append(n)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert not errors
        assert sum(delivered) == len(reminder_ids)
        _assert_delivered_exactly_once(reminder_ids)


class ReleaseAfterOutageTests:
    def test_it_releases_a_stopped_sweeps_claims_once_the_database_answers_again(self, committed_org, postgresql_only):
        """The sweep's connection is cut (as a database restart cuts it) after it claimed its rows:
        they go back at once, not after the two-minute claim."""
        from notifications.services import _release_retrying, reminders_claim

        reminder_ids = _due_reminders(committed_org, 5)
        claimed = reminders_claim()
        assert set(reminder_ids) <= set(claimed)
        ours = connection.connection.info.backend_pid
        with psycopg.connect(
            host=connection.settings_dict["HOST"] or "127.0.0.1", port=connection.settings_dict["PORT"] or 5432,
            user=connection.settings_dict["USER"], dbname=connection.settings_dict["NAME"], autocommit=True,
        ) as other:
            assert other.execute("SELECT pg_terminate_backend(%s)", [ours]).fetchone()[0]

        _release_retrying(claimed)
        assert not Reminder.objects.filter(id__in=claimed, claimed_until__isnull=False).exists()


def _in_delivery(db_name: str) -> bool:
    """A worker holds a reminder row locked inside ``reminder_deliver_one`` (its transaction is open)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction' "
            "AND query LIKE %s AND query LIKE %s AND query NOT LIKE %s",
            [db_name, "%notifications_reminder%", "%FOR UPDATE%", "%SKIP LOCKED%"],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.services
class KilledWorkerTests:
    def test_it_delivers_after_a_worker_is_killed_mid_delivery(self, committed_org, start_worker, mail_dir):
        org = committed_org
        concern = make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
        assert reminder.subject_id == concern.pk

        doomed = start_worker("doomed", concurrency=1, REMINDER_DELIVERY_PAUSE_SECONDS=20, REMINDER_CLAIM_SECONDS=2)
        enqueue(SWEEP)
        db_name = connection.settings_dict["NAME"]
        wait_until(lambda: Reminder.objects.filter(pk=reminder.pk, claimed_until__isnull=False).exists(), "the claim")
        wait_until(lambda: _in_delivery(db_name), "the worker to be inside delivery")

        doomed.kill()
        # PostgreSQL rolls back the dead worker's transaction; nothing of the delivery survives.
        wait_until(lambda: not _in_delivery(db_name), "the dead worker's transaction to end")
        reminder.refresh_from_db()
        assert reminder.sent_at is None and reminder.claimed_until is not None and reminder.attempts == 1
        assert not Notification.objects.exists()

        start_worker("fresh", concurrency=2)
        wait_until(lambda: timezone.now() > reminder.claimed_until, "the claim to expire")
        enqueue(SWEEP)  # the next beat tick

        wait_until(lambda: Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=False).exists(), "the delivery")
        reminder.refresh_from_db()
        assert reminder.attempts == 2
        notified = sorted(Notification.objects.filter(reminder=reminder).values_list("user_id", flat=True))
        assert notified == sorted([org.caseworker.pk, org.bv_leader.pk])
        wait_until(lambda: len(sent_mail(mail_dir)) == 2, "the two e-mails")
        assert sent_mail(mail_dir) == sorted([org.caseworker.email, org.bv_leader.email])

    def test_it_sends_one_email_when_the_send_task_is_delivered_again(self, committed_org, start_worker, broker, mail_dir):
        org = committed_org
        make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
        assert reminder_deliver_one(reminder_id=reminder.pk)
        broker.flushdb()  # only the three tasks below
        email = Email.objects.get(notification__user=org.caseworker)
        worker = start_worker("mailer", concurrency=2)

        # The same send task three times: twice at once (a redelivery racing the original), once later.
        racing = [enqueue(SEND, email.pk), enqueue(SEND, email.pk)]
        for task_id in racing:
            worker.wait_task_done(task_id)
        worker.wait_task_done(enqueue(SEND, email.pk))

        email.refresh_from_db()
        assert (email.state, email.attempts) == (Email.State.SENT, 1)
        assert sent_mail(mail_dir) == [org.caseworker.email]
        log = worker.log()
        assert log.count("succeeded in") == 3 and log.count(": 'sent'") == 1 and log.count(": ''") == 2, log


def _mail_files(mail_dir) -> list[str]:
    return [file.read_text(errors="replace") for file in mail_dir.iterdir()]


@pytest.mark.services
class KilledInsideSendTests:
    def test_it_sends_an_email_once_when_its_worker_is_killed_inside_a_slow_send(self, committed_org, start_worker, mail_dir):
        org = committed_org
        make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
        assert reminder_deliver_one(reminder_id=reminder.pk)  # publishes both send tasks on commit
        emails = Email.objects.filter(notification__reminder=reminder)
        assert emails.count() == 2

        # A mail server that takes 5 s to answer; one send at a time, so one e-mail is in flight.
        doomed = start_worker("doomed-mailer", concurrency=1, queues=MAIL_QUEUE, EMAIL_CLAIM_SECONDS=2,
                              TEST_EMAIL_BACKEND="tests.notifications.worker_fakes.SlowFileBackend",
                              TEST_EMAIL_DELAY_SECONDS=5)
        in_flight = wait_until(lambda: emails.filter(state=Email.State.SENDING).first(), "an e-mail to be in flight")
        time.sleep(1)  # inside the five seconds the server takes
        doomed.kill()
        assert _mail_files(mail_dir) == [], "the server took no message from the killed worker"
        in_flight.refresh_from_db()
        assert (in_flight.state, in_flight.attempts) == (Email.State.SENDING, 1)

        start_worker("fresh", concurrency=2, queues=ALL_QUEUES, EMAIL_CLAIM_SECONDS=2)
        wait_until(lambda: timezone.now() > in_flight.claimed_until, "the interrupted attempt's claim to expire")
        enqueue(SWEEP)  # the next beat tick requeues it
        wait_until(lambda: not emails.exclude(state=Email.State.SENT).exists(), "both e-mails to be sent")

        assert sent_mail(mail_dir) == sorted([org.caseworker.email, org.bv_leader.email])
        in_flight.refresh_from_db()
        assert in_flight.attempts == 2
        texts = _mail_files(mail_dir)
        for email in emails:
            assert sum(f"Message-ID: {email.message_id}" in text for text in texts) == 1


@pytest.mark.services
class LostQueueTests:
    def test_it_delivers_on_the_next_sweep_when_the_queue_is_lost(self, committed_org, start_worker, broker, mail_dir):
        org = committed_org
        make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)

        enqueue(SWEEP)
        assert broker.llen(SWEEPS_QUEUE) == 1
        broker.flushdb()  # Redis restarted without its data: the queued sweep is gone
        assert broker.llen(SWEEPS_QUEUE) == 0

        worker = start_worker("after-flush", concurrency=2)
        time.sleep(1)
        reminder.refresh_from_db()
        assert reminder.sent_at is None and reminder.attempts == 0
        assert not Notification.objects.exists()

        worker.wait_task_done(enqueue(SWEEP))  # the next beat tick
        reminder.refresh_from_db()
        assert reminder.sent_at is not None and reminder.attempts == 1
        assert Notification.objects.filter(reminder=reminder).count() == 2
        wait_until(lambda: len(sent_mail(mail_dir)) == 2, "the two e-mails")
        assert sent_mail(mail_dir) == sorted([org.caseworker.email, org.bv_leader.email])

    def test_it_sends_lost_emails_on_a_later_sweep(self, committed_org, start_worker, broker, mail_dir):
        org = committed_org
        make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)

        assert reminder_deliver_one(reminder_id=reminder.pk)  # enqueues the two send tasks on commit
        assert broker.llen(MAIL_QUEUE) == 2
        broker.flushdb()
        # The sweep re-enqueues e-mails unsent for a minute; let that minute pass.
        Email.objects.update(created_at=timezone.now() - timedelta(minutes=2))

        worker = start_worker("requeue", concurrency=2)
        worker.wait_task_done(enqueue(SWEEP))
        wait_until(lambda: not Email.objects.exclude(state=Email.State.SENT).exists(), "the e-mails")
        assert sent_mail(mail_dir) == sorted([org.caseworker.email, org.bv_leader.email])
        reminder.refresh_from_db()
        assert reminder.attempts == 0  # delivered once, never swept again
