"""viewflow's start, gateways and end, each written with the fewest statements a step's transaction needs.

Every process here is started and moved on by a service, in the one transaction of its step, with
the process row locked first (workflows.steps). viewflow's own nodes are written for a caller that
holds neither; inside such a step they cost round trips that guard nothing:

- the start opens a savepoint, then takes viewflow's lock in another savepoint with a
  ``SELECT … FOR UPDATE NOWAIT`` of the process it has just inserted, which no other transaction
  can see yet;
- each gateway (If, Switch) and the end runs its condition in a savepoint, so that viewflow can keep
  a failed gateway as an ERROR task when it is told not to propagate exceptions. This project never
  tells it that (no Job, Timer or signal node): the exception goes up, and the step's transaction
  rolls back whole, savepoint or not;
- a gateway's task, and the end's, is inserted as NEW and updated to DONE a moment later in the same
  transaction; here it is inserted once, done, with its link to the task before it;
- the end saves every column of the process and of the process's own table (its record link), when
  only the status and the finish time change;
- every task a step creates (the start's, each gateway's, the next human task's, the end's) is
  inserted on its own, and each link to the task before it in another statement: here, inside a
  step (``task_writes``), they are kept until the step's flow has moved on and then written, tasks
  and links, in one statement.

Started outside a transaction (a shell, a script), the start does what viewflow's does; the nodes
after it always run inside one (viewflow asserts it). The task rows, their
links and the process's status are the same as viewflow's own nodes write (the flow tests read them).
"""
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.handle import HandleActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import PROCESS, STATUS

from org.batch import insert_sql
from org.compiled import prepared_rows


# --- the new tasks of a step, written together --------------------------------------------------

class _Pending:
    """The tasks created inside ``task_writes`` (unsaved, in order) and their links (task, previous)."""

    def __init__(self):
        self.tasks, self.links = [], []


_PENDING: ContextVar[_Pending | None] = ContextVar("workflows_pending_tasks", default=None)


@contextmanager
def task_writes():
    """Inside it, a new task and its link to the task before it are kept (``write_task``) and
    written when it ends, all in one statement on PostgreSQL (elsewhere the tasks in one and their
    links in another), instead of two per task as they are created. The
    outermost one writes; on an exception nothing is written (the step's transaction rolls back).
    Every node of the project's flows creates its tasks through ``write_task`` (workflows.checks
    says so): a viewflow node that saved its own would find its predecessor without a key and fail."""
    if _PENDING.get() is not None:
        yield
        return
    token = _PENDING.set(_Pending())
    try:
        yield
        pending = _PENDING.get()
    finally:
        _PENDING.reset(token)
    _flush(pending)


def write_task(task, previous=None) -> None:
    """Insert the new ``task`` (linked to ``previous``, if given), now or when ``task_writes`` ends."""
    pending = _PENDING.get()
    if pending is None:
        task.save()
        if previous is not None:
            task.previous.add(previous)
        return
    if task.flow_task and not task.flow_task_type:
        task.flow_task_type = task.flow_task.task_type  # as viewflow's Task.save sets it
    pending.tasks.append(task)
    if previous is not None:
        pending.links.append((task, previous))


def pending_open_tasks(process) -> bool:
    """Whether a task of ``process`` that is kept for writing is unfinished."""
    pending = _PENDING.get()
    return pending is not None and any(t.process is process and t.finished is None for t in pending.tasks)


def _flush(pending: _Pending) -> None:
    if not pending.tasks:
        return
    model = type(pending.tasks[0])
    field = model._meta.get_field("previous")
    through = field.remote_field.through
    source = through._meta.get_field(field.m2m_field_name()).attname
    target = through._meta.get_field(field.m2m_reverse_field_name()).attname
    if connection.vendor == "postgresql":
        _insert_linked(model, pending, through, source, target)
        return
    if connection.features.can_return_rows_from_bulk_insert:
        model._base_manager.bulk_create(pending.tasks)
    else:
        for task in pending.tasks:
            task.save()
    through._base_manager.bulk_create([through(**{source: task.pk, target: previous.pk}) for task, previous in pending.links])


def _insert_linked(model, pending: _Pending, through, source: str, target: str) -> None:
    """The tasks and their links in one statement: the tasks' INSERT (bulk_create's own) returns
    their ids, which ascend in the order the rows are given (one sequence, drawn row by row); each
    link names its task, and a previous task that is new too, by position among them."""
    qn = connection.ops.quote_name
    tasks_sql, tasks_params = insert_sql(model, pending.tasks, using=connection.alias, returning=[model._meta.pk])
    position = {id(task): i for i, task in enumerate(pending.tasks, start=1)}
    links, link_params = [], []
    for task, previous in pending.links:
        links.append("(%s::integer, %s::integer, %s::bigint)")
        link_params += [position[id(task)], position.get(id(previous)), previous.pk]
    if links:
        link_sql = (
            f", linked AS (INSERT INTO {qn(through._meta.db_table)} ({qn(source)}, {qn(target)})"
            f" SELECT task.id, COALESCE(previous.id, link.previous_id) FROM (VALUES {', '.join(links)}) AS link (task, previous, previous_id)"
            " JOIN numbered task ON task.n = link.task LEFT JOIN numbered previous ON previous.n = link.previous)"
        )
    else:
        link_sql = ""
    # Prepared (org.compiled.prepared_rows): a text per number of tasks and links, a few per flow.
    ids = [row[0] for row in prepared_rows(
        f"WITH inserted AS ({tasks_sql}), numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM inserted){link_sql}"
        " SELECT id FROM numbered ORDER BY n",
        [*tasks_params, *link_params],
    )]
    if len(ids) != len(pending.tasks):
        raise RuntimeError("the tasks' INSERT returned another number of rows")
    for task, pk in zip(pending.tasks, ids):
        task.pk = pk
        task._state.adding = False
        task._state.db = connection.alias


