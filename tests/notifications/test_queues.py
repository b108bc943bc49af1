"""Queues by job and workers that outlive their broker (issue 12, points 4 and 6).

Real Redis lists, real ``celery worker`` subprocesses, a real redis-server restarted under a worker,
and the `make run` supervisor (tools/supervise.py) with real children. Fixtures: conftest.py here.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from celery.beat import ScheduleEntry, Scheduler
from django.conf import settings
from django.utils import timezone

from config.celery import BEAT_SCHEDULE, MAIL_QUEUE, SWEEPS_QUEUE, TASK_ROUTES
from config.celery import app as celery_app
from notifications.models import Notification, Reminder
from referrals.models import Concern
from notifications.services import reminder_deliver_one, reminder_schedule, reminders_sweep
from tests.factories import make_melding
from tests.notifications.workers import CELERY, SWEEP, enqueue, reset_celery_pools, wait_until
from workflows.concern.services import HANDLER

SUPERVISE = [sys.executable, str(Path(settings.BASE_DIR) / "tools" / "supervise.py")]
SWEEP_INTERVAL = BEAT_SCHEDULE["sweep-reminders"]["schedule"]  # seconds between two beat ticks
# The e-mail send task, as config/celery.py names it (the only one today).
MAIL_TASKS_ONE = [name for name, route in TASK_ROUTES.items() if route["queue"] == MAIL_QUEUE]
# For the tests whose workers read committed rows: they start from, and leave, the migrated database.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def queued_tasks(redis_client, queue: str) -> list[str]:
    """The task names of the messages waiting in a queue (kombu's Redis transport: one JSON list item each)."""
    return sorted(json.loads(raw)["headers"]["task"] for raw in redis_client.lrange(queue, 0, -1))


@pytest.mark.services
@committed
class RoutesTests:
    def test_it_sends_every_beat_job_to_the_sweeps_queue(self, broker):
        # Published as celery beat publishes: Scheduler.apply_async with the schedule's own entries.
        scheduler = Scheduler(celery_app, lazy=True)
        for name, entry in BEAT_SCHEDULE.items():
            scheduler.apply_async(ScheduleEntry(name=name, app=celery_app, **entry))

        assert queued_tasks(broker, SWEEPS_QUEUE) == sorted(entry["task"] for entry in BEAT_SCHEDULE.values())
        assert broker.llen(MAIL_QUEUE) == 0 and broker.llen("celery") == 0

    def test_it_sends_the_alarm_to_the_sweeps_queue_and_the_emails_to_the_mail_queue(self, committed_org, broker):
        org = committed_org
        concern = make_melding(org, urgency=Concern.Urgency.ACUTE)  # its alarm is delivered at once, on commit
        assert queued_tasks(broker, SWEEPS_QUEUE) == ["notifications.tasks.deliver_reminder"]

        reminder = Reminder.objects.get(key=f"concern:{concern.pk}:submitted:{org.barnevern.pk}")
        assert reminder_deliver_one(reminder_id=reminder.pk)  # its two e-mails are enqueued on commit
        assert queued_tasks(broker, MAIL_QUEUE) == [*MAIL_TASKS_ONE] * 2
        assert broker.llen(SWEEPS_QUEUE) == 1 and broker.llen("celery") == 0



class RouteTableTests:
    def test_it_routes_every_task_of_ours_by_name(self):
        # A new or renamed task must be given its queue in config/celery.py; without a route it would
        # share the mail queue (task_default_queue) and a slow mail server with the e-mails.
        celery_app.loader.import_default_modules()
        ours = sorted(name for name in celery_app.tasks if not name.startswith("celery."))
        assert ours and [name for name in ours if name not in TASK_ROUTES] == []

    def test_it_runs_the_beat_jobs_and_the_alarm_apart_from_the_mail(self):
        sweeps = {name for name, route in TASK_ROUTES.items() if route["queue"] == SWEEPS_QUEUE}
        assert {entry["task"] for entry in BEAT_SCHEDULE.values()} | {"notifications.tasks.deliver_reminder"} <= sweeps
        assert MAIL_TASKS_ONE and not sweeps & set(MAIL_TASKS_ONE)


def mail_backlog(org, broker, *, reminders: int):
    """Queue ``2 * reminders`` e-mails the way the code does: due reminders to Barneverntjenesten's
    staff (the caseworker and the leader), delivered by a sweep, whose e-mails are published on commit.
    Returns the concern they are about."""
    concern = make_melding(org)
    now = timezone.now()
    for i in range(reminders):
        reminder_schedule(
            key=f"backlog:{i}", obligation=f"backlog:{i}", kind=Reminder.Kind.REMINDER, message=f"Påminnelse {i}",
            service=org.barnevern, audience=Reminder.Audience.STAFF, subject=concern, required_perm=HANDLER,
            due_at=now - timedelta(seconds=1),
        )
    reminders_sweep()
    assert not Reminder.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now).exists()
    assert broker.llen(MAIL_QUEUE) >= 2 * reminders
    return concern


