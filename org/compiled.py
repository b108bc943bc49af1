"""A statement asked on every page or step, compiled to SQL once per process instead of once per use.

Django builds and compiles a queryset's SQL anew every time it runs. For the few statements of the
site's shell (the menu's membership facts, the task badges) and of every workflow step (the locks
of its process and record, workflows.steps) that is milliseconds of CPU each time, more than the
database spends answering them: each holds joins or subqueries, and only an id or two changes from
one use to the next.

``CompiledQuery(build, "user_id")`` compiles ``build(user_id=<marker>)`` the first time it is asked
(per database and per ``shape``, whatever else decides the statement's form), finds where each
marker sits among the parameters, and afterwards runs the same SQL with the real values put there,
converting the columns as the queryset would have (``rows``), or making the model instances
iterating it would (``objects``: with its ``select_related`` objects and annotations). The
statement is the ORM's own, so it cannot drift from the queryset it stands for; a marker that does
not come through as one parameter (a value folded into the SQL text, or changed on the way) refuses
to compile rather than run a statement that would ignore the value. A statement that locks rows
(``select_for_update``) refuses to run outside a transaction every time, as the ORM refuses when it
compiles.
"""
import functools
import time
from collections.abc import Callable, Hashable
from contextlib import ExitStack, nullcontext

from django.db import connections
from django.db.transaction import TransactionManagementError
from django.db.models.query import ModelIterable

from org.batch import insert_sql, writes_waiting

# Negative: no id is. One per name, far from any count, limit or flag a statement carries.
_MARKER_BASE = -7_340_021_000_000

# The most shapes a statement keeps compiled. A shape is usually a model or a set of names, a few
# per statement; one that is a day (consent.selectors judges consents on a date) makes a new one
# every day a process lives: past the bound, the statement starts again from none.
_SHAPES_AT_MOST = 64


def _run(connection, sql, params) -> list[tuple]:
    """The rows of ``sql``. On PostgreSQL as a prepared statement (server-side binding, whatever the
    connection's default): planned once per connection, not on every page (the membership facts
    planned in 0.7 ms and ran in 0.2). Its plan may be generic, blind to the values: fit for these
    statements, whose values are ids. Through the connection's cursor wrapper (its execute
    wrappers see it) and its query log (the tests' counts)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    start = time.monotonic()
    try:
        # A prepared statement is one statement per text, so writes waiting for the connection's
        # next statement (org.batch) cannot ride in its text: they go before it in a pipeline, in
        # the same round trip.
        with _pipeline(connection) if writes_waiting(connection.alias) else nullcontext():
            with connection.make_cursor(_preparing_cursor_class()(connection.connection)) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
    finally:
        _logged(connection, sql, params, start)


def _require_transaction(connection) -> None:
    """The ORM's rule for select_for_update, which it checks when it compiles: here on every run."""
    features = connection.features
    if features.has_select_for_update and features.supports_transactions and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")


def _pipeline(connection):
    """A psycopg pipeline on ``connection``, with Django's exceptions for the errors it reports when
    it ends (outside the cursors' own translation: OperationalError for a lock timeout, …)."""
    stack = ExitStack()
    stack.enter_context(connection.wrap_database_errors)
    stack.enter_context(connection.connection.pipeline())
    return stack