def _insert_process(process) -> None:
    """Insert the new ``process`` (a flow's process class, one table below viewflow's process table)
    in one statement: viewflow's row, then its own row with the new id. ``save`` sends two."""
    model = type(process)
    parents = model._meta.get_parent_list()
    if connection.vendor != "postgresql" or len(parents) != 1 or process._is_pk_set():
        process.save()
        return
    parent = parents[0]
    link = model._meta.get_ancestor_link(parent)
    own = [f for f in model._meta.local_concrete_fields if f is not link]
    qn = connection.ops.quote_name
    parent_sql, parent_params = insert_sql(parent, [process], using=connection.alias, returning=[parent._meta.pk])
    ((new_id,),) = prepared_rows(
        f"WITH parent AS ({parent_sql}) INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in [link, *own])})"
        f" SELECT parent.{qn(parent._meta.pk.column)}{''.join(', %s' for _ in own)} FROM parent RETURNING {qn(link.column)}",
        [*parent_params, *(f.get_db_prep_save(f.pre_save(process, True), connection) for f in own)],
    )
    setattr(process, parent._meta.pk.attname, new_id)
    setattr(process, link.attname, new_id)
    process._state.adding = False
    process._state.db = connection.alias


class TaskWrites:
    """An activation whose new task goes through ``write_task`` (workflows.checks asks every node's
    for it). It hashes and compares by its task object: viewflow keeps activations in sets, and the
    task has no primary key until it is written."""

    @staticmethod
    def new_task(flow_task, prev_activation, token, data=None, seed=None):
        """The node's next task, unsaved, as viewflow's activations make it."""
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        return task

    def __eq__(self, other):
        return isinstance(other, Activation) and self.task is other.task

    def __hash__(self):
        return id(self.task)


# --- the nodes ------------------------------------------------------------------------------------

class _StartActivation(TaskWrites, StartHandleActivation):
    @Activation.status.super()
    def execute(self):
        if not connection.in_atomic_block:
            return super().execute.original()
        with task_writes():
            task_started.send(sender=self.flow_class, process=self.process, task=self.task)
            _insert_process(self.process)
            self.complete()
            flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
            self.activate_next()

    @Activation.status.super()
    def complete(self):
        self.task.finished = now()
        write_task(self.task)
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class StartHandle(flow.StartHandle):
    """A process started by a service, in the transaction of its first step."""

    activation_class = _StartActivation


class _GatewayActivation(TaskWrites, Activation):
    """A gateway's (or the end's) activation whose task is written once, when it completes: inserted
    done, linked to the task before it."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = cls(cls.new_task(flow_task, prev_activation, token, data, seed))
        activation.previous_task = prev_activation.task
        return activation

    @Activation.status.super()
    def complete(self):
        self.task.finished = now()
        write_task(self.task, self.previous_task)
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class _IfActivation(_GatewayActivation, IfActivation):
    @Activation.status.super()
    def activate(self):
        self._condition_result = self.flow_task._condition(self)


class If(flow.If):
    activation_class = _IfActivation


def switch_target(branches, activation):
    """The node of the first case whose condition holds for ``activation``, else the default (a case
    without a condition, wherever it was declared), else None: viewflow's choice."""
    matched = next((node for node, condition in branches if condition is not None and condition(activation)), None)
    return matched or next((node for node, condition in branches if condition is None), None)


class _SwitchActivation(_GatewayActivation, SwitchActivation):
    @Activation.status.super()
    def activate(self):
        self.next_task = switch_target(self.flow_task._branches, self)
        if self.next_task is None:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class Switch(flow.Switch):
    activation_class = _SwitchActivation


class _EndActivation(_GatewayActivation, EndActivation):
    @Activation.status.super()
    def activate(self):
        self.task.started = now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        # The end's own task is not written yet (_GatewayActivation): every unfinished task is another's,
        # kept for writing or written.
        open_tasks = pending_open_tasks(self.process) or (
            self.flow_class.task_class._default_manager.filter(process=self.process, finished__isnull=True).exists()
        )
        if not open_tasks:
            self.process.status = PROCESS.DONE
            self.process.finished = now()
            self.process.save(update_fields=["status", "finished"])
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
        if not open_tasks:
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class End(flow.End):
    activation_class = _EndActivation


class _ViewActivation(TaskWrites, ViewActivation):
    """A human task created as viewflow's View creates it (its owner permission, else its owner), and
    written through ``write_task``."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = cls.new_task(flow_task, prev_activation, token, data, seed)
        activation = cls(task)
        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner = owner
            task.status = STATUS.ASSIGNED
        # No onCreate hook (workflows.checks): inside a step it would see the task before it is written.
        write_task(task, prev_activation.task)
        return activation


class View(flow.View):
    """viewflow's View (a human task) whose new task is written with the step's others."""

    activation_class = _ViewActivation


class _HandleActivation(TaskWrites, HandleActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = cls.new_task(flow_task, prev_activation, token, data, seed)
        write_task(task, prev_activation.task)
        return cls(task)


class Handle(flow.Handle):
    """viewflow's Handle (a task done outside the flow) whose new task is written with the step's others."""

    activation_class = _HandleActivation
