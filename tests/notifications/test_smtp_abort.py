"""A send interrupted while the mail server is still deciding leaves the server exactly one message.

Two interruptions, each with real PostgreSQL, Redis, a Celery worker and an SMTP server (aiosmtpd) that
answers DATA after a delay and delivers only to a client still connected then (an MTA that commits to
delivery when it answers 250):

- The worker told to stop: Celery cancels the running tasks of a worker that loses its broker
  (``worker_cancel_long_running_tasks_on_connection_loss``) with SIGTERM to the pool process. The send
  holds the signal back until the server's answer is noted in the mail journal, so the server accepts
  the message once and the next attempt records it as sent without sending it again.
- A timeout: the send drops the connection without a goodbye (a polite QUIT would keep it open until the
  server answers, and the server would accept a message the next attempt sends again), so the server
  discards it and the next attempt sends it once.
"""
import asyncio
import email
import email.policy
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from config.celery import MAIL_QUEUE
from notifications.models import Email, Reminder
from notifications.services import emails_requeue, reminder_deliver_one
from tests.factories import make_melding
from tests.notifications.workers import ALL_QUEUES, SWEEP, enqueue, wait_until

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


class DecidingServer:
    """Answers the end of DATA after ``delay`` seconds; a message counts as accepted only if its client
    is still connected then (as an MTA that commits to delivery when it answers 250)."""

    def __init__(self):
        self.delay = 0.0
        self.lock = threading.Lock()
        self.accepted: list[str] = []  # Message-IDs
        self.discarded = 0
        self.deciding = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.deciding += 1
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            with self.lock:
                self.discarded += 1
            raise
        finally:
            with self.lock:
                self.deciding -= 1
        if server.transport is None or server.transport.is_closing():
            with self.lock:
                self.discarded += 1
            return "451 Client gone"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.accepted.append(str(message["Message-ID"]).strip())
        return "250 OK"


@pytest.fixture
def smtp_server():
    handler = DecidingServer()
    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _pool_children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


@pytest.fixture
def emails(committed_org, broker):
    """The two e-mails of a melding's reminder, their tasks published (on commit) to the test broker."""
    make_melding(committed_org)
    reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
    assert reminder_deliver_one(reminder_id=reminder.pk)
    return Email.objects.filter(notification__reminder=reminder)


def _smtp(port, **extra):
    return dict(TEST_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=port, EMAIL_CLAIM_SECONDS=3, **extra)


def _send_the_rest(start_worker, server, port, emails, requeue=lambda: enqueue(SWEEP)):
    """A fresh worker, a fast server: the interrupted attempt's claim expires, ``requeue`` (by default
    the next beat tick's sweep) publishes what is still to send."""
    server.delay = 0.0
    start_worker("after", concurrency=2, queues=ALL_QUEUES, **_smtp(port))
    wait_until(lambda: not emails.filter(state=Email.State.SENDING, claimed_until__gt=timezone.now()).exists(),
               "the interrupted attempt's claim to expire", timeout=10)
    requeue()
    wait_until(lambda: not emails.exclude(state=Email.State.SENT).exists(), "both e-mails to be sent")


def test_a_worker_told_to_stop_while_the_server_decides_waits_for_the_answer_and_the_mail_goes_once(
        emails, start_worker, smtp_server):
    server, port = smtp_server
    server.delay = 3.0
    worker = start_worker("cancelled", concurrency=1, queues=MAIL_QUEUE, **_smtp(port))
    wait_until(lambda: server.deciding, "a message to wait for the server's answer")
    time.sleep(0.5)
    (child,) = _pool_children(worker.proc.pid)
    os.kill(child, signal.SIGTERM)  # what Celery's cancel on a lost broker connection sends
    wait_until(lambda: not server.deciding, "the server to finish deciding")
    assert len(server.accepted) == 1 and server.discarded == 0, "the send must wait for the server's answer"
    first = server.accepted[0]
    wait_until(lambda: not Path(f"/proc/{child}").exists() or emails.filter(state=Email.State.SENT).exists(),
               "the told-to-stop process to stop once the answer is noted")
    worker.stop()

    _send_the_rest(start_worker, server, port, emails)
    assert sorted(server.accepted) == sorted(emails.values_list("message_id", flat=True))
    assert server.accepted.count(first) == 1, "the accepted message must not be sent again"


def test_a_send_that_times_out_while_the_server_decides_is_discarded_and_sent_once_later(
        emails, start_worker, smtp_server):
    server, port = smtp_server
    server.delay = 3.0
    worker = start_worker("impatient", concurrency=1, queues=MAIL_QUEUE, **_smtp(port, EMAIL_TIMEOUT=1))
    wait_until(lambda: server.discarded, "the timed-out send to leave the server a closed connection")
    wait_until(lambda: emails.filter(state=Email.State.QUEUED, attempts__gte=1).exists(), "the attempt to be marked failed")
    assert server.accepted == [], "a send that gave up must leave the server nothing to deliver"
    worker.stop()
    wait_until(lambda: not server.deciding, "the server to finish deciding")

    # A failed attempt waits for the requeue's retry delay (a minute by default): not here.
    _send_the_rest(start_worker, server, port, emails, requeue=lambda: emails_requeue(older_than_seconds=0))
    assert sorted(server.accepted) == sorted(emails.values_list("message_id", flat=True))
