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
  only the status and the finish time change.

Started outside a transaction (a shell, a script), the start does what viewflow's does; the nodes
after it always run inside one (viewflow asserts it). The task rows, their
links and the process's status are the same as viewflow's own nodes write (the flow tests read them).
"""
from django.db import connection
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import PROCESS


class _StartActivation(StartHandleActivation):
    @Activation.status.super()
    def execute(self):
        if not connection.in_atomic_block:
            return super().execute.original()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.process.save()
        self.complete()
        flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.activate_next()


class StartHandle(flow.StartHandle):
    """A process started by a service, in the transaction of its first step."""

    activation_class = _StartActivation


class _GatewayActivation(Activation):
    """A gateway's (or the end's) activation whose task is written once, when it completes: inserted
    done, then linked to the task before it. It hashes and compares by its task object: viewflow
    keeps activations in sets, and the task has no primary key until then."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        activation.previous_task = prev_activation.task
        return activation

    @Activation.status.super()
    def complete(self):
        self.task.finished = now()
        self.task.save()
        self.task.previous.add(self.previous_task)
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)

    def __eq__(self, other):
        return isinstance(other, Activation) and self.task is other.task

    def __hash__(self):
        return id(self.task)


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
        # The end's own task is not written yet (_GatewayActivation): every unfinished task is another's.
        open_tasks = self.flow_class.task_class._default_manager.filter(process=self.process, finished__isnull=True).exists()
        if not open_tasks:
            self.process.status = PROCESS.DONE
            self.process.finished = now()
            self.process.save(update_fields=["status", "finished"])
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
        if not open_tasks:
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class End(flow.End):
    activation_class = _EndActivation

