"""Reminders survive racing sweeps, killed workers and a lost Redis queue (design: "Reminders and deadlines").

Everything here is real: PostgreSQL, Redis and Celery worker subprocesses. Each test commits its rows
(``transactional_db``) so that the workers, pointed at pytest-django's test database, see them.
Workers consume the Redis DB in REDIS_URL (flushed before and after each test), write mail to files
in a temporary directory, and are always stopped in teardown.
"""
import re
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from config.celery import MAIL_QUEUE, SWEEPS_QUEUE
from notifications.models import Email, Notification, Reminder
from notifications.services import reminder_deliver_one, reminder_schedule, reminders_sweep
from org.models import Membership
from tests.factories import make_melding
from tests.notifications.workers import ALL_QUEUES, SWEEP, WAIT, WAIT_WITH_BOOT, enqueue, sent_mail, wait_until
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
    def test_two_worker_sweeps_split_the_rows_and_no_more_run_than_the_slots(self, committed_org, start_worker, mail_dir):
        reminder_ids = _due_reminders(committed_org, 40)
        # Four sweeps at once on four pool processes, two slots: two sweep, the other two end at once.
        # Small batches and a slowed delivery keep the two in the rows together, each taking the rows
        # the other skips.
        worker = start_worker("race", concurrency=4, REMINDER_SWEEP_PARALLEL=2, REMINDER_SWEEP_BATCH=3,
                              REMINDER_DELIVERY_PAUSE_SECONDS=0.05)

        tasks = [enqueue(SWEEP) for _ in range(4)]
        for task_id in tasks:
            worker.wait_task_done(task_id)
        counts = _assert_delivered_exactly_once(reminder_ids)
        log = worker.log()
        deliverers = set(re.findall(r"/(ForkPoolWorker-\d+)\] reminder delivered id=", log))
        assert len(deliverers) == 2, log
        # The sweeps that held a slot delivered the forty; every other one (two of the four, and those
        # the backlog made them start) ended with none.
        results = [int(n) for n in re.findall(r"sweep_reminders\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)]
        assert len(results) >= 4 and sum(results) == len(reminder_ids) and sum(1 for n in results if n) == 2, log
        assert Reminder.objects.filter(id__in=reminder_ids, attempts=1).count() == len(reminder_ids)

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


def _in_delivery(reminder_id: int) -> bool:
    """Someone (a worker inside delivery) holds the reminder's row locked in an open transaction."""
    with transaction.atomic():
        return not Reminder.objects.select_for_update(skip_locked=True).filter(pk=reminder_id).exists()


def _terminate_deliveries(db_name: str) -> int:
    """Cut the connection of every worker inside delivery, as a database restart cuts it."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db_name, autocommit=True) as other:
        rows = other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction' "
            "AND query LIKE %s",
            [db_name, "%notifications_reminder%"],
        ).fetchall()
    return len(rows)


@pytest.mark.services
class DatabaseAwayTests:
    def test_a_sweep_cut_off_by_the_database_tries_again_within_seconds(self, committed_org, start_worker):
        org = committed_org
        make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
        # Delivery pauses 3 s the first time round; the retry comes after 1 s, not at the next beat tick.
        worker = start_worker("cut-off", concurrency=1, REMINDER_DELIVERY_PAUSE_SECONDS=3, REMINDER_SWEEP_RETRY_SECONDS=1)
        db_name = connection.settings_dict["NAME"]
        enqueue(SWEEP)  # the only sweep this test publishes
        wait_until(lambda: _in_delivery(reminder.pk), "the worker to be inside delivery", timeout=WAIT_WITH_BOOT)
        assert _terminate_deliveries(db_name) == 1

        wait_until(lambda: Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=False).exists(), "the retried sweep's delivery")
        reminder.refresh_from_db()
        assert reminder.attempts == 1
        assert Notification.objects.filter(reminder=reminder).count() == 2
        log = worker.log()
        assert "reminder sweep stopped, the database is away; trying again in 1.0s" in log, log
        assert log.count("reminder delivered id=") == 1, log


@pytest.mark.services
class KilledWorkerTests:
    def test_the_next_sweep_delivers_at_once_after_a_worker_is_killed_mid_delivery(self, committed_org, start_worker, mail_dir):
        org = committed_org
        concern = make_melding(org)
        reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
        assert reminder.subject_id == concern.pk

        doomed = start_worker("doomed", concurrency=1, REMINDER_DELIVERY_PAUSE_SECONDS=20, REMINDER_SWEEP_PARALLEL=1)
        enqueue(SWEEP)
        wait_until(lambda: _in_delivery(reminder.pk), "the worker to be inside delivery", timeout=WAIT_WITH_BOOT)

        doomed.kill()
        # PostgreSQL rolls back the dead worker's transaction and frees its row lock and its sweep
        # slot; nothing of the delivery survives, and nothing is left claimed.
        wait_until(lambda: not _in_delivery(reminder.pk), "the dead worker's transaction to end")
        reminder.refresh_from_db()
        assert (reminder.sent_at, reminder.claimed_until, reminder.attempts) == (None, None, 0)
        assert not Notification.objects.exists()

        fresh = start_worker("fresh", concurrency=2, REMINDER_SWEEP_PARALLEL=1)
        started = time.monotonic()
        fresh.wait_task_done(enqueue(SWEEP))  # the next beat tick (or the killed task, redelivered)
        assert time.monotonic() - started < 10, "the next sweep waited for something"
        reminder.refresh_from_db()
        assert reminder.sent_at is not None and reminder.attempts == 1
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
        assert sent_mail(mail_dir) == [], "the server took no message from the killed worker"
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
        assert reminder.attempts == 1  # delivered once, never swept again
