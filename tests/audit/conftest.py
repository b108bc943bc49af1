"""Helpers of the access-log tests: acting as a database administrator."""
import pytest
from django.db import connection


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def db_admin_sql(db):
    """Run SQL as a database superuser would: on PostgreSQL with triggers switched off for the
    statement (session_replication_role = replica; ALTER TABLE … DISABLE TRIGGER is refused while
    the test's transaction has deferred foreign-key checks pending)."""

    def run(sql, params=()):
        with connection.cursor() as cursor:
            if on_postgresql():
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            if on_postgresql():
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    return run
