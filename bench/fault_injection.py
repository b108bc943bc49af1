#!/usr/bin/env python
"""Fault injection: reminders drain through real Celery workers while processes are killed under them.

Run by hand (pytest does not collect it), from the repository root:

    .venv/bin/python bench/fault_injection.py            # the full run: 7 min of faults, 2,000 reminders
    .venv/bin/python bench/fault_injection.py --quick    # ~2 min of faults, fewer reminders
    .venv/bin/python bench/fault_injection.py --help     # run length, fault count, seed, ports, ...
    .venv/bin/python bench/fault_injection.py --quick --commit 0554902   # an older commit's code
    REMINDER_CLAIM_SECONDS=60 .venv/bin/python bench/fault_injection.py  # with a setting changed

The project's code runs from an export of ``--commit`` (default HEAD; ``--worktree`` runs the
checkout's files as they are), so edits made in the checkout during a run change nothing.

Everything runs on loopback in a temporary directory that is removed at the end (``--keep`` keeps it,
with every process's log): the script's own PostgreSQL 15 (initdb, trust auth; as the ``postgres``
user when run as root) and Redis (``--save "" --appendonly no``) on spare ports, an SMTP server (a
thread of this process) and the project's own processes, started as production starts them
(``config.settings``, the SMTP e-mail backend pointed at that server): ``celery worker`` processes
(prefork) and one ``celery beat`` with the project's beat_schedule. Nothing else on the machine is
touched; the PostgreSQL and Redis the tests use are never stopped.

1. The private database is migrated and seeded through the project's own code: the test personas
   (``tests.factories.make_org``, plus two barnevern employees, one of them without an e-mail
   address), a few meldinger (``make_melding``), and ``--reminders`` reminders on them
   (``notifications.services.reminder_schedule``; two thirds to the service's staff, one third to
   its leaders), due evenly over the first ``--due-spread`` seconds of the fault phase.
2. During the fault phase (``--duration`` seconds) the script injects ``--faults`` faults at random
   times (``--seed``), of these kinds: a worker's pool child SIGKILLed; a whole worker (its process
   group) SIGKILLed and restarted; Redis SIGKILLed and restarted empty (every queued task lost);
   PostgreSQL stopped with ``pg_ctl stop -m immediate`` and restarted after a few seconds; beat
   SIGKILLed and restarted; the mail server slowed to ``--slow-smtp`` seconds per message for a
   spell of 8-15 s (at most one spell per 45 s); and, inside such a slow send, the worker process
   that is sending SIGKILLed (its pool child or the whole worker) or PostgreSQL stopped. Between
   faults it restarts any process that died without being killed (counted as "unplanned exits").
3. Then it lets the system drain (until every due reminder is delivered and every e-mail sent as far
   as the database knows, or ``--drain`` seconds), and prints: faults by kind; reminders due,
   delivered, lost and duplicated; notifications expected and written; e-mails expected, sent,
   duplicated and missing; the lateness of each notification (``created_at`` minus its reminder's
   ``due_at``) as p50/p95/max; and a verdict against the targets of issue 12 (0 lost, 0 duplicate
   notifications, 0 duplicate e-mails, p95 lateness <= 3 minutes). It exits 1 when a target is missed.
   Each duplicate e-mail is shown with the pid that sent each copy (looked up in /proc, on a thread,
   when its MAIL FROM arrived) and when that process was SIGKILLed relative to the server's 250. A duplicate whose
   earlier copy's sender was killed between 0.5 s before and 1 s after that 250 falls in SMTP's
   acknowledgement window, the one the README documents ("The window that remains"): the server
   committed, the client died before it could note the answer. Those are counted and printed but
   do not fail the verdict; every other duplicate does.

The mail server's model of responsibility (what "sent" means here): the server accepts a message
only when it answers the end of DATA with 250, after ``delay`` seconds. If the client's connection
is gone by then (its process was SIGKILLed while waiting), the message is discarded, as a real MTA
that commits to delivery at that reply would discard it; the client could not have known either
way. A message counts as sent once the server answered 250 to a connection that was still open.
So a worker killed inside a slow send does not itself deliver a mail, but a worker (or PostgreSQL)
dying after the 250 and before the application records the send is the window in which an
at-least-once e-mail path sends a second copy. The server cannot deduplicate; it only records each
message's Message-ID header and recipients, so duplicates are counted, not hidden.

PostgreSQL runs with ``fsync=off``: every fault here is a process crash, never a lost OS page cache,
so nothing a committed transaction wrote is lost by it, and the disk stays out of the measurement.

Parts that depend on the e-mail and queue design (issue 12 is changing both) are the functions
marked ``DESIGN-DEPENDENT``: which queues the workers consume (``worker_plan``), how a message at
the server is identified and matched to a notification (``email_identity``), and how the database
says an e-mail is still to be sent (``db_mail_pending``).
"""
import argparse
import asyncio
import atexit
import email
import email.policy
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
# The tree the project's code is run from: an export of --commit (default HEAD) in the temporary
# directory, or this checkout with --worktree. Set by run() before anything of the project is imported.
SRC = BASE_DIR

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CELERY = str(Path(sys.executable).with_name("celery"))
TARGET_P95_LATENESS = 180.0  # seconds: issue 12's target
TOKEN = "[fi-{:05d}]"  # in each bench reminder's message, so an e-mail names its reminder
TOKEN_RE = re.compile(r"\[fi-(\d{5})\]")
KEY_PREFIX = "faultbench:"

# The fault kinds, in the order they are printed.
KINDS = {
    "child": "worker pool child SIGKILLed",
    "worker": "whole worker SIGKILLed (and restarted)",
    "redis": "Redis SIGKILLed, restarted empty",
    "postgres": "PostgreSQL stopped -m immediate (and restarted)",
    "beat": "beat SIGKILLed (and restarted)",
    "slow_smtp": "mail server slowed (--slow-smtp s per message) for 8-15 s",
    "send_child": "pool child SIGKILLed inside a slow send",
    "send_worker": "whole worker SIGKILLed inside a slow send",
    "send_postgres": "PostgreSQL stopped -m immediate inside a slow send",
}
# Relative frequency of each kind, and the least time between two faults of a kind: beat fires the
# sweep once a minute, so killing it more often would only measure a beat that never ticks.
WEIGHTS = {"child": 3, "worker": 2, "redis": 1.5, "postgres": 1.5, "beat": 1, "slow_smtp": 0.7,
           "send_child": 1.5, "send_worker": 0.8, "send_postgres": 0.8}
