"""BrukerPlan: one round of mapping, from its opening to its close (domain P5).

The diagram only; the writes are workflows/brukerplan/services.py. Module path and node names are
stored in the database: renaming them needs a data migration.

One process per round, with no human task. The work of a round is many small, unordered writes by
many services (marking who is in scope, mapping each person, marking the service's mapping done),
each of which may be changed again until the round closes; none waits on another. viewflow's open
edition has no node that holds one task per participating service and person inside one process
(no multi-instance tasks, no Subprocess), and a task per person (tens of thousands) would flood the
queues for what a worklist shows better. So the worklists, the completion counts and the reminders
(deadline policy rows, workflows/brukerplan/clocks.py) carry the work, and the process marks the
round's two events: ``round_open`` starts it (``start``), and ``round_close`` completes ``collect``
(a ``Handle``: a task done by code, never in a person's queue), which ends it. The report is computed
after the close's commit by a Celery task, outside the flow (workflows/brukerplan/tasks.py).
"""
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from org.access import is_active_member
from workflows.flows import nodes
from workflows.models import BrukerPlanProcess, CaseTask


class BrukerPlanFlow(flow.Flow):
    process_class = BrukerPlanProcess
    task_class = CaseTask
    process_title = _("BrukerPlan round")
    process_description = _("A BrukerPlan round: the participating services map their users, and the round closes with a de-identified report.")
    process_summary_template = _("BrukerPlan round {{ process.round.reference }}")
    lock_impl = lock.select_for_update_lock

    # Coordinator: opens the round (round_open starts the process).
    start = nodes.StartHandle(this.start_process).Annotation(title=_("Round opened")).Next(this.collect)

    # Participating services: map their worklists until the coordinator closes the round (round_close completes it).
    collect = nodes.Handle().Annotation(title=_("Services map their users")).Next(this.end)

    end = nodes.End()

    def start_process(self, activation, round):
        activation.process.round = round
        return activation.process

    def has_view_permission(self, user, obj=None):
        return is_active_member(user)  # read once per request
