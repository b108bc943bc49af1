"""The hash chain of the access log: how a row is serialised and hashed, and how a row is appended.

``row_hash = sha256(prev_hash + canonical(row))``, hex. The serialisation is part of the stored
evidence: changing it invalidates every chain already written, so it never changes.
"""
import hashlib
import json
from datetime import timezone as dt_timezone

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections

# The prev_hash of the first row.
GENESIS = "0" * 64

# The fields a row's hash covers, in this order.
HASHED_FIELDS = (
    "id", "at", "user_id", "service_id", "action", "object_type", "object_id", "person_id", "purpose", "via", "changes",
)

# pg_advisory_xact_lock key of the chain's head ("AUDITLOG" in ASCII).
CHAIN_LOCK_KEY = 0x415544_49544C4F47


def normalise_changes(changes) -> dict:
    """``changes`` as it reads back from the JSON column (dates and decimals become strings)."""
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))


def canonical(values: dict) -> str:
    """The row's hashed content as one JSON text: fixed keys, sorted, UTC timestamp to the microsecond."""
    at = values["at"]
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = at.astimezone(dt_timezone.utc).isoformat(timespec="microseconds")
    content["changes"] = values["changes"] or {}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, values: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(values)).encode("utf-8")).hexdigest()


def lock_and_reserve(model, using: str) -> tuple[int, str]:
    """Lock the chain's head until the caller's transaction ends and return (the new row's id, the
    head's row_hash). Call inside transaction.atomic. See lock_and_reserve_many."""
    ids, head = lock_and_reserve_many(model, using, 1)
    return ids[0], head


def _cursor_for_texts(connection):
    """A cursor that may send one query text of several statements. With prepared statements on
    (settings.DB_PREPARED_STATEMENTS: server-side binding), the connection's own cursors send each
    text as one prepared command, which holds one statement: this one binds on the client, as the
    connection does by default, and is still the connection's (its wrappers see the statement)."""
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return connection.cursor()
    from django.db.backends.postgresql.base import Cursor  # psycopg's client-side binding cursor

    connection.ensure_connection()
    return connection._prepare_cursor(Cursor(connection.connection))


def lock_and_reserve_many(model, using: str, count: int) -> tuple[list[int], str]:
    """Lock the chain's head until the caller's transaction ends and return (``count`` new ids in
    increasing order, the head's row_hash). Call inside transaction.atomic.

    PostgreSQL: a transaction-scoped advisory lock on a fixed key, so two writers cannot chain onto
    the same predecessor; the ids come from the table's sequence while the lock is held (one
    statement for all of them), so ids increase along the chain. SQLite has one writer at a time:
    the write lock is taken first, and the ids follow the highest one.
    """
    if count < 1:
        raise ValueError("reserve at least one id")
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    with _cursor_for_texts(connection) as cursor:
        if connection.vendor == "postgresql":
            # The head and the ids in a statement after the lock's (READ COMMITTED takes a snapshot
            # at each statement's start), so it sees the head the lock's previous holder committed;
            # both statements in one round trip (a query text of two statements is run one after
            # the other, each with its own snapshot). The head is the same on every row.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s);"
                f" SELECT (SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1), nextval(pg_get_serial_sequence(%s, 'id'))"
                " FROM generate_series(1, %s)",
                [CHAIN_LOCK_KEY, model._meta.db_table, count],
            )
            if not cursor.nextset():
                raise RuntimeError("the chain's head and ids were not returned")
            rows = cursor.fetchall()
            head = (rows[0][0],)
            new_ids = sorted(row[1] for row in rows)
        else:
            # A write that changes nothing takes SQLite's write lock (waiting out the busy
            # timeout) before the head is read, so the read and the insert see the same head.
            cursor.execute(f"UPDATE {table} SET id = id WHERE 0")
            cursor.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1")
            last = cursor.fetchone()
            head = (last[1],) if last else None
            first = (last[0] + 1) if last else 1
            new_ids = list(range(first, first + count))
    return new_ids, (head[0] if head and head[0] else GENESIS)
