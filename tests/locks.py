"""For the real-PostgreSQL concurrency tests: how many other sessions wait on a lock now."""
from django.db import connection


def backends_waiting_on_a_lock() -> int:
    """How many other backends of this database wait on a lock now (asked from inside the test's
    transaction, whose activity view is a snapshot taken once: dropped first, so each call sees the
    backends as they are now)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
