"""Shared personas and helpers.

Personas (each a real user with a real membership and group, no mocked permission checks):
- ``reporter``: staff in Solsiden barnehage (municipal)
- ``reporter_leader``: leader in Solsiden barnehage
- ``teacher``: staff in Fjordvik skole
- ``caseworker``: staff in Barneverntjenesten
- ``bv_leader``: leader in Barneverntjenesten
- outsiders who must get 404: ``nav_staff``, ``slt_staff``, ``other_bh_staff`` (Eventyrskogen, private)
"""
import os

import pytest
from django.conf import settings

from tests.factories import Org, make_org


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked ``services`` need PostgreSQL and Redis. In CI a missing service is an error.
    Also puts the browser tests last (see _browser_tests_last)."""
    _browser_tests_last(items)
    missing = []
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        missing.append("PostgreSQL (set DATABASE_URL)")
    if not os.environ.get("REDIS_URL"):
        missing.append("Redis (set REDIS_URL)")
    if not missing:
        return
    reason = "needs " + " and ".join(missing)
    for item in items:
        if "services" in item.keywords:
            if os.environ.get("CI"):
                raise pytest.UsageError(f"CI run without {reason}: the reliability tests cannot be skipped in CI")
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def org(db) -> Org:
    return make_org()


def _browser_tests_last(items):
    """Run the browser tests last. Their database restores (serialized rollback, flushes without
    post-migrate) leave a database without the migration-seeded rows, which a later transactional
    test (the reliability tests) must not inherit."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/"))


@pytest.fixture
def postgresql_only():
    """Skip on SQLite locally; in CI (CI set) a missing PostgreSQL is a failure, never a skip."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI run without PostgreSQL (set DATABASE_URL): PostgreSQL-only tests cannot be skipped in CI")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def eager_celery():
    """Run a task in-process when it is enqueued (the real task body, no broker)."""
    from config.celery import app as celery_app

    previous = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    yield
    celery_app.conf.update(task_always_eager=previous)


@pytest.fixture
def client():
    """pytest-django's client, carrying a create form's one-time token as the rendered form would
    (tests/accounts/form_client.py)."""
    from tests.accounts.form_client import FormClient

    return FormClient()
