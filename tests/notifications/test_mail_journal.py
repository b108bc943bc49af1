"""The mail journal: an e-mail the mail server accepted while the database was away is not sent again
by the next attempt, even when the worker that sent it is killed before the database comes back.

Real PostgreSQL, Redis and Celery workers. The sending worker reaches PostgreSQL through a TCP relay
that the test cuts, as a database restart or a network fault cuts it, while the mail server (a slow
file backend) is still answering; the worker is then SIGKILLed while it waits for the database.
"""
import socket
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import MAIL_QUEUE
from notifications.models import Email, Reminder
from notifications.services import reminder_deliver_one
from tests.factories import make_melding
from tests.notifications.workers import ALL_QUEUES, SWEEP, enqueue, sent_mail, wait_until

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


class Relay:
    """A TCP relay from a loopback port to PostgreSQL; ``cut()`` closes it and every connection through it."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.is_cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return  # cut
            with self.lock:
                if self.is_cut:
                    client.close()
                    return
                upstream = socket.create_connection(self.target)
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.is_cut = True
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # stops listening and wakes the blocked accept()
            except OSError:
                pass
            self.listener.close()
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


@pytest.fixture
def relay():
    db = connection.settings_dict
    relay = Relay((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield relay
    relay.cut()


def _mail_texts(mail_dir) -> list[str]:
    return [file.read_text(errors="replace") for file in mail_dir.iterdir()]


def _assert_the_next_attempt_sends_nothing_more(org, fresh, in_flight, emails, mail_dir, journal):
    """Once the interrupted attempt's claim is over, the requeue gives ``in_flight`` to ``fresh``,
    which finds the journal note and records it sent; each of the two e-mails went out once."""
    wait_until(lambda: timezone.now() > in_flight.claimed_until, "the interrupted attempt's claim to expire", timeout=15)
    enqueue(SWEEP)  # the next beat tick requeues it
    wait_until(lambda: not emails.exclude(state=Email.State.SENT).exists(), "both e-mails to be recorded sent")

    assert sent_mail(mail_dir) == sorted([org.caseworker.email, org.bv_leader.email])
    texts = _mail_texts(mail_dir)
    for email in emails:
        assert sum(f"Message-ID: {email.message_id}" in text for text in texts) == 1
    in_flight.refresh_from_db()
    assert in_flight.attempts == 2
    assert f"recorded as sent without sending again id={in_flight.pk}" in fresh.log()
    assert not any(journal.glob("*.accepted")), "the note is removed once the database has it"


def test_an_email_accepted_while_the_database_was_away_is_not_sent_again_after_its_worker_is_killed(
    committed_org, start_worker, mail_dir, tmp_path, relay
):
    org = committed_org
    journal = tmp_path / "mail-journal"
    make_melding(org)
    reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
    assert reminder_deliver_one(reminder_id=reminder.pk)  # publishes both send tasks on commit
    emails = Email.objects.filter(notification__reminder=reminder)
    assert emails.count() == 2

    db = connection.settings_dict
    # One send at a time, 3 s for the server to answer; the attempt holds its e-mail for 8 s.
    doomed = start_worker(
        "cut-off-mailer", concurrency=1, queues=MAIL_QUEUE, EMAIL_CLAIM_SECONDS=8, EMAIL_JOURNAL_DIR=journal,
        TEST_EMAIL_BACKEND="tests.notifications.worker_fakes.SlowFileBackend", TEST_EMAIL_DELAY_SECONDS=3,
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{relay.port}/{db['NAME']}",
    )
    in_flight = wait_until(lambda: emails.filter(state=Email.State.SENDING).first(), "an e-mail to be in flight")
    time.sleep(0.5)
    relay.cut()  # the database goes away while the mail server is answering

    # The server accepts the message; the worker cannot record it, notes it, and waits for the database.
    wait_until(lambda: any(journal.glob("*.accepted")), "the worker to note the accepted e-mail")
    assert len(sent_mail(mail_dir)) == 1
    doomed.kill()
    in_flight.refresh_from_db()
    assert (in_flight.state, in_flight.attempts) == (Email.State.SENDING, 1), "the database never heard of the send"

    fresh = start_worker("fresh", concurrency=2, queues=ALL_QUEUES, EMAIL_CLAIM_SECONDS=8, EMAIL_JOURNAL_DIR=journal)
    _assert_the_next_attempt_sends_nothing_more(org, fresh, in_flight, emails, mail_dir, journal)


def test_an_email_is_not_sent_again_when_its_worker_is_killed_after_the_server_accepted_it(
    committed_org, start_worker, mail_dir, tmp_path
):
    """Killed after the server's 250 and before the application recorded SENT (here: while the
    server takes its time over the goodbye), the worker has already noted the acceptance."""
    org = committed_org
    journal = tmp_path / "mail-journal"  # start_worker's default for this test's workers
    make_melding(org)
    reminder = Reminder.objects.get(due_at__lte=timezone.now(), sent_at__isnull=True)
    assert reminder_deliver_one(reminder_id=reminder.pk)
    emails = Email.objects.filter(notification__reminder=reminder)

    doomed = start_worker(
        "slow-goodbye", concurrency=1, queues=MAIL_QUEUE, EMAIL_CLAIM_SECONDS=3,
        TEST_EMAIL_BACKEND="tests.notifications.worker_fakes.SlowGoodbyeFileBackend", TEST_EMAIL_CLOSE_DELAY_SECONDS=30,
    )
    wait_until(lambda: len(sent_mail(mail_dir)) == 1, "the server to accept the first e-mail")
    doomed.kill()
    in_flight = emails.get(state=Email.State.SENDING)
    assert in_flight.attempts == 1 and [p.name for p in journal.glob("*.accepted")] == [f"{in_flight.pk}.accepted"]

    fresh = start_worker("fresh", concurrency=2, queues=ALL_QUEUES, EMAIL_CLAIM_SECONDS=3)
    _assert_the_next_attempt_sends_nothing_more(org, fresh, in_flight, emails, mail_dir, journal)
