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
import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, transaction
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_sql(model, objs, *, using: str, ignore_conflicts: bool = False, returning=()) -> tuple[str, tuple]:
    """The one INSERT (text, parameters) that ``bulk_create`` sends for the unsaved ``objs`` of
    ``model`` (none with a primary key set): the same columns, values and conversions; with
    ``returning`` (fields) it returns their values, one row per object, in the objects' order.

    The ORM compiles an INSERT's text anew for every call, which took a step more CPU than the
    database spent on its rows. Its text depends only on the model, the options and whether the
    rows go as one VALUES row or as UNNEST arrays (PostgreSQL's several rows: one text for any
    number), so it is compiled once per such shape, and each call works out only the values, as the
    compiler does (``pre_save``, then ``get_db_prep_save``). The first call of a shape checks that
    those values are the ORM's own; a value that is an expression goes through the ORM every time."""
    objs = list(objs)
    if any(obj._is_pk_set() for obj in objs):
        raise ValueError("insert_sql writes new rows only")
    for obj in objs:
        # As bulk_create: a related object saved after it was assigned gives its key now.
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    connection = connections[using]
    fields, unnestable = _insert_fields(model, using)
    rows = _values(objs, fields, connection, lambda field, obj: field.pre_save(obj, add=True))
    if rows is None:
        return _compiled_insert(model, objs, fields, using, ignore_conflicts, returning)
    unnest = len(rows) > 1 and unnestable and not any(hasattr(value, "as_sql") for row in rows for value in row)
    key = (model, using, connection.vendor, ignore_conflicts, tuple(returning), "unnest" if unnest else len(rows))
    sql = _INSERT_TEXTS.get(key)
    if sql is None:
        # The ORM's text, and its values: they must be the ones worked out here, from the same
        # attributes (its pre_save has just set those it sets, a time now a little later).
        sql, params = _compiled_insert(model, objs, fields, using, ignore_conflicts, returning)
        rows = _values(objs, fields, connection, lambda field, obj: getattr(obj, field.attname))
        if _comparable(params) != _comparable(_params(rows, unnest)):
            raise ValueError(f"insert_sql: the values of {model._meta.label} differ from the ORM's")
        if len(_INSERT_TEXTS) >= _INSERT_TEXTS_AT_MOST:
            _INSERT_TEXTS.clear()
        _INSERT_TEXTS[key] = sql
        return sql, params
    return sql, _params(rows, unnest)


def _values(objs, fields, connection, read) -> list[list] | None:
    """Each object's values of ``fields`` as the insert compiler prepares them (``read``, then
    get_db_prep_save); None if one is an expression (the compiler resolves those in its query)."""
    rows = []
    for obj in objs:
        row = []
        for field in fields:
            value = read(field, obj)
            if hasattr(value, "resolve_expression"):
                return None
            row.append(field.get_db_prep_save(value, connection=connection))
        rows.append(row)
    return rows


def _params(rows, unnest: bool) -> tuple:
    """The statement's parameters: a list per column for UNNEST, else the rows' values in order."""
    return tuple(list(column) for column in zip(*rows)) if unnest else tuple(value for row in rows for value in row)


# The INSERT texts compiled, by shape. One per model and options for UNNEST; a VALUES text per row
# count only where a model's rows cannot be unnested, so the bound is rarely met.
_INSERT_TEXTS: dict[tuple, str] = {}
_INSERT_TEXTS_AT_MOST = 256


@functools.cache
def _insert_fields(model, using: str) -> tuple[list, bool]:
    """The fields bulk_create inserts, and whether PostgreSQL's compiler would send several rows of
    them as UNNEST arrays (its conditions that depend on the fields alone; the values' own are
    checked per call)."""
    connection = connections[using]
    fields = [f for f in model._meta.concrete_fields if not f.generated and not isinstance(f, AutoField)]
    unnestable = connection.vendor == "postgresql" and bool(fields) and not any(
        hasattr(field, "get_placeholder")
        or (field.target_field if field.is_relation else field).get_internal_type() not in connection.data_types
        for field in fields
    )
    return fields, unnestable


def _compiled_insert(model, objs, fields, using, ignore_conflicts, returning) -> tuple[str, tuple]:
    """The ORM's own INSERT for ``objs``, compiled now."""
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    query.insert_values(fields, objs, raw=False)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = list(returning)
    statements = compiler.as_sql()
    if len(statements) != 1:
        raise ValueError("this database cannot insert these rows in one statement")
    return statements[0]


def _comparable(params):
    """Parameters as values: a driver's wrapper (psycopg's Jsonb) by what it wraps."""
    return [_comparable(value) if isinstance(value, (list, tuple)) else getattr(value, "obj", value) for value in params]


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