COOLDOWN = {"beat": 50.0, "redis": 8.0, "postgres": 8.0}
# A slow mail server for 8-15 s at a time, a new slow spell at most every 45 s (so at most a third of
# the run): the kills "inside a slow send" happen within these spells. Slower all the time, four
# sending processes at 5 s a message would take hours over the run's e-mails.
SLOW_SPELL = (8.0, 15.0)
SLOW_EVERY = 45.0
SEND_KINDS = ("send_child", "send_worker", "send_postgres")


def log(message: str) -> None:
    # UTC: Django sets TZ to the project's time zone once it is set up.
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", flush=True)


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens or is bound there on loopback, else a port the OS picks."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            # As the servers bind: a previous run's connections in TIME_WAIT do not make the port busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for an empty list)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def die_with_parent():
    """In a child before exec: SIGKILL it when this script dies, even by SIGKILL (Linux prctl
    PR_SET_PDEATHSIG), so no worker outlives a run that could not clean up."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


# --- /proc: which process is which ---------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc/*/stat)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: fields start after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def pid_of_connection(local_port: int, remote_port: int, candidates: list[int]) -> int | None:
    """The process among ``candidates`` that holds the loopback TCP connection local_port -> remote_port."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, node = parts[1], parts[2], parts[9]
            if int(local.rsplit(":", 1)[1], 16) == local_port and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                inode = node
                break
        if inode:
            break
    if not inode or inode == "0":
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


# --- the mail server -----------------------------------------------------------------------------


@dataclass
class Accepted:
    message_id: str
    recipients: list[str]
    token: int | None
    body_key: str
    at: float  # epoch seconds at which the server answered 250
    sender: int | None = None  # the pid that held the client's connection (found when its DATA ended)


class RecordingSMTPHandler:
    """aiosmtpd handler: answers the end of DATA after ``delay`` seconds and records the message
    only if the client is still connected then (see the module docstring)."""

    def __init__(self):
        self.delay = 0.0
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.discarded = 0
        self.inflight: dict[int, float] = {}  # client port -> when its end of DATA arrived
        self.last_data = -1e9  # time.monotonic() of the last end of DATA
        self.server_port = 0
        self.senders = lambda: []  # the pids that may hold a client connection (set by the Stack)
        self.seen: dict[int, tuple[str, int | None]] = {}  # client port -> (socket inode, pid), by watch()
        self.watching = threading.Event()

    def watch(self, every: float = 0.01) -> None:
        """On a thread until ``watching`` is cleared: note which process holds each client connection
        every ``every`` s, so a sender killed before the lookup of its own MAIL FROM is known all the same."""
        self.watching.set()
        while self.watching.is_set():
            conns = {}
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = Path(table).read_text().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    parts = line.split()
                    if int(parts[2].rsplit(":", 1)[1], 16) == self.server_port and parts[9] != "0":
                        conns[int(parts[1].rsplit(":", 1)[1], 16)] = parts[9]
            new = {port: inode for port, inode in conns.items() if self.seen.get(port, ("", None))[0] != inode}
            if new:
                owner = {}
                for pid in self.senders():
                    try:
                        for fd in os.listdir(f"/proc/{pid}/fd"):
                            try:
                                owner[os.readlink(f"/proc/{pid}/fd/{fd}")] = pid
                            except OSError:
                                continue
                    except OSError:
                        continue
                for port, inode in new.items():
                    pid = owner.get(f"socket:[{inode}]")
                    if pid:
                        self.seen[port] = (inode, pid)
            time.sleep(every)

    def sender_of(self, port: int) -> int | None:
        """The process that holds the client end of the connection from ``port``: the duplicate report
        needs it to tell whether the process that sent a first copy was killed right after the 250."""
        return pid_of_connection(port, self.server_port, self.senders()) if self.server_port else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Which process is sending, looked up on a thread as the transaction starts: a lookup at the end
        # of DATA would hold up this and every other connection's 250 (the event loop is shared), and so
        # widen the very window the report judges.
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        session.sender = asyncio.get_running_loop().run_in_executor(None, self.sender_of, session.peer[1])
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        port = session.peer[1]
        delay = self.delay
        lookup = getattr(session, "sender", None)
        sender = lookup.result() if lookup is not None and lookup.done() and not lookup.exception() else None
        sender = sender or self.seen.get(port, ("", None))[1]
        self.inflight[port] = self.last_data = time.monotonic()
        try:
            if delay:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            # aiosmtpd cancels the session when the client's side closes: nothing was accepted.
            with self.lock:
                self.discarded += 1
            raise
        finally:
            self.inflight.pop(port, None)
        if server.transport is None or server.transport.is_closing():
            with self.lock:
                self.discarded += 1
            return "451 Client gone"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message_text(message)
        token = TOKEN_RE.search(text)
        with self.lock:
            self.accepted.append(Accepted(
                message_id=str(message.get("Message-ID", "")).strip(),
                recipients=[r.lower() for r in envelope.rcpt_tos],
                token=int(token.group(1)) if token else None,
                body_key=f"{message.get('Subject', '')}\n{text}",
                at=time.time(),
                sender=sender,
            ))
        return "250 OK"

    def snapshot(self) -> list[Accepted]:
        with self.lock:
            return list(self.accepted)

    def oldest_inflight(self, older_than: float) -> int | None:
        """The client port of a message waiting for its reply for at least ``older_than`` seconds."""
        now = time.monotonic()
        waiting = [port for port, since in list(self.inflight.items()) if now - since >= older_than]
        return waiting[0] if waiting else None


def message_text(message) -> str:
    """The decoded text of every text part of ``message``."""
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                texts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(texts)


# --- DESIGN-DEPENDENT parts (issue 12 changes the queues and the e-mail path) ----------------------


def worker_plan() -> list[tuple[str, list[str], int]]:
    """DESIGN-DEPENDENT: the workers to run, as (name, queues for -Q, concurrency).

    Reads the queues config/celery.py routes tasks and beat entries to. One queue (the code before
    issue 12's "queues by job"): two workers on it. Several: one worker per queue, and a second one
    for a ``mail`` queue, so a whole worker killed there still leaves one sending.
    """
    from config.celery import app

    conf = app.conf
    default = conf.task_default_queue or "celery"
    queues = {default}
    routes = conf.task_routes or {}
    for route in (routes.values() if isinstance(routes, dict) else []):
        if isinstance(route, dict) and route.get("queue"):
            queues.add(route["queue"])
    for entry in (conf.beat_schedule or {}).values():
        queue = (entry.get("options") or {}).get("queue")
        if queue:
            queues.add(queue)
    for queue in conf.task_queues or []:
        queues.add(getattr(queue, "name", str(queue)))
    if len(queues) == 1:
        return [("w1", [default], 2), ("w2", [default], 2)]
    plan = [(f"w-{q}", [q], 2) for q in sorted(queues)]
    if "mail" in queues:
        plan.append(("w-mail2", ["mail"], 2))
    return plan


