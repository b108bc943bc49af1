"""Fixtures of the tests that run real Celery workers (test_reliability.py, test_queues.py).

Each such test commits its rows (``transactional_db``) so that the workers, pointed at pytest-django's
test database, see them. Workers consume the Redis DB in REDIS_URL (flushed before and after each
test) and are always stopped in teardown. Helpers: tests/notifications/workers.py.
"""
import importlib
import os
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.db import connection

from config.celery import app as celery_app
from tests.factories import make_org
from tests.notifications.workers import ALL_QUEUES, Worker, reset_celery_pools


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def broker(redis_db):
    """The test process publishes (``enqueue`` and services' on_commit ``.delay()``) to the workers' Redis DB."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = os.environ["REDIS_URL"]
    conf.broker_transport_options = {"visibility_timeout": 3600}
    reset_celery_pools()
    yield redis_db
    conf.broker_url, conf.broker_transport_options = saved
    reset_celery_pools()


@pytest.fixture
def committed_org(transactional_db):
    """The shared personas, committed, with the default deadline policies (a flush removes migration data)."""
    policies = importlib.import_module("workflows.migrations.0002_default_policies")
    policies.forwards(django_apps, None)
    return make_org()


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def start_worker(broker, mail_dir, tmp_path):
    """Start Celery workers against the test database and the Redis DB; all are stopped in teardown.

    ``start(name, concurrency=, queues=, app=, extra_args=, **env)``: ``queues`` defaults to every
    queue of config/celery.py; ``env`` sets the worker's environment (settings such as
    REMINDER_CLAIM_SECONDS, CELERY_BROKER_URL for another broker, TEST_EMAIL_BACKEND for another
    mail backend), after the defaults.
    """
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else "")
    database_url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"
    workers = []

    def start(name: str, *, concurrency: int = 2, queues: str = ALL_QUEUES, app: str = "config",
              extra_args: tuple = (), **settings_env) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REMINDER_", "CELERY_", "DJANGO_", "EMAIL_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings_test",
            DJANGO_EMBEDDED="1",
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=os.environ["REDIS_URL"],
            TEST_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
            EMAIL_JOURNAL_DIR=str(tmp_path / "mail-journal"),  # one per test, shared by its workers
        )
        env.update({k: str(v) for k, v in settings_env.items()})
        worker = Worker(name, env, tmp_path, concurrency, queues=queues, app=app, extra_args=extra_args)
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.stop()
