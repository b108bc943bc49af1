"""Completing and cancelling viewflow human tasks from the project's own services."""
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow import lock
from viewflow.workflow.status import PROCESS, STATUS

from org.compiled import CompiledQuery


def _open_task(shape, process_id):
    """The open task of a node in a process. Without the task class's joins (workflows.models.CaseTask's,
    for viewflow's pages): the caller holds the process already."""
    flow_class, node_name = shape
    return (
        flow_class.task_class.objects.select_related(None)
        .filter(process_id=process_id, flow_task=getattr(flow_class, node_name), status__in=[STATUS.NEW, STATUS.ASSIGNED])
        .order_by("pk")[:1]
    )


# Compiled once per node (org.compiled): building it cost more CPU than the database spends on it.
_OPEN_TASK = CompiledQuery(_open_task, "process_id")


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
        activation.execute()
        return
    node = getattr(flow_class, node_name)
    # lock_scope still runs viewflow's after-lock callbacks when the scope ends.
    scope = lock.lock_scope(_already_locked, flow_class, process.pk) if process_locked else flow_class.lock(process.pk)
    with scope:
        task = next(iter(_OPEN_TASK.objects(shape=(flow_class, node_name), process_id=process.pk)), None)
        if task is None:
            raise ValidationError(_("This step has already been done."), code="out_of_order")
        # The process as the caller holds it (the step skeleton's, with its record cached): viewflow's
        # activation and the next task's permission read it from here instead of the database.
        task.process = process
        act = node.activation_class(task)
        # Taken by the user (from the queue, or from a colleague who took it in viewflow's queue: the
        # service acts for the service as a whole) in memory: the one save of its completion writes
        # the owner with the rest, as viewflow's assign would have saved it first.
        task.owner = user
        task.status = STATUS.ASSIGNED
        act.start(None)
        act.execute()


def process_cancel(flow_class, process):
    """Cancel every open human task of ``process`` and mark the process cancelled."""
    with flow_class.lock(process.pk):
        for task in flow_class.task_class.objects.select_related(None).filter(process_id=process.pk, status__in=[STATUS.NEW, STATUS.ASSIGNED]):
            task.flow_task.activation_class(task).cancel()
        process.status = PROCESS.CANCELED
        process.finished = timezone.now()
        process.save(update_fields=["status", "finished"])