def email_identity(accepted: Accepted, recipient: str) -> tuple[str, tuple]:
    """DESIGN-DEPENDENT: how one message to one recipient is identified at the server.

    Returns (its Message-ID, or "" when it has none; the notification it carries). The notification
    is (recipient, the bench token in the body) for a bench reminder's e-mail, else (recipient, the
    whole subject and text). A second message with either the same Message-ID (a transport that
    carries a stable id) or the same notification (the same e-mail sent again under a new id, as
    Django's default make_msgid does) is a duplicate.
    """
    notification = (recipient, accepted.token) if accepted.token is not None else (recipient, accepted.body_key)
    return accepted.message_id, notification


def outbox_model():
    """DESIGN-DEPENDENT: the e-mail outbox model of issue 12 (a notifications model with a ``state``
    and a ``message_id``: notifications.Email since 775c6cd), or None before it."""
    from django.apps import apps

    for model in apps.get_app_config("notifications").get_models():
        fields = {f.name for f in model._meta.get_fields()}
        if {"state", "message_id"} <= fields:
            return model
    return None


OUTBOX_DONE = ("sent", "dropped", "failed")  # the outbox's final states


def db_mail_pending() -> int:
    """DESIGN-DEPENDENT: how many e-mails the database still means to send (0 = the e-mail path has
    nothing left): outbox rows not in a final state; before the outbox, notifications of users with
    an e-mail address whose ``emailed_at`` is empty."""
    from notifications.models import Notification

    outbox = outbox_model()
    if outbox is not None:
        return outbox.objects.exclude(state__in=OUTBOX_DONE).count()
    if any(f.name == "emailed_at" for f in Notification._meta.get_fields()):
        return Notification.objects.filter(emailed_at__isnull=True).exclude(user__email="").count()
    return 0


def db_mail_states() -> dict:
    """DESIGN-DEPENDENT: the outbox rows by state ({} before the outbox), for the report."""
    from django.db.models import Count

    outbox = outbox_model()
    if outbox is None:
        return {}
    return dict(outbox.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))