def due_reminder(org, concern) -> Reminder:
    """A reminder to Barneverntjenesten's leader, due now."""
    return reminder_schedule(
        key="due-now", obligation="due-now", kind=Reminder.Kind.REMINDER, message="Frist i dag",
        service=org.barnevern, audience=Reminder.Audience.LEADERS, subject=concern, required_perm=HANDLER,
        due_at=timezone.now(),
    )


@pytest.mark.services
@committed
class MailBacklogTests:
    """A slow mail server (0.5 s a message) with some 200 e-mails queued; one worker per queue, as in
    production. The sweeps worker must not wait for the mail."""

    def start_workers(self, start_worker):
        mail = start_worker("mail", queues=MAIL_QUEUE, concurrency=1,
                            TEST_EMAIL_BACKEND="tests.notifications.worker_fakes.SlowFileBackend",
                            TEST_EMAIL_DELAY_SECONDS=0.5)
        sweeps = start_worker("sweeps", queues=SWEEPS_QUEUE, concurrency=1)
        return mail, sweeps

    def test_it_delivers_a_due_reminder_within_one_sweep_behind_a_mail_backlog(self, committed_org, broker, start_worker, mail_dir):
        org = committed_org
        concern = mail_backlog(org, broker, reminders=100)
        self.start_workers(start_worker)
        wait_until(lambda: any(mail_dir.iterdir()), "the mail worker to be sending")
        reminder = due_reminder(org, concern)

        started = time.monotonic()
        enqueue(SWEEP)  # the beat's next tick
        wait_until(lambda: Notification.objects.filter(reminder=reminder).exists(), "the reminder's notification",
                   timeout=SWEEP_INTERVAL)
        took = time.monotonic() - started

        assert took < SWEEP_INTERVAL
        assert Notification.objects.filter(reminder=reminder).get().user == org.bv_leader
        backlog = broker.llen(MAIL_QUEUE)
        assert backlog >= 150, f"the mail backlog drained ({backlog} left): the test did not test the backlog"
        print(f"reminder delivered {took:.2f} s after the sweep was queued, {backlog} e-mails still queued")

    def test_it_delivers_an_alarm_at_once_behind_a_mail_backlog(self, committed_org, broker, start_worker, mail_dir):
        org = committed_org
        mail_backlog(org, broker, reminders=100)
        self.start_workers(start_worker)
        wait_until(lambda: any(mail_dir.iterdir()), "the mail worker to be sending")

        started = time.monotonic()
        concern = make_melding(org, urgency=Concern.Urgency.ACUTE)  # its alarm's task is published on commit
        alarm = Reminder.objects.get(key=f"concern:{concern.pk}:acute:{org.barnevern.pk}")
        wait_until(lambda: Notification.objects.filter(reminder=alarm).exists(), "the alarm's notification",
                   timeout=SWEEP_INTERVAL)
        took = time.monotonic() - started

        # No sweep was queued: the alarm's own task delivered it, past the mail queue.
        assert took < SWEEP_INTERVAL
        assert Notification.objects.get(reminder=alarm).user == org.bv_leader
        assert broker.llen(MAIL_QUEUE) >= 150
        print(f"alarm delivered {took:.2f} s after the melding was sent")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own on a free port, to kill and restart without disturbing others."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, "redis-server to listen", timeout=10, interval=0.05)
        return self

    def _answers(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def kill(self):
        """SIGKILL: Redis goes away with its data, as in the soak's restarts."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def publish(self, seconds: float) -> str:
        # Not the current app: shared tasks (the services' .delay()) follow the current app, and
        # would publish to this server after the test has stopped it.
        app = Celery(broker=self.url, set_as_current=False)
        try:
            return app.send_task("tests.sleep", args=[seconds], queue=MAIL_QUEUE).id
        finally:
            app.close()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    if server.proc.poll() is None:
        server.kill()


@pytest.mark.services
@committed
class BrokerRestartTests:
    """Redis killed while a worker runs a late-acknowledged task and waits for the next one: the state
    in which a Redis restart ended a worker in the soak (config/celery_worker.py explains the fault)."""

    def restart_under_a_running_task(self, worker, redis):
        task_id = redis.publish(5)
        wait_until(lambda: f"[{task_id}] received" in worker.log(), "the worker to take the long task")
        connected = worker.log().count("Connected to redis")
        time.sleep(0.5)  # the worker is back in BRPOP for its second slot
        redis.kill()
        time.sleep(1)
        redis.start()
        return connected

    def test_it_keeps_consuming_after_redis_restarts_under_a_running_task(self, start_worker, private_redis):
        worker = start_worker("restarted", CELERY_BROKER_URL=private_redis.url,
                              extra_args=("-I", "tests.notifications.worker_fakes"))
        connected = self.restart_under_a_running_task(worker, private_redis)

        wait_until(lambda: worker.log().count("Connected to redis") > connected or worker.proc.poll() is not None,
                   "the worker to reconnect (or end)")
        assert worker.proc.poll() is None, worker.log()
        task_id = private_redis.publish(0)
        worker.wait_task_done(task_id)
        assert worker.proc.poll() is None

    def test_it_shows_the_kombu_fault_that_ends_a_worker_with_celerys_own_consumer(self, start_worker, private_redis):
        """The reproduction. If this fails after an upgrade of kombu or Celery, the fault is fixed
        there: remove config/celery_worker.py and ``worker_consumer`` from config/celery.py."""
        worker = start_worker("stock", CELERY_BROKER_URL=private_redis.url, app="tests.notifications.stock_consumer_app",
                              extra_args=("-I", "tests.notifications.worker_fakes"))
        self.restart_under_a_running_task(worker, private_redis)

        wait_until(lambda: worker.proc.poll() is not None, "the worker to end", timeout=20)
        log = worker.log()
        assert "Unrecoverable error" in log and "'NoneType' object has no attribute 'hostname'" in log, log


class Supervised:
    """tools/supervise.py running ``programs`` ({name: command}), logging to ``log_dir``/<name>.log."""

    def __init__(self, log_dir: Path, programs: dict, env: dict | None = None):
        self.log_dir = log_dir
        self.names = list(programs)
        args = []
        for name, command in programs.items():
            args += ["--program", name, str(log_dir / f"{name}.log"), command]
        self.proc = subprocess.Popen([*SUPERVISE, *args], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=settings.BASE_DIR)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def pids(self, name: str) -> list[int]:
        """The pid of each start of ``name``, in order, from the supervisor's lines in its log."""
        return [int(pid) for pid in re.findall(rf"supervise: {name} started.*pid (\d+)\)$", self.log(name), re.M)]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C
        return self.proc.wait(timeout=30)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not alive.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(")")[-1].split()[0] != "Z"


@pytest.fixture
def supervised(tmp_path):
    running = []

    def start(programs: dict, env: dict | None = None) -> Supervised:
        supervisor = Supervised(tmp_path, programs, env)
        running.append(supervisor)
        return supervisor

    yield start
    for supervisor in running:
        if supervisor.proc.poll() is None:
            supervisor.proc.kill()
            supervisor.proc.wait()
        for name in supervisor.names:
            for pid in supervisor.pids(name):
                if alive(pid):
                    os.killpg(pid, signal.SIGKILL)


class SuperviseTests:
    SLEEPER = f"{sys.executable} -c 'import time; time.sleep(120)'"

    def test_it_restarts_a_killed_program_and_logs_why(self, supervised):
        supervisor = supervised({"sleeper": self.SLEEPER})
        first = wait_until(lambda: supervisor.pids("sleeper"), "the first start")[0]

        os.kill(first, signal.SIGKILL)
        pids = wait_until(lambda: (p := supervisor.pids("sleeper")) and len(p) == 2 and p, "the restart", timeout=10)
        assert pids[1] != first and alive(pids[1])
        log = supervisor.log("sleeper")
        assert "supervise: sleeper was killed by SIGKILL after" in log and "restarting in 1 s" in log
        assert "started again (restart 1" in log

    def test_it_stops_every_program_on_ctrl_c(self, supervised):
        supervisor = supervised({"sleeper": self.SLEEPER, "worker": self.SLEEPER})
        wait_until(lambda: supervisor.pids("sleeper") and supervisor.pids("worker"), "both to start")
        pids = supervisor.pids("sleeper") + supervisor.pids("worker")

        assert supervisor.stop() == 0
        assert not [pid for pid in pids if alive(pid)]
        assert "supervise: sleeper stopping (SIGTERM)" in supervisor.log("sleeper")
        assert "restarting" not in supervisor.log("sleeper") + supervisor.log("worker")

    def test_it_appends_to_the_log_of_earlier_runs(self, supervised, tmp_path):
        (tmp_path / "sleeper.log").write_text("earlier run\n")
        supervisor = supervised({"sleeper": f"{sys.executable} -c 'print(\"this run\", flush=True); import time; time.sleep(120)'"})
        wait_until(lambda: "this run" in supervisor.log("sleeper"), "the program's output")
        assert supervisor.log("sleeper").startswith("earlier run\n")

    def test_it_backs_off_a_program_that_keeps_exiting(self, supervised):
        supervisor = supervised({"sleeper": f"{sys.executable} -c 'raise SystemExit(3)'"})
        wait_until(lambda: "restarting in 2 s" in supervisor.log("sleeper"), "the second exit", timeout=10)
        lines = [line for line in supervisor.log("sleeper").splitlines() if "exited with status 3" in line]
        assert [line.rsplit("restarting in ", 1)[1] for line in lines[:2]] == ["1 s", "2 s"]


@pytest.fixture
def filesystem_broker(tmp_path):
    """kombu's filesystem broker (`make run`'s) in a temporary directory, for this process and its workers."""
    root = tmp_path / "broker"
    for folder in ("out", "processed", "control"):
        (root / folder).mkdir(parents=True)
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = "filesystem://"
    conf.broker_transport_options = {
        "data_folder_in": str(root / "out"), "data_folder_out": str(root / "out"),
        "processed_folder": str(root / "processed"), "control_folder": str(root / "control"),
    }
    reset_celery_pools()
    yield root
    conf.broker_url, conf.broker_transport_options = saved
    reset_celery_pools()


def queued_files(root: Path, queue: str) -> list[Path]:
    # The filesystem transport names each message <time>_<uuid>.<queue>.msg and reads only its queue's.
    return sorted(path for path in (root / "out").iterdir() if path.name.partition(".")[2] == f"{queue}.msg")


class FilesystemBrokerTests:
    """`make run` runs a worker per queue on kombu's filesystem broker."""

    def test_it_writes_each_task_to_its_queue(self, filesystem_broker):
        enqueue(SWEEP)
        enqueue("notifications.tasks.deliver_reminder", 1)
        enqueue(MAIL_TASKS_ONE[0], 1)
        assert len(queued_files(filesystem_broker, SWEEPS_QUEUE)) == 2
        assert len(queued_files(filesystem_broker, MAIL_QUEUE)) == 1

    def test_it_restarts_a_killed_sweeps_worker_which_consumes_only_its_queue(self, supervised, filesystem_broker, tmp_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_", "DATABASE_URL"))}
        env.update(DJANGO_SETTINGS_MODULE="tests.notifications.fs_settings", DJANGO_EMBEDDED="1",
                   TEST_BROKER_DIR=str(filesystem_broker), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
        # As the Makefile's run target starts it, plus the test task.
        command = (f"{CELERY} -A config worker -Q {SWEEPS_QUEUE} -n sweeps@%h --pool=solo -l info "
                   "-I tests.notifications.worker_fakes")
        supervisor = supervised({"worker": command}, env)
        wait_until(lambda: " ready." in supervisor.log("worker"), "the worker to start")

        os.killpg(supervisor.pids("worker")[0], signal.SIGKILL)
        wait_until(lambda: supervisor.log("worker").count(" ready.") == 2, "the restarted worker to start")
        mail_id = celery_app.send_task("tests.sleep", args=[0], queue=MAIL_QUEUE).id
        sweeps_id = celery_app.send_task("tests.sleep", args=[0], queue=SWEEPS_QUEUE).id

        wait_until(lambda: f"[{sweeps_id}] succeeded" in supervisor.log("worker"), "the sweeps queue's task")
        assert mail_id not in supervisor.log("worker")
        assert len(queued_files(filesystem_broker, MAIL_QUEUE)) == 1  # left for the mail worker
        assert supervisor.stop() == 0
