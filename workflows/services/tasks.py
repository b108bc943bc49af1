"""Completing and cancelling viewflow human tasks from the project's own services."""
import functools
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow import lock
from viewflow.workflow.signals import task_finished, task_started
from viewflow.workflow.status import PROCESS, STATUS

from org.compiled import model_columns, model_instances, prepared_rows
from workflows.flows.nodes import task_writes


@contextmanager
def _already_locked(flow_class, process_pk):
    """viewflow's lock, taken by the caller already (the process row locked in this transaction)."""
    yield


def task_complete(flow_class, process, node_name: str, user, activation=None, *, process_locked: bool = False):
    """Complete the open task of ``node_name`` as ``user``.

    From viewflow's own task page the activation is already started and locked (it must be the
    task of ``node_name`` in ``process``: ValueError otherwise); from the project's pages the task
    is taken here (assigned to the user if still in the queue) under the flow lock. Raises a
    translated ValidationError if no such task is open. Call inside the transaction of the change.
    ``process_locked``: the caller has locked the process row in this transaction (the step
    skeleton does, first of all), so the flow lock is not taken again.
    """
    if activation is not None:
        if activation.process.pk != process.pk or activation.flow_task.name != node_name:
            raise ValueError(f"the task of {activation.flow_task.name!r} cannot complete {node_name!r} of process {process.pk}")
        # The process as the caller holds it, its record cached with the step's changes (written by the
        # step's closing UPDATE, after this): the gateways after the task decide on them, not on the
        # row as it was (viewflow's page loaded its own process, whose record would be read anew).
        activation.process = activation.task.process = process
        with task_writes():
            activation.execute()
        return
    node = getattr(flow_class, node_name)
    # lock_scope still runs viewflow's after-lock callbacks when the scope ends.
    scope = lock.lock_scope(_already_locked, flow_class, process.pk) if process_locked else flow_class.lock(process.pk)
    with scope:
        # Taken by the user (from the queue, or from a colleague who took it in viewflow's queue: the
        # service acts for the service as a whole), started and done in the one statement that finds
        # it, as viewflow's assign, start and complete would have saved it one after the other.
        task = _task_done(flow_class, node, process.pk, user)
        if task is None:
            raise ValidationError(_("This step has already been done."), code="out_of_order")
        # The process as the caller holds it (the step skeleton's, with its record cached): viewflow's
        # activation and the next task's permission read it from here instead of the database.
        task.process = process
        act = node.activation_class(task)
        task_started.send(sender=flow_class, process=process, task=task)
        task_finished.send(sender=flow_class, process=process, task=task)
        with task_writes():
            act.activate_next()


def _task_done(flow_class, node, process_id, user):
    """The open task of ``node`` in the process (the first, if several), marked done by ``user`` now
    and returned as it is stored; None if there is none. One statement, prepared (org.compiled)."""
    model = flow_class.task_class
    at = timezone.now()
    flow_task = model._meta.get_field("flow_task").get_db_prep_value(node, connection)
    found = model_instances(model, prepared_rows(
        _task_done_sql(model, connection.vendor),
        [user.pk, STATUS.DONE, at, at, process_id, flow_task, STATUS.NEW, STATUS.ASSIGNED],
    ))
    if not found:
        return None
    task = found[0]
    type(task).owner.field.set_cached_value(task, user)
    return task


@functools.cache
def _task_done_sql(model, vendor: str) -> str:
    """The statement's text, once per task model and database vendor (its quoting)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column = {name: qn(model._meta.get_field(name).column) for name in ("id", "owner", "status", "started", "finished", "process", "flow_task")}
    returning = ", ".join(qn(name) for name in model_columns(model))
    return (
        f"UPDATE {table} SET {column['owner']} = %s, {column['status']} = %s, {column['started']} = %s, {column['finished']} = %s"
        f" WHERE {column['id']} = (SELECT {column['id']} FROM {table} WHERE {column['process']} = %s AND {column['flow_task']} = %s"
        f" AND {column['status']} IN (%s, %s) ORDER BY {column['id']} LIMIT 1) RETURNING {returning}"
    )


def process_cancel(flow_class, process):
    """Cancel every open human task of ``process`` and mark the process cancelled."""
    with flow_class.lock(process.pk):
        for task in flow_class.task_class.objects.select_related(None).filter(process_id=process.pk, status__in=[STATUS.NEW, STATUS.ASSIGNED]):
            task.flow_task.activation_class(task).cancel()
        process.status = PROCESS.CANCELED
        process.finished = timezone.now()
        process.save(update_fields=["status", "finished"])