# --- the stack -----------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None
    down_on_purpose: bool = False
    unplanned_exits: int = 0

    def start(self, env: dict) -> None:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=SRC, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=die_with_parent)
        self.down_on_purpose = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def kill(self, kills: list | None = None) -> None:
        """SIGKILL the process group (the worker and its pool children together); appends
        (when, the pids killed, the worker's name) to ``kills`` when given."""
        if self.proc is None:
            return
        try:
            if kills is not None:
                kills.append((time.time(), {self.proc.pid, *children_of(self.proc.pid)}, self.name))
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Stack:
    """The private PostgreSQL, Redis, SMTP server, workers and beat, and their cleanup."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="samhandling-faults-"))
        os.chmod(self.tmp, 0o755)
        self.pg_data = self.tmp / "pg"
        self.pg_port = free_port(args.pg_port)
        self.redis_port = free_port(args.redis_port)
        self.smtp_port = free_port(args.smtp_port)
        self.as_postgres = os.geteuid() == 0
        self.pg_running = False
        self.next_pg_check = 0.0  # pg_isready forks two processes: ask at most every 5 s
        self.redis: Proc | None = None
        self.workers: list[Proc] = []
        self.beat: Proc | None = None
        self.smtp = RecordingSMTPHandler()
        self.controller = None
        self.env = self._env()
        self.closed = False

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("REMINDER_", "CELERY_", "DJANGO_", "EMAIL_", "DATABASE_", "REDIS_", "OIDC_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            DJANGO_ALLOWED_HOSTS="localhost",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{self.pg_port}/faults",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp_port),
            SITE_URL="https://samhandling.bench.invalid",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        # Claim expiries etc. as the operator passes them (REMINDER_CLAIM_SECONDS=120, EMAIL_TIMEOUT=...); by default
        # the project's own defaults.
        env.update({k: v for k, v in os.environ.items()
                    if k.startswith("REMINDER_") or k in ("EMAIL_CLAIM_SECONDS", "EMAIL_MAX_ATTEMPTS", "EMAIL_TIMEOUT")})
        return env

    # PostgreSQL
    def _pg(self, *argv, check=True, timeout=60):
        cmd = [str(PG_BIN / argv[0]), *argv[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True)

    def watchdog(self):
        """A shell that outlives this script only to stop its PostgreSQL (pg_ctl daemonises it, so it
        is not our child) and remove the directory, should this script die by SIGKILL."""
        pg_ctl = " ".join([*(["runuser", "-u", "postgres", "--"] if self.as_postgres else []), str(PG_BIN / "pg_ctl")])
        remove = "" if self.args.keep else f"; rm -rf '{self.tmp}'"
        script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                  f"[ -d '{self.pg_data}' ] && {pg_ctl} -D '{self.pg_data}' -m immediate stop >/dev/null 2>&1{remove}")
        self.watchdog_proc = subprocess.Popen(["sh", "-c", script], start_new_session=True,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pg_init(self):
        self.watchdog()
        self.pg_data.mkdir()
        (self.tmp / "pgsock").mkdir()
        if self.as_postgres:
            shutil.chown(self.pg_data, "postgres", "postgres")
            shutil.chown(self.tmp / "pgsock", "postgres", "postgres")
            (self.tmp / "pg.log").touch()
            shutil.chown(self.tmp / "pg.log", "postgres", "postgres")
        self._pg("initdb", "-D", str(self.pg_data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync")
        self.pg_start()
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "faults")

    def pg_start(self):
        options = (f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.tmp / 'pgsock'} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=100")
        self._pg("pg_ctl", "-D", str(self.pg_data), "-l", str(self.tmp / "pg.log"), "-o", options, "-w", "start", timeout=120)
        self.pg_running = True

    def pg_stop_immediate(self):
        self.pg_running = False
        self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "immediate", "-w", "stop", check=False)

    def pg_alive(self) -> bool:
        return self._pg("pg_isready", "-h", "127.0.0.1", "-p", str(self.pg_port), check=False, timeout=10).returncode == 0

    # Redis
    def redis_start(self):
        if self.redis is None:
            self.redis = Proc("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no", "--dir", str(self.tmp), "--protected-mode", "no"],
                              self.tmp / "redis.log")
        self.redis.start(self.env)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.redis_port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Redis did not start:\n{self.redis.tail()}")
                time.sleep(0.05)
        client.close()

    # SMTP
    def smtp_start(self):
        from aiosmtpd.controller import Controller

        self.smtp.server_port = self.smtp_port
        self.smtp.senders = self.worker_pids
        threading.Thread(target=self.smtp.watch, daemon=True, name="senders").start()
        self.controller = Controller(self.smtp, hostname="127.0.0.1", port=self.smtp_port, ready_timeout=10)
        self.controller.start()

    # Celery
    def workers_start(self):
        for name, queues, concurrency in worker_plan():
            worker = Proc(name, [CELERY, "-A", "config", "worker", "-P", "prefork", f"--concurrency={concurrency}",
                                 "-n", f"{name}@faults", "-Q", ",".join(queues), "--without-gossip", "--without-mingle",
                                 "--without-heartbeat", "-l", "INFO"], self.tmp / f"worker-{name}.log")
            worker.queues = queues
            worker.start(self.env)
            self.workers.append(worker)

    def worker_pids(self) -> list[int]:
        """Every worker process and its pool children now (children change after every kill)."""
        pids = [w.pid for w in self.workers if w.pid]
        return [*pids, *(c for pid in pids for c in children_of(pid))]

    def beat_start(self):
        if self.beat is None:
            self.beat = Proc("beat", [CELERY, "-A", "config", "beat", "-s", str(self.tmp / "beat-schedule"),
                                      "--pidfile", str(self.tmp / "beat.pid"), "-l", "INFO"], self.tmp / "beat.log")
        (self.tmp / "beat.pid").unlink(missing_ok=True)
        self.beat.start(self.env)

    def wait_workers_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while "ready." not in worker.tail(200):
                if worker.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {worker.name} did not start:\n{worker.tail()}")
                time.sleep(0.2)

    def supervise(self) -> list[str]:
        """Restart every process that is down but was not taken down on purpose; returns what was restarted."""
        restarted = []
        for proc in [*self.workers, self.beat, self.redis]:
            if proc is None or proc.down_on_purpose or proc.proc is None or proc.proc.poll() is None:
                continue
            proc.unplanned_exits += 1
            restarted.append(f"{proc.name} (exit {proc.proc.returncode})")
            why = [line for line in proc.tail(80).splitlines() if "CRITICAL" in line or "Error" in line[:200]]
            log(f"{proc.name} exited by itself ({proc.proc.returncode}): {why[-1][:200] if why else 'see its log'}; restarting")
            if proc is self.redis:
                self.redis_start()
            else:
                if proc is self.beat:
                    (self.tmp / "beat.pid").unlink(missing_ok=True)
                proc.start(self.env)
        if self.pg_running and time.monotonic() >= self.next_pg_check and not self.pg_alive():
            restarted.append("postgres")
            self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "immediate", "stop", check=False)
            self.pg_start()
        if time.monotonic() >= self.next_pg_check:
            self.next_pg_check = time.monotonic() + 5
        return restarted

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.smtp.watching.clear()
        for proc in [self.beat, *self.workers, self.redis]:
            if proc is not None:
                proc.kill()
        if self.controller is not None:
            try:
                self.controller.stop()
            except Exception:  # noqa: BLE001 - cleanup goes on whatever the server says
                pass
        if self.pg_data.exists():
            self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "immediate", "-w", "stop", check=False)
        if self.args.keep:
            print(f"kept {self.tmp} (logs, PostgreSQL data directory)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if getattr(self, "watchdog_proc", None) is not None:
            self.watchdog_proc.kill()
            self.watchdog_proc.wait()


# --- seeding and measuring (inside Django) -----------------------------------------------------------


def django_setup(env: dict):
    os.environ.update(env)
    import django

    django.setup()
    import logging

    # aiosmtpd logs every SMTP command at INFO, and the project's LOGGING makes INFO visible.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def seed(reminder_count: int) -> dict:
    """The personas, a few meldinger to barnevern, and ``reminder_count`` reminders on them, due in a
    year (``start_due_clock`` brings them forward). Returns what the measurement needs."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from notifications.models import Reminder
    from notifications.services import reminder_schedule
    from org.models import Membership
    from org.services import membership_set
    from tests.factories import make_melding, make_org, member
    from workflows.concern.services import HANDLER

    org = make_org("9990")
    member(org.barnevern, "bv_extra")
    # A barnevern employee without an e-mail address: notified in-app, never e-mailed.
    no_mail = get_user_model().objects.create_user(username="bv_nomail", password=None, email="")
    membership_set(user=no_mail, service=org.barnevern, role=Membership.Role.STAFF)
    meldinger = [make_melding(org) for _ in range(8)]
    later = timezone.now() + timedelta(days=365)
    for i in range(reminder_count):
        reminder_schedule(
            key=f"{KEY_PREFIX}{i}", obligation=f"{KEY_PREFIX}{i}", kind=Reminder.Kind.REMINDER,
            message=f"Påminnelse {TOKEN.format(i)}: en frist nærmer seg.", service=org.barnevern,
            audience=Reminder.Audience.LEADERS if i % 3 == 2 else Reminder.Audience.STAFF,
            subject=meldinger[i % len(meldinger)], required_perm=HANDLER, due_at=later,
        )
    return {"service_id": org.barnevern.pk}


def start_due_clock(reminder_count: int, spread: float) -> float:
    """Make reminder i due at now + i/count * spread (notifications.services.reminder_reschedule);
    returns the epoch time of "now"."""
    from django.utils import timezone

    from notifications.models import Reminder
    from notifications.services import reminder_reschedule

    now = timezone.now()
    for i in range(reminder_count):
        reminder_reschedule(obligation=f"{KEY_PREFIX}{i}", kind=Reminder.Kind.REMINDER,
                            due_at=now + timedelta(seconds=spread * i / reminder_count))
    return now.timestamp()


def progress(stack: Stack) -> str:
    from django.db import connections

    from notifications.models import Notification, Reminder

    try:
        bench = Reminder.objects.filter(key__startswith=KEY_PREFIX)
        sent = bench.filter(sent_at__isnull=False).count()
        from django.utils import timezone

        due = bench.filter(due_at__lte=timezone.now()).count()
        notes = Notification.objects.filter(reminder__key__startswith=KEY_PREFIX).count()
        pending = db_mail_pending()
        text = f"reminders due {due} delivered {sent}; notifications {notes}; e-mails pending in the db {pending}"
    except Exception as exc:  # noqa: BLE001 - the database may be down on purpose
        text = f"database unavailable ({type(exc).__name__})"
    finally:
        connections.close_all()
    return f"{text}; mail accepted {len(stack.smtp.accepted)}, discarded {stack.smtp.discarded}, in flight {len(stack.smtp.inflight)}"


def drained() -> bool:
    from django.db import connections
    from django.utils import timezone

    from notifications.models import Reminder

    try:
        open_reminders = Reminder.objects.filter(key__startswith=KEY_PREFIX, due_at__lte=timezone.now(),
                                                 sent_at__isnull=True, cancelled_at__isnull=True).exists()
        return not open_reminders and db_mail_pending() == 0
    except Exception:  # noqa: BLE001
        return False
    finally:
        connections.close_all()


