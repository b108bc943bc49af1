"""A step's writes in fewer round trips to PostgreSQL.

A workflow step is one transaction of a dozen or more statements, and on a busy server each
statement's round trip (the client's wait, the server's wake-up) costs more than the statement's
own work. Two tools cut them, both sending only statements the ORM itself compiled:

- ``insert_sql``: the INSERT that ``bulk_create`` would send for unsaved objects, as text and
  parameters, for a caller that wraps it in a larger statement (workflows.flows.nodes writes a
  step's new tasks and their links in one);
- ``writes_sent_together`` and ``write_soon``: a write whose result nobody reads (an INSERT … ON
  CONFLICT DO NOTHING of reminders, a permission grant) waits, and goes in the same query text as
  the connection's next statement, or when the block ends. PostgreSQL runs a text of several
  statements one after the other, in the open transaction; an error in any ends the text and fails
  the transaction as it would have failed alone (reported by the statement that carried it). On
  any other database, with prepared statements (one statement per text), or outside such a block,
  ``write_soon`` writes at once.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, transaction
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_sql(model, objs, *, using: str, ignore_conflicts: bool = False, returning=()) -> tuple[str, tuple]:
    """The one INSERT (text, parameters) that ``bulk_create`` sends for the unsaved ``objs`` of
    ``model`` (none with a primary key set): the same columns, values and conversions; with
    ``returning`` (fields) it returns their values, one row per object, in the objects' order."""
    if any(obj._is_pk_set() for obj in objs):
        raise ValueError("insert_sql writes new rows only")
    opts = model._meta
    for obj in objs:
        # As bulk_create: a related object saved after it was assigned gives its key now.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    query.insert_values(fields, objs, raw=False)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = list(returning)
    statements = compiler.as_sql()
    if len(statements) != 1:
        raise ValueError("this database cannot insert these rows in one statement")
    return statements[0]


class _Waiting:
    def __init__(self, using: str):
        self.using, self.statements = using, []


_WAITING: ContextVar[_Waiting | None] = ContextVar("org_batch_waiting", default=None)


def _batches(connection) -> bool:
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get("server_side_binding")


def _joined(statements) -> tuple[str, list]:
    return "; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params]


def _send(connection, statements) -> None:
    """The waiting ``statements`` in one text of their own; in a psycopg pipeline (org.compiled's,
    whose texts hold one statement each) one by one, queued in the pipeline's round trip."""
    from psycopg import pq

    with connection.cursor() as cursor:
        if connection.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF:
            for sql, params in statements:
                cursor.execute(sql, params)
            return
        sql, params = _joined(statements)
        cursor.execute(sql, params)


@contextmanager
def writes_sent_together(using: str = "default"):
    """A block in a transaction (one is opened if none is) inside which ``write_soon`` keeps its
    writes until the connection's next statement, which carries them in its text (the writes run
    first, in the order given), or until the block's end, where they are sent before the
    transaction ends. Every statement on the connection inside the block passes the waiting writes
    on, so none can run before a write given earlier. The outermost block sends; one left by an
    exception sends nothing (its transaction is failing)."""
    connection = connections[using]
    if _WAITING.get() is not None or not _batches(connection):
        with transaction.atomic(using=using, savepoint=False):
            yield
        return
    waiting = _Waiting(using)
    token = _WAITING.set(waiting)
    try:
        with transaction.atomic(using=using, savepoint=False), connection.execute_wrapper(_carry(waiting)):
            yield
            if waiting.statements:
                statements = list(waiting.statements)
                waiting.statements.clear()
                _send(connection, statements)
    finally:
        _WAITING.reset(token)


def _carry(waiting: _Waiting):
    """The execute wrapper: the waiting writes go first in the next statement's text; before it, in
    a text of their own, where that statement cannot carry them (executemany, a named cursor, a
    cursor that binds on the server: one statement per text)."""
    from psycopg import ClientCursor

    def wrapper(execute, sql, params, many, context):
        if not waiting.statements:
            return execute(sql, params, many, context)
        statements = list(waiting.statements)
        waiting.statements.clear()
        cursor = context["cursor"].cursor
        if many or not isinstance(cursor, ClientCursor) or getattr(cursor, "name", None):
            _send(context["connection"], statements)
            return execute(sql, params, many, context)
        if params is None:  # a text run without parameters has its % signs as they are
            sql, params = sql.replace("%", "%%"), ()
        joined_sql, joined_params = _joined(statements + [(sql, params)])
        result = execute(joined_sql, joined_params, many, context)
        for _ in statements:
            if not cursor.nextset():
                raise RuntimeError("a waiting write returned no result")
        return result

    return wrapper


def waiting(using: str = "default") -> bool:
    """Whether ``write_soon`` keeps writes on ``using`` here (inside ``writes_sent_together``, on PostgreSQL)."""
    current = _WAITING.get()
    return current is not None and current.using == using


def writes_waiting(using: str = "default") -> bool:
    """Whether writes given to ``write_soon`` wait on ``using`` now, for the connection's next statement."""
    current = _WAITING.get()
    return current is not None and current.using == using and bool(current.statements)


def write_soon(sql: str, params, *, using: str = "default") -> None:
    """Run the write ``sql`` (whose result nobody reads) now, or inside ``writes_sent_together``
    with the connection's next statement."""
    if waiting(using):
        _WAITING.get().statements.append((sql, tuple(params)))
        return
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
