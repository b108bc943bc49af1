"""Writes to the access log. Every row is appended to the hash chain: one by AccessLog.save, several
in one INSERT by access_log_write_many (a list read), or all rows of a block in one INSERT at its end
(access_log_deferred: a workflow step).

Appending locks the chain's head until the transaction ends, so every writer of the log waits for
it: a transaction should append as late as it can (see access_log_deferred)."""
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from audit.models import AccessLog
from org.batch import writes_sent_together

# The attribute of a database connection that holds the rows of the open access_log_deferred block.
_BUFFER = "_access_log_deferred"


def access_log_write(
    *, user, action: str, obj, person=None, purpose: str = "", service=None, via: str = AccessLog.Via.ROLE,
    changes: dict | None = None,
) -> AccessLog:
    """Append one row to the access log. Call it inside the transaction of the change it records
    (the chain's head stays locked until that transaction ends).

    ``via`` says how the user reached the object (AccessLog.Via); ``changes`` lists what an edit
    changed, ``{field: [old, new]}``, or ``{field: None}`` where the values are person data.

    Inside an ``access_log_deferred`` block the row is appended when the block ends (its ``id``,
    ``prev_hash`` and ``row_hash`` are set then).
    """
    row = access_log_entry(user=user, action=action, obj=obj, person=person, purpose=purpose, service=service, via=via)
    row.changes = changes or {}
    buffer = getattr(connections[router.db_for_write(AccessLog)], _BUFFER, None)
    if buffer is not None:
        buffer.append(row)
    else:
        row.save()
    return row


@contextmanager
def access_log_deferred(using: str = DEFAULT_DB_ALIAS):
    """Collect the rows ``access_log_write`` writes inside the block and append them to the chain in
    one INSERT when the block ends without an exception (in the order written), as its last statement.

    The block runs in a transaction (one is opened if none is), so its rows are committed with the
    changes they record, or neither is. The chain's head is locked only from that INSERT to the
    commit, not for the whole block: two transactions that each log their work serialise only on
    their last statement and their commit. On an exception nothing is appended (the transaction
    that made the changes is rolled back with it). A block inside another one adds to the outer
    block's rows, which the outer block appends.

    The block is also one of org.batch's ``writes_sent_together``: a write given to
    ``org.batch.write_soon`` inside it goes in the text of the connection's next statement.
    """
    connection = connections[using]
    if getattr(connection, _BUFFER, None) is not None:
        with transaction.atomic(using=using, savepoint=False):
            yield
        return
    rows: list[AccessLog] = []
    setattr(connection, _BUFFER, rows)
    try:
        # The writes whose result the block does not read (reminders, permission grants: org.batch)
        # go with the block's next statement; the last of them with the chain's lock, in one round trip.
        with writes_sent_together(using), transaction.atomic(using=using, savepoint=False):
            yield
            setattr(connection, _BUFFER, None)
            if rows:
                AccessLog._append_rows(rows, using=using)
    finally:
        setattr(connection, _BUFFER, None)


def access_log_write_many(rows: list[AccessLog]) -> list[AccessLog]:
    """Append unsaved ``rows`` (built like ``access_log_entry`` builds them) to the access log in
    this order, in one INSERT: the chain's head is locked once (until the surrounding transaction
    ends), the ids are reserved in one statement, and each row chains onto the one before, so
    ``manage.py audit_verify`` reads them as if they had been written one by one. (SQLite, the
    embedded quick start, splits more than 76 rows into several statements: 999 parameters each.)"""
    return AccessLog._append_rows(rows)


def access_log_entry(
    *, user, action: str, obj, person=None, purpose: str = "", service=None, via: str = AccessLog.Via.ROLE,
) -> AccessLog:
    """An unsaved access-log row, for access_log_write_many."""
    return AccessLog(
        user=user if (user is not None and user.is_authenticated) else None,
        service=service,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        person=person,
        purpose=purpose,
        via=via,
    )


def access_log_list_read(*, user, shown, purpose: str) -> list[AccessLog]:
    """Record that a list showed ``user`` who its rows are about: one "view" row per distinct
    person, written in one INSERT (access_log_write_many).

    ``shown`` is an iterable of ``(obj, person_id, service_id)``: the row's record, the person it
    names, and the user's service through whose role the list names them. A person shown on several
    rows is logged once, with the first row that showed them. Returns the rows written (none when
    no person was shown).
    """
    rows, seen = [], set()
    for obj, person_id, service_id in shown:
        if person_id is None or person_id in seen:
            continue
        seen.add(person_id)
        row = access_log_entry(user=user, action=AccessLog.Action.VIEW, obj=obj, purpose=purpose)
        row.person_id, row.service_id = person_id, service_id
        rows.append(row)
    return access_log_write_many(rows) if rows else []


LOG_READ_PURPOSE = "access log read"


def access_log_read_record(
    *, user, subject=None, person=None, service=None, via: str = AccessLog.Via.ROLE, purpose: str = LOG_READ_PURPOSE,
) -> AccessLog:
    """Record that ``user`` read access-log rows (reading a log is itself logged): the rows of
    ``subject`` (the object whose log was shown, or one log row); ``subject=None`` records a read
    of the log as a whole (object "audit.accesslog" with id 0)."""
    obj = subject if subject is not None else AccessLog(id=0)
    return access_log_write(user=user, action=AccessLog.Action.VIEW, obj=obj, person=person, purpose=purpose, service=service, via=via)