def measure(stack: Stack, service_id: int) -> dict:
    """Everything the report prints, from the database and the mail server's record."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone

    from notifications.models import Notification, Reminder
    from org.access import active_members
    from org.models import Membership, Service

    now = timezone.now()
    service = Service.objects.get(pk=service_id)
    recipients = {
        Reminder.Audience.STAFF: set(active_members(service).values_list("user_id", flat=True)),
        Reminder.Audience.LEADERS: set(active_members(service, role=Membership.Role.LEADER).values_list("user_id", flat=True)),
    }
    emails = {uid: address.lower() for uid, address in get_user_model().objects.values_list("id", "email")}
    bench = list(Reminder.objects.filter(key__startswith=KEY_PREFIX, due_at__lte=now).values(
        "id", "key", "audience", "due_at", "sent_at", "cancelled_at"))
    by_id = {r["id"]: r for r in bench}
    notes = list(Notification.objects.filter(reminder_id__in=by_id).values("reminder_id", "user_id", "created_at"))
    written = defaultdict(list)
    for n in notes:
        written[(n["reminder_id"], n["user_id"])].append(n)
    dup_notes = sum(len(v) - 1 for v in written.values() if len(v) > 1)
    dup_pairs = (Notification.objects.filter(reminder_id__in=by_id).values("reminder_id", "user_id")
                 .annotate(n=Count("id")).filter(n__gt=1).count())

    expected_pairs = set()
    for r in bench:
        if r["cancelled_at"] is None:
            expected_pairs |= {(r["id"], uid) for uid in recipients[r["audience"]]}
    delivered = [r for r in bench if r["sent_at"] is not None]
    lost = [r for r in bench if r["sent_at"] is None and r["cancelled_at"] is None]
    missing_pairs = expected_pairs - set(written)
    unexpected_pairs = set(written) - expected_pairs

    lateness = [(n["created_at"] - by_id[n["reminder_id"]]["due_at"]).total_seconds() for n in notes]
    written_at = sorted(n["created_at"] for n in notes)
    span = (written_at[-1] - written_at[0]).total_seconds() if written_at else 0.0

    # E-mails: what the server accepted, matched to notifications by (recipient, bench token).
    token_of = {r["id"]: int(r["key"][len(KEY_PREFIX):]) for r in bench}
    expected_mail = {(emails[uid], token_of[rid]) for (rid, uid) in written if emails.get(uid)}
    seen_ids, seen_notes = Counter(), Counter()
    other = 0
    for accepted in stack.smtp.snapshot():
        message_ids = set()
        for recipient in accepted.recipients:
            message_id, notification = email_identity(accepted, recipient)
            if accepted.token is None:
                other += 1
            if message_id:
                message_ids.add(message_id)
            seen_notes[notification] += 1
        seen_ids.update(message_ids)
    bench_sent = {k: v for k, v in seen_notes.items() if k in expected_mail}
    stray = [k for k in seen_notes if k not in expected_mail and isinstance(k[1], int)]
    # The e-mails of the meldinger the seeding sent are not the bench's: their copies are shown, not judged
    # (two different notices with the same text to one person would look like one sent twice).
    other_copies = sum(v - 1 for k, v in seen_notes.items() if not isinstance(k[1], int) and v > 1)
    # Each bench e-mail accepted more than once: its Message-IDs and when each copy was accepted.
    copies = defaultdict(list)
    for accepted in stack.smtp.snapshot():
        for recipient in accepted.recipients:
            _message_id, notification = email_identity(accepted, recipient)
            if isinstance(notification[1], int) and seen_notes[notification] > 1:
                copies[notification].append((accepted.at, accepted.message_id, accepted.sender))
    return {
        "due": len(bench), "delivered": len(delivered), "lost": len(lost),
        "cancelled": sum(1 for r in bench if r["cancelled_at"] is not None),
        "dup_notes": dup_notes, "dup_pairs": dup_pairs,
        "expected_notes": len(expected_pairs), "written_notes": len(notes),
        "missing_notes": len(missing_pairs), "unexpected_notes": len(unexpected_pairs),
        "lateness": lateness, "span": span,
        "mail_expected": len(expected_mail), "mail_sent": len(bench_sent),
        "mail_dup_by_notification": sum(v - 1 for k, v in seen_notes.items() if isinstance(k[1], int) and v > 1),
        "mail_dup_notifications": sum(1 for k, v in seen_notes.items() if isinstance(k[1], int) and v > 1),
        "mail_other_copies": other_copies,
        "mail_dup_by_message_id": sum(v - 1 for v in seen_ids.values() if v > 1),
        "mail_missing": len(expected_mail - set(bench_sent)), "mail_stray": len(stray), "mail_other": other,
        "mail_discarded": stack.smtp.discarded,
        "mail_accepted": sum(len(a.recipients) for a in stack.smtp.snapshot()),
        "outbox": db_mail_states(),
        "copies": dict(copies),
    }


# --- the faults ----------------------------------------------------------------------------------


@dataclass
class Injector:
    stack: Stack
    rng: random.Random
    slow_seconds: float
    counts: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    last: dict = field(default_factory=dict)
    slow_until: float = 0.0
    slow_started: float = -1e9
    owed_sends: int = 0  # kills inside a send drawn while no mail was going out, done when some is
    timeline: list = field(default_factory=list)  # (began, ended, kind) of every fault, epoch seconds
    kills: list = field(default_factory=list)  # (when, pids, worker name) of every SIGKILL of a worker process, epoch seconds

    def tick(self):
        """End a slow-mail window that is over."""
        if self.slow_until and time.monotonic() >= self.slow_until:
            self.stack.smtp.delay = 0.0
            self.slow_until = 0.0

    def slow_spell_possible(self) -> bool:
        return not self.slow_until and time.monotonic() - self.slow_started >= SLOW_EVERY

    def slow_spell(self):
        """Slow the mail server for a spell (counted as a fault of its own)."""
        self.stack.smtp.delay = self.slow_seconds
        self.slow_started = time.monotonic()
        self.slow_until = self.slow_started + self.rng.uniform(*SLOW_SPELL)
        self.counts["slow_smtp"] += 1
        self.timeline.append((time.time(), self.slow_until - self.slow_started + time.time(), "slow_smtp"))

    def send_ready(self) -> bool:
        """Whether a kill inside a slow send can be tried now: mail is going out (none while the
        sweeps deliver nothing) and a slow spell is on or may start."""
        mail_recently = self.stack.smtp.inflight or time.monotonic() - self.stack.smtp.last_data < 10
        return bool(mail_recently) and bool(self.slow_until or self.slow_spell_possible())

    def choose(self) -> str:
        """The next fault's kind, at random by WEIGHTS. A kill inside a send drawn while none can be
        tried is owed, and paid first as soon as one can, so the mix stays as weighted."""
        now = time.monotonic()
        kinds = [k for k in WEIGHTS if now - self.last.get(k, -1e9) >= COOLDOWN.get(k, 0)]
        if not self.slow_spell_possible():
            kinds.remove("slow_smtp")
        sends = [k for k in kinds if k in SEND_KINDS]
        if self.owed_sends and self.send_ready():
            self.owed_sends -= 1
            return self.rng.choices(sends, weights=[WEIGHTS[k] for k in sends])[0]
        kind = self.rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        if kind in SEND_KINDS and not self.send_ready():
            self.owed_sends += 1
            others = [k for k in kinds if k not in SEND_KINDS]
            kind = self.rng.choices(others, weights=[WEIGHTS[k] for k in others])[0]
        return kind

    def inject(self, kind: str) -> bool:
        """Inject one fault of ``kind``; False when there was nothing to hit (not counted)."""
        started = time.time()
        done = getattr(self, f"_{kind}")()
        if not done:
            self.skipped[kind] += 1
            return False
        if kind != "slow_smtp":  # slow_spell() counts its own
            self.counts[kind] += 1
            self.timeline.append((started, time.time(), kind))
        self.last[kind] = time.monotonic()
        return True

    def _live_workers(self):
        return [w for w in self.stack.workers if w.pid]

    def _child(self) -> bool:
        pool = [(w, c) for w in self._live_workers() for c in children_of(w.pid)]
        if not pool:
            return False
        worker, child = self.rng.choice(pool)
        return self._kill(child, worker.name)

    def _kill(self, pid: int, worker: str) -> bool:
        """SIGKILL one process; False when it had already gone (a pool child that ended between the
        look and the kill: nothing was hit)."""
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.kills.append((time.time(), {pid}, worker))
        return True

    def _restart_after_kill(self, proc: Proc, pause: float):
        proc.down_on_purpose = True
        proc.kill(self.kills if proc in self.stack.workers else None)
        time.sleep(pause)
        proc.start(self.stack.env)

    def _worker(self, worker: Proc | None = None) -> bool:
        workers = self._live_workers()
        if not workers:
            return False
        self._restart_after_kill(worker or self.rng.choice(workers), self.rng.uniform(0.5, 3))
        return True

    def _redis(self) -> bool:
        self.stack.redis.down_on_purpose = True
        self.stack.redis.kill()
        time.sleep(self.rng.uniform(0.5, 4))
        self.stack.redis_start()
        return True

    def _postgres(self) -> bool:
        self.stack.pg_stop_immediate()
        time.sleep(self.rng.uniform(1, 8))
        self.stack.pg_start()
        return True

    def _beat(self) -> bool:
        if self.stack.beat.pid:
            (self.stack.tmp / "beat.pid").unlink(missing_ok=True)
        self._restart_after_kill(self.stack.beat, self.rng.uniform(0.5, 3))
        return True

    def _slow_smtp(self) -> bool:
        self.slow_spell()
        return True

    def _in_slow_send(self) -> tuple[Proc, int] | None:
        """Start a slow spell if none is on, and wait within it for a send to be waiting for its
        reply; returns the worker and the process (a pool child) that is sending."""
        if not self.slow_until:
            self.slow_spell()
        while self.slow_until and time.monotonic() < self.slow_until - 0.5:
            port = self.stack.smtp.oldest_inflight(older_than=self.rng.uniform(0.3, self.slow_seconds * 0.8))
            if port:
                for worker in self._live_workers():
                    pid = pid_of_connection(port, self.stack.smtp_port, [worker.pid, *children_of(worker.pid)])
                    if pid:
                        return worker, pid
            time.sleep(0.1)
            self.tick()
        return None

    def _send_child(self) -> bool:
        found = self._in_slow_send()
        return bool(found) and self._kill(found[1], found[0].name)

    def _send_worker(self) -> bool:
        found = self._in_slow_send()
        return bool(found) and self._worker(found[0])

    def _send_postgres(self) -> bool:
        return bool(self._in_slow_send()) and self._postgres()


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run: 120 s of faults, 40 faults, 600 reminders")
    parser.add_argument("--duration", type=float, help="seconds of fault injection (default 420; quick 120)")
    parser.add_argument("--faults", type=int, help="how many faults to inject (default 110; quick 40)")
    parser.add_argument("--reminders", type=int, help="how many reminders fall due (default 2000; quick 600)")
    parser.add_argument("--due-spread", type=float, help="seconds over which they fall due (default half the duration)")
    parser.add_argument("--drain", type=float, help="at most this many seconds to drain after the faults (default twice "
                        "the code's REMINDER_CLAIM_SECONDS plus 3 minutes: a claim taken by a killed sweep, then one "
                        "taken by a killed e-mail attempt, may each have to expire)")
    parser.add_argument("--slow-smtp", type=float, default=5.0, help="seconds the slow mail server takes per message (5)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--smtp-port", type=int, default=2526)
    parser.add_argument("--commit", default="HEAD", help="run the project's code as of this commit, exported with "
                        "git archive (default HEAD), so edits in the checkout during the run change nothing")
    parser.add_argument("--worktree", action="store_true", help="run the checkout's files as they are instead")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (120.0 if quick else 420.0)
    args.faults = args.faults if args.faults is not None else (40 if quick else 110)
    args.reminders = args.reminders or (600 if quick else 2000)
    args.due_spread = args.due_spread if args.due_spread is not None else args.duration / 2
    return args


def git_commit(rev: str = "HEAD", worktree: bool = False) -> str:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h %s", rev, "--"], cwd=BASE_DIR, capture_output=True, text=True, check=True)
        label = out.stdout.strip()[:100]
        if worktree:
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BASE_DIR, capture_output=True, text=True)
            label += " (the checkout, with uncommitted changes)" if dirty.stdout.strip() else ""
        return label
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def export_source(rev: str, dest: Path) -> Path:
    """The tree of ``rev``, written to ``dest`` by git archive (the repository is only read)."""
    dest.mkdir()
    archive = subprocess.Popen(["git", "archive", "--format=tar", rev], cwd=BASE_DIR, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {rev} failed")
    return dest


def run(args) -> int:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        sys.exit("aiosmtpd is missing: .venv/bin/pip install -r requirements-dev.txt")
    if not (PG_BIN / "initdb").exists() or not shutil.which("redis-server"):
        sys.exit(f"needs PostgreSQL 15's server binaries in {PG_BIN} and redis-server on PATH")
    stack = Stack(args)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    atexit.register(stack.close)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        return _run(args, stack)
    finally:
        stack.close()


def _run(args, stack: Stack) -> int:
    global SRC
    started = time.monotonic()
    SRC = BASE_DIR if args.worktree else export_source(args.commit, stack.tmp / "src")
    sys.path.insert(0, str(SRC))
    # Celery's Django fix-up puts the working directory first on sys.path: make it the same tree.
    os.chdir(SRC)
    args.label = git_commit("HEAD" if args.worktree else args.commit, args.worktree)
    log(f"code: {args.label} ({SRC}); temp dir {stack.tmp}")
    log(f"PostgreSQL :{stack.pg_port}, Redis :{stack.redis_port}, SMTP :{stack.smtp_port}")
    stack.pg_init()
    stack.redis_start()
    stack.smtp_start()
    django_setup(stack.env)
    from django.core.management import call_command

    log("migrating the private database")
    call_command("migrate", verbosity=0)
    log(f"seeding {args.reminders} reminders")
    seeded = seed(args.reminders)
    plan = worker_plan()
    log("workers: " + ", ".join(f"{n} -Q {','.join(q)} -c {c}" for n, q, c in plan))
    stack.workers_start()
    stack.wait_workers_ready()
    stack.beat_start()
    due_from = start_due_clock(args.reminders, args.due_spread)
    log(f"{args.reminders} reminders fall due over {args.due_spread:.0f} s; {args.faults} faults over {args.duration:.0f} s "
        f"(seed {args.seed})")

    if not args.drain:
        from django.conf import settings

        args.drain = 2 * settings.REMINDER_CLAIM_SECONDS + 180.0
    injector = Injector(stack, random.Random(args.seed), args.slow_smtp)
    unplanned: list[str] = []
    phase_start = time.monotonic()
    phase_end = phase_start + args.duration
    next_progress = phase_start + 15
    while True:
        now = time.monotonic()
        injected = sum(injector.counts.values())
        left = args.faults - injected
        if now >= phase_end and left <= 0:
            break
        if now >= phase_end + args.duration / 2:
            log(f"stopping the fault phase with {injected} of {args.faults} faults injected")
            break
        # Spread the faults still to inject over the time still left, at random.
        gap = max(0.2, (phase_end - now) / max(left, 1)) * injector.rng.uniform(0.2, 1.5) if left > 0 else 1.0
        wake = now + gap
        while time.monotonic() < wake:
            if injector.owed_sends and injector.send_ready():
                break  # mail is going out: pay an owed kill inside a send now
            injector.tick()
            unplanned += stack.supervise()
            if time.monotonic() >= next_progress:
                log(f"t+{time.monotonic() - phase_start:.0f}s faults {sum(injector.counts.values())}: {progress(stack)}")
                next_progress += 15
            time.sleep(min(0.25, max(0.0, wake - time.monotonic())))
        if left > 0:
            kind = injector.choose()
            injector.inject(kind)
    stack.smtp.delay = 0.0
    injector.slow_until = 0.0
    unplanned += stack.supervise()
    fault_seconds = time.monotonic() - phase_start
    log(f"fault phase over after {fault_seconds:.0f} s; draining (at most {args.drain:.0f} s)")

    drain_start = time.monotonic()
    while time.monotonic() - drain_start < args.drain:
        unplanned += stack.supervise()
        if drained() and not stack.smtp.inflight:
            time.sleep(5)  # a straggling second copy would arrive now
            if drained():
                break
        if time.monotonic() >= next_progress:
            log(f"draining t+{time.monotonic() - drain_start:.0f}s: {progress(stack)}")
            next_progress = time.monotonic() + 15
        time.sleep(1)
    drain_seconds = time.monotonic() - drain_start

    result = measure(stack, seeded["service_id"])
    return report(args, stack, injector, result, unplanned, fault_seconds, drain_seconds, time.monotonic() - started, due_from)


# A copy counts as sent again because of SMTP's own window when the process that sent the copy before
# it was SIGKILLed between the server's 250 and the moment it could note it: the kill may be up to
# WINDOW_BEFORE s before the 250 (the server answered a socket whose process had just died, which a
# real server cannot tell either) and up to WINDOW_AFTER s after it (the note is written within
# milliseconds of the answer; a process alive for longer had its chance).
WINDOW_BEFORE = 0.5
WINDOW_AFTER = 1.0


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}"


def kill_after(accepted_at: float, sender: int | None, kills: list) -> float | None:
    """Seconds from a copy's 250 to the SIGKILL of the process that sent it, when that kill fell
    in the window, else None."""
    if sender is None:
        return None
    for when, pids, _worker in kills:
        if sender in pids and -WINDOW_BEFORE <= when - accepted_at <= WINDOW_AFTER:
            return when - accepted_at
    return None


def mail_kill_near(accepted_at: float, kills: list) -> float | None:
    """For a copy whose sender was not identified: seconds from its 250 to the nearest SIGKILL of a
    mail worker's process (the worker or a pool child) inside the window, else None."""
    near = [when - accepted_at for when, _pids, worker in kills
            if worker.startswith("w-mail") and -WINDOW_BEFORE <= when - accepted_at <= WINDOW_AFTER]
    return min(near, key=abs, default=None)


