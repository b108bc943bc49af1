"""Real Celery workers for the reliability tests: the helpers; the fixtures are in conftest.py beside this.

Workers are ``celery worker`` subprocesses against pytest-django's test database and the Redis DB in
REDIS_URL (or a broker a test names), writing mail to files in a temporary directory.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import MAIL_QUEUE, SWEEPS_QUEUE
from config.celery import app as celery_app

CELERY = str(Path(sys.executable).with_name("celery"))
SWEEP = "notifications.tasks.sweep_reminders"
WAIT = 30  # seconds: the longest any single wait may take
# The first wait after a worker is started also covers its boot (Django set-up, broker and database
# connections): on a loaded 2-core machine that alone has taken most of WAIT.
WAIT_WITH_BOOT = 90
# A test worker consumes every queue of config/celery.py unless the test names its queues.
ALL_QUEUES = f"{SWEEPS_QUEUE},{MAIL_QUEUE}"


def wait_until(predicate, what: str, timeout: float = WAIT, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def reset_celery_pools():
    # Celery caches its broker connection pools; forget them so the next publish uses the new broker_url
    # (kombu keeps one pool per broker URL, so they are not closed, only no longer looked at).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def enqueue(task_name: str, *args) -> str:
    """Publish a task as the beat (or a service) would, routed by config/celery.py; returns the task id."""
    return celery_app.send_task(task_name, args=args).id


def sent_mail(mail_dir: Path) -> list[str]:
    """The recipient of every message the workers' file-based e-mail backend wrote, one entry per message."""
    recipients = []
    for file in mail_dir.iterdir():
        for line in file.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                recipients.append(line[4:].strip())
    return sorted(recipients)


class Worker:
    """One ``celery worker`` subprocess in its own process group (so a SIGKILL takes its pool children too)."""

    def __init__(self, name: str, env: dict, log_dir: Path, concurrency: int, queues: str = ALL_QUEUES,
                 app: str = "config", extra_args: tuple = ()):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [CELERY, "-A", app, "worker", "-P", "prefork", f"--concurrency={concurrency}", "-n", f"{name}@%h",
             "-Q", queues, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", *extra_args],
            cwd=settings.BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self):
        def ready():
            if self.proc.poll() is not None:
                pytest.fail(f"worker {self.name} exited with {self.proc.returncode}:\n{self.log()}")
            return " ready." in self.log()

        wait_until(ready, f"worker {self.name} to start")
        return self

    def wait_task_done(self, task_id: str):
        wait_until(lambda: f"[{task_id}] succeeded" in self.log(), f"task {task_id} on {self.name}")

    def kill(self):
        """SIGKILL the whole worker (main process and pool children), as an OOM killer or a crash would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            # The main process is gone; its pool children may not be.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()
