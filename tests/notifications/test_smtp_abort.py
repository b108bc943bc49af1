"""A send interrupted while the mail server is still deciding leaves the server nothing to deliver.

Celery cancels the running tasks of a worker that loses its broker (``worker_cancel_long_running_tasks_on_
connection_loss``): it sends SIGTERM to the pool process. Caught inside a send that waits for the server's
answer to DATA, a polite goodbye (QUIT) would keep the connection open until the server answers, and the
server would accept a message the next attempt sends again. Real PostgreSQL, Redis, a Celery worker and an
SMTP server (aiosmtpd) that answers DATA after a delay and delivers only to a client still connected then.
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
from notifications.services import reminder_deliver_one
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


def test_a_send_cancelled_while_the_server_decides_is_discarded_and_sent_once_later(committed_org, start_worker, smtp_server):
    server, port = smtp_server
    org = committed_org
    make_melding(org)
    reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
    assert reminder_deliver_one(reminder_id=reminder.pk)  # two e-mails, their tasks published on commit
    emails = Email.objects.filter(notification__reminder=reminder)
    smtp = dict(TEST_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port)

    server.delay = 3.0
    worker = start_worker("cancelled", concurrency=1, queues=MAIL_QUEUE, EMAIL_CLAIM_SECONDS=3, **smtp)
    wait_until(lambda: server.deciding, "a message to wait for the server's answer")
    time.sleep(0.5)
    (child,) = _pool_children(worker.proc.pid)
    os.kill(child, signal.SIGTERM)  # what Celery's cancel on a lost broker connection sends
    wait_until(lambda: not server.deciding, "the server to finish deciding")
    assert server.accepted == [] and server.discarded == 1, "the interrupted send must leave the server a closed connection"
    worker.stop()

    server.delay = 0.0
    start_worker("after", concurrency=2, queues=ALL_QUEUES, EMAIL_CLAIM_SECONDS=3, **smtp)
    wait_until(lambda: not emails.filter(state=Email.State.SENDING, claimed_until__gt=timezone.now()).exists(),
               "the interrupted attempt's claim to expire", timeout=10)
    enqueue(SWEEP)  # the next beat tick requeues it
    wait_until(lambda: not emails.exclude(state=Email.State.SENT).exists(), "both e-mails to be sent")
    assert sorted(server.accepted) == sorted(emails.values_list("message_id", flat=True))