def coincidence_chance(kills: list, span: float) -> float:
    """The chance that an instant drawn at random in the run's ``span`` s falls in the window of some
    mail-process kill: how little an unidentified sender's "consistent" says on its own."""
    mail = sum(1 for _when, _pids, worker in kills if worker.startswith("w-mail"))
    return min(1.0, mail * (WINDOW_BEFORE + WINDOW_AFTER) / span) if span else 1.0


def classify_duplicates(copies: dict, kills: list) -> tuple[list, list, list]:
    """Every extra copy of an e-mail, split three ways: explained (the process that sent the copy
    before it was SIGKILLed inside SMTP's acknowledgement window), consistent (its sender was not
    identified, but a mail worker's process was SIGKILLed inside the window), and unexplained."""
    explained, consistent, unexplained = [], [], []
    for notification, accepted in copies.items():
        for at, _mid, sender in accepted[:-1]:
            if kill_after(at, sender, kills) is not None:
                explained.append(notification)
            elif sender is None and mail_kill_near(at, kills) is not None:
                consistent.append(notification)
            else:
                unexplained.append(notification)
    return explained, consistent, unexplained


def report(args, stack, injector, r, unplanned, fault_seconds, drain_seconds, total_seconds, due_from) -> int:
    lateness = r["lateness"]
    p50, p95, worst = percentile(lateness, 50), percentile(lateness, 95), max(lateness, default=0.0)
    workers = ", ".join(f"{w.name} -Q {','.join(w.queues)}" for w in stack.workers)
    from django.conf import settings

    claims = ", ".join(f"{name} {getattr(settings, name)}" for name in
                       ("REMINDER_CLAIM_SECONDS", "EMAIL_CLAIM_SECONDS", "REMINDER_SWEEP_BATCH", "REMINDER_SWEEP_BUDGET_SECONDS",
                        "REMINDER_SWEEP_PARALLEL")
                       if hasattr(settings, name))
    out = [
        "",
        "=" * 78,
        f"Fault injection against {args.label}",
        f"seed {args.seed}; {fault_seconds:.0f} s of faults, {drain_seconds:.0f} s of drain, {total_seconds:.0f} s in all; "
        f"workers {workers}; slow mail {args.slow_smtp:.0f} s/message",
        f"{args.reminders} reminders due over {args.due_spread:.0f} s; {claims}",
        "",
        f"Faults injected: {sum(injector.counts.values())}",
    ]
    for kind, label in KINDS.items():
        out.append(f"  {label:<52} {injector.counts.get(kind, 0):>5}")
    if injector.skipped:
        out.append("  (not injected, nothing to hit: " + ", ".join(f"{k} {v}" for k, v in sorted(injector.skipped.items())) + ")")
    out.append(f"Unplanned process exits (restarted by this script): {len(unplanned)}"
               + (f" ({', '.join(unplanned)})" if unplanned else ""))
    out += [
        "",
        f"Reminders: due {r['due']}, delivered {r['delivered']}, lost {r['lost']} (due, not cancelled, not delivered), "
        f"cancelled {r['cancelled']}",
        f"Notifications: expected {r['expected_notes']} (due reminders x their recipients), written {r['written_notes']}, "
        f"missing {r['missing_notes']}, unexpected {r['unexpected_notes']}, duplicated {r['dup_notes']} "
        f"(pairs (reminder, user) written more than once: {r['dup_pairs']})",
        f"E-mails: expected {r['mail_expected']} (notifications of users with an address), sent {r['mail_sent']}, "
        f"duplicated {r['mail_dup_by_notification']} (extra copies of {r['mail_dup_notifications']} notifications; "
        f"same Message-ID twice: {r['mail_dup_by_message_id']}), missing {r['mail_missing']}",
        f"  mail server: {r['mail_accepted']} accepted (per recipient), {r['mail_discarded']} discarded (client gone before "
        f"the reply), {r['mail_other']} not from a bench reminder (same text to one address more than once: "
        f"{r['mail_other_copies']}), {r['mail_stray']} for no written notification",
        *([f"  outbox rows by state: {', '.join(f'{k} {v}' for k, v in sorted(r['outbox'].items()))}"] if r["outbox"] else []),
        f"Lateness (notification created_at - reminder due_at, {len(lateness)} notifications): "
        f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {worst:.1f} s",
        f"Throughput: notifications written from the first to the last in {r['span']:.1f} s "
        f"({r['written_notes'] / r['span'] if r['span'] else 0:.0f} per s, "
        f"{r['delivered'] / r['span'] if r['span'] else 0:.0f} reminders per s)",
    ]
    explained, consistent, unexplained = classify_duplicates(r["copies"], injector.kills)
    if r["copies"]:
        same_id = sum(1 for accepted in r["copies"].values() if len({mid for _t, mid, _s in accepted}) == 1 and accepted[0][1])
        out.append(f"  of the {r['mail_dup_by_notification']} duplicate e-mails, {len(explained)} fall in SMTP's acknowledgement "
                   f"window (the process that sent the copy before was SIGKILLed within {WINDOW_BEFORE:.1f} s before to "
                   f"{WINDOW_AFTER:.1f} s after the server's 250, before it could note the answer); {len(consistent)} are "
                   f"consistent with it (their sender was not identified, and a mail worker's process was SIGKILLed in that "
                   f"window: a random instant of this run falls so near a mail kill with chance "
                   f"{coincidence_chance(injector.kills, fault_seconds):.0%}); {len(unexplained)} are neither; "
                   f"{same_id} of {len(r['copies'])} duplicated e-mails carried one Message-ID in every copy")
    failures = []
    if r["lost"] or r["missing_notes"]:
        failures.append(f"{r['lost']} reminders / {r['missing_notes']} notifications lost")
    if r["dup_notes"] or r["unexpected_notes"]:
        failures.append(f"{r['dup_notes']} duplicate / {r['unexpected_notes']} unexpected notifications")
    if unexplained:
        failures.append(f"{len(unexplained)} duplicate e-mails outside SMTP's acknowledgement window")
    if r["mail_missing"]:
        failures.append(f"{r['mail_missing']} e-mails missing")
    if p95 > TARGET_P95_LATENESS:
        failures.append(f"p95 lateness {p95:.0f} s > {TARGET_P95_LATENESS:.0f} s")
    if sum(injector.counts.values()) < args.faults:
        failures.append(f"only {sum(injector.counts.values())} of {args.faults} faults injected")
    for (recipient, token), accepted in sorted(r["copies"].items())[:10]:
        first, last = accepted[0][0], accepted[-1][0]
        near = [f"{kind} {clock(began)}-{clock(ended)}Z"
                for began, ended, kind in injector.timeline if ended >= first - 15 and began <= last + 5]
        kills = [kill_after(at, sender, injector.kills) for at, _mid, sender in accepted[:-1]]
        out.append(f"  duplicate: reminder {token} to {recipient}, accepted at "
                   + ", ".join(f"{clock(t)}Z from pid {sender or '?'} ({mid or 'no Message-ID'})" for t, mid, sender in accepted)
                   + "; " + ", ".join(f"its sender SIGKILLed {delta * 1000:+.0f} ms after the 250" if delta is not None
                                      else f"its sender unknown; a mail process SIGKILLed {mail_gap * 1000:+.0f} ms after the 250"
                                      if sender is None and (mail_gap := mail_kill_near(at, injector.kills)) is not None
                                      else "its sender not killed near the 250"
                                      for delta, (at, _mid, sender) in zip(kills, accepted[:-1]))
                   + f"; faults from 15 s before: {', '.join(near) or 'none'}")
    out.append("")
    if failures:
        out.append("Verdict: FAIL: " + "; ".join(failures))
    else:
        out.append("Verdict: PASS: 0 lost, 0 duplicate notifications, p95 lateness <= 3 min, "
                   + ("0 duplicate e-mails" if not (explained or consistent) else
                      f"0 duplicate e-mails outside SMTP's acknowledgement window ({len(explained)} inside it, "
                      f"{len(consistent)} consistent with it: README, \"The window that remains\")"))
    out.append("=" * 78)
    print("\n".join(out), flush=True)
    return 1 if failures else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