def _logged(connection, sql, params, start) -> None:
    if connection.queries_logged:
        # As the connection's debug cursor logs a statement (which reads the text psycopg keeps
        # of a client-bound one: a prepared statement has none).
        connection.queries_log.append({"sql": connection.ops.compose_sql(sql, params), "time": f"{time.monotonic() - start:.3f}"})


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor  # psycopg's server-side binding cursor

    class PreparingCursor(ServerBindingCursor):
        """Prepares every statement it runs, at its first run on the connection."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


class CompiledQuery:
    """The rows of ``build(**values)`` for any integer ``values`` of ``names`` (usually ids),
    compiled once per (database, shape). ``build`` returns a queryset (its rows come as the
    queryset's ``values_list`` tuples would, columns converted) or a ``(sql, params)`` pair."""

    def __init__(self, build: Callable, *names: str):
        self.build, self.names = build, names
        self._compiled: dict[tuple, tuple] = {}

    def _compile(self, using: str, shape: Hashable) -> tuple:
        markers = {name: _MARKER_BASE - i for i, name in enumerate(self.names)}
        built = self.build(**markers) if shape is None else self.build(shape, **markers)
        converters = {}
        if isinstance(built, tuple):
            sql, params = built
        else:
            compiler = built.query.get_compiler(using)
            sql, params = compiler.as_sql()
            converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])  # as results_iter
        slots = tuple((i, name) for i, value in enumerate(params) for name, marker in markers.items()
                      if type(value) is int and value == marker)
        missing = set(self.names) - {name for _i, name in slots}
        if missing or any(str(marker) in sql for marker in markers.values()):
            raise ValueError(f"CompiledQuery: {sorted(missing) or 'a marker'} is not a parameter of the statement")
        converters = tuple(converters.items())
        instances = None if isinstance(built, tuple) or not issubclass(built._iterable_class, ModelIterable) else _Instances(built, compiler, converters)
        locks = not isinstance(built, tuple) and bool(built.query.select_for_update)
        return sql, tuple(params), slots, converters, instances, locks

    def _entry(self, using: str, shape: Hashable) -> tuple:
        key = (using, connections[using].vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= _SHAPES_AT_MOST:
                self._compiled.clear()
            compiled = self._compiled[key] = self._compile(using, shape)
        return compiled

    def statement(self, using: str = "default", shape: Hashable = None, **values) -> tuple[str, list, tuple]:
        """The SQL, its parameters for ``values`` and the column converters (``shape`` goes to
        ``build`` first, when given)."""
        sql, params, slots, converters, _instances, locks = self._entry(using, shape)
        if locks:
            _require_transaction(connections[using])
        params = list(params)
        for i, name in slots:
            params[i] = values[name]
        return sql, params, converters

    def rows(self, using: str = "default", shape: Hashable = None, **values) -> list[tuple]:
        """Run the statement for ``values``: its rows, each column converted as Django would."""
        sql, params, converters = self.statement(using, shape, **values)
        connection = connections[using]
        rows = _run(connection, sql, params)
        if not converters:
            return rows
        return [tuple(_converted(row, converters, connection)) for row in rows]

    def objects(self, using: str = "default", shape: Hashable = None, **values) -> list:
        """Run the statement for ``values``: the model instances iterating the queryset would give,
        each with its ``select_related`` objects and its annotations."""
        sql, params, _converters = self.statement(using, shape, **values)
        instances = self._entry(using, shape)[4]
        if instances is None:
            raise TypeError("CompiledQuery.objects: the statement was not built from a queryset of model instances")
        return instances.make(_run(connections[using], sql, params))


def objects_together(*asks, using: str = "default") -> list[list]:
    """The model instances of several compiled statements, run one after the other in one round trip:
    each of ``asks`` is (CompiledQuery, shape, values). On PostgreSQL the statements go in one
    pipeline (psycopg's: sent together, answered in order, each prepared as ``objects`` prepares
    it); elsewhere one by one. A statement that fails fails the rest."""
    connection = connections[using]
    if connection.vendor != "postgresql" or len(asks) < 2:
        return [query.objects(using, shape, **values) for query, shape, values in asks]
    connection.ensure_connection()
    ran = []
    with _pipeline(connection):
        for query, shape, values in asks:
            sql, params, _converters = query.statement(using, shape, **values)
            cursor = connection.make_cursor(_preparing_cursor_class()(connection.connection))
            start = time.monotonic()
            cursor.execute(sql, params)
            ran.append((query, shape, cursor, sql, params, start))
    out = []
    for query, shape, cursor, sql, params, start in ran:
        with connection.wrap_database_errors, cursor:
            rows = cursor.fetchall()
        _logged(connection, sql, params, start)
        instances = query._entry(using, shape)[4]
        if instances is None:
            raise TypeError("objects_together: a statement was not built from a queryset of model instances")
        out.append(instances.make(rows))
    return out


def prepared_rows(sql: str, params, using: str = "default") -> list[tuple]:
    """The rows of one statement its caller wrote as text (a step's write with ``RETURNING``: an
    UPDATE found by a subquery, a data-modifying CTE), run as a compiled statement runs: prepared on
    PostgreSQL, so it is parsed and planned once per connection, not on every step (planning a
    step's CTE took the server longer than running it); writes waiting for the connection's next
    statement go before it, in the same round trip; elsewhere it runs through the connection's
    cursor. Its values must all be parameters, so that one text serves every run.

    After five runs PostgreSQL may keep a generic plan, made from the statistics of that moment.
    On tables of a municipality in use (and as autovacuum re-analyses them, which makes the
    connection plan again) it reads by the indexes; on the few rows of a freshly created database
    it may scan, and keep scanning as the tables grow faster than autovacuum analyses them (the
    writes bench therefore gives its database a history first). Columns come as the driver gives
    them (``model_instances`` converts a model's)."""
    return _run(connections[using], sql, params)


def prepared_insert(model, objs, using: str = "default") -> list:
    """Insert the unsaved ``objs`` of ``model`` as ``bulk_create`` would (org.batch.insert_sql: its
    statement, one for all of them), prepared on PostgreSQL: a text per model and one row or
    several, not parsed and planned on every step. Each object gets its primary key, in order, and
    is saved (``_state``). Elsewhere ``bulk_create`` itself."""
    objs = list(objs)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model._base_manager.using(using).bulk_create(objs)
    pk = model._meta.pk
    sql, params = insert_sql(model, objs, using=using, returning=[pk])
    rows = _run(connection, sql, params)
    if len(rows) != len(objs):
        raise RuntimeError(f"the INSERT of {model._meta.label} returned another number of rows")
    for obj, (value,) in zip(objs, rows):
        setattr(obj, pk.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return objs


def model_columns(model) -> list[str]:
    """The columns of ``model``'s concrete fields, in the order ``model_instances`` reads them."""
    return [field.column for field in model._meta.concrete_fields]


@functools.cache
def _model_reading(model, using: str) -> tuple[list[str], tuple]:
    """(attnames, converters by position) of ``model``'s concrete fields: the converters a queryset's
    compiler works out for their columns."""
    fields = model._meta.concrete_fields
    compiler = model._base_manager.db_manager(using).all().query.get_compiler(using)
    converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
    return [field.attname for field in fields], tuple(converters.items())


def model_instances(model, rows, using: str = "default") -> list:
    """``model``'s instances (as loaded from the database) of ``rows`` holding the columns of
    ``model_columns(model)`` in that order, each value converted as a queryset would convert it."""
    attnames, converters = _model_reading(model, using)
    connection = connections[using]
    return [model.from_db(using, attnames, _converted(row, converters, connection) if converters else row) for row in rows]


def _converted(row, converters, connection) -> list:
    """``row`` as a list, each column with converters (position → (functions, expression), as
    the compiler's get_converters gives them) converted as results_iter converts it."""
    row = list(row)
    for position, (functions, expression) in converters:
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return row


class _Instances:
    """Django's ModelIterable, split in two: what it works out from the compiler once (the columns of
    the model and of each related object, the annotations' positions), and the instances of each
    run's rows."""

    def __init__(self, queryset, compiler, converters: tuple):
        from django.db.models.query import get_related_populators

        if queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise TypeError("CompiledQuery.objects: known related objects and prefetches are not compiled")
        self.compiler, self.db = compiler, compiler.using
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = tuple(compiler.annotation_col_map.items())
        # The columns' converters, as results_iter works them out on every call (CompiledQuery's, once).
        if compiler.has_composite_fields([column[0] for column in select[: compiler.col_count]]):
            raise TypeError("CompiledQuery.objects: composite fields are not compiled")
        self.converters = converters

    def make(self, rows) -> list:
        out = []
        connection = self.compiler.connection
        for row in rows:
            if self.converters:
                row = _converted(row, self.converters, connection)
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            out.append(obj)
        return out
