"""The individual plan's clocks (issue 9, point 6): its deadlines, their reminders and escalations.

Four clocks, each timed by its policy row of process "individual_plan" (workflows.DeadlinePolicy,
seeded by workflows/migrations/0015, edited in the admin), each a ``workflows.Deadline`` row:

* ``offer_answer``: on the offer, owed by the offering service, counted from the offer; met when the
  answer is recorded, else its leaders are escalated to.
* ``handover``: on the hand-over, owed by the receiving service, counted from the proposal; met by
  its answer (the flow's step, ``services.DECIDE``, which also keeps the hand-over's
  ``next_deadline_at``), cancelled when the hand-over ends otherwise (cancelled, superseded, its
  receiver removed, the plan paused); escalated to both services' leaders.
* ``measure_evaluation``: on each measure, owed by its responsible service, counted from the start
  of its evaluation day; reminded ahead to the service's staff, escalated to its leaders once the day
  has passed. Met when the measure is completed, cancelled when it is stopped; a new evaluation date
  or responsible service moves it.
* ``revision``: on the plan, owed by the holder of the main responsibility, counted from the start
  of the revision day; a new revision date moves it. The obligation follows the main
  responsibility: accepting a hand-over re-keys it to the new holder (the old holder's unsent
  reminders are cancelled, the new holder's scheduled), so a reminder reaches the holder of the day.

Pausing a plan (its consent withdrawn) cancels its revision and evaluation clocks and its open
hand-overs' (with the hand-overs); resuming it on a new consent starts them again.

A subject has one row per policy (``uniq_deadline_per_subject``), so a clock that moves, or starts
again, keeps its row: reset to the new start, due time and service, open again, its unsent
reminders cancelled and the new ones scheduled. A reminder's key carries the deadline, its due time,
its kind and its service: the same clock set again to the same time and service revives its
cancelled reminders and never repeats one already delivered.

The reminders of the plan's clocks are about the plan (their subject: the plan; their permission:
the participant's), whatever the deadline is on, so the sweep re-checks at delivery that the
recipient's service still holds the participant's permission on the plan and (the registry's
``delivery_gate``, selectors.plan_delivery_gate) that it still takes part in the active plan with
the consent in force for it. The offer's are about the offer, which its service holds as owner.
Their texts name the reference only (the plan's, the offer's), never the person.

The Deadline rows are what the record pages list (``deadlines.open_deadlines``): the plan's page
reads all of a plan's at once (``selectors.plan_open_deadlines``).
"""
import datetime

from django.urls import reverse
from django.utils import timezone

from notifications.models import Reminder
from notifications.services import reminders_restore
from org import permissions
from referrals.models import IndividualPlan, PlanHandOver, PlanMeasure, PlanOffer
from workflows.models import Deadline
from workflows.services import deadlines

PROCESS = "individual_plan"
OFFER, HANDOVER, EVALUATION, REVISION = "offer_answer", "handover", "measure_evaluation", "revision"
PARTICIPANT_PERM = permissions.INDIVIDUAL_PLAN_PARTICIPANT
OFFER_PERM = permissions.INDIVIDUAL_PLAN_OFFER
# A measure still to be evaluated; a completed one meets its clock, a stopped one cancels it.
MEASURE_OPEN = (PlanMeasure.Status.PLANNED, PlanMeasure.Status.ONGOING)


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day``, local time: the evaluation and revision clocks count from it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _plan_url(plan) -> str:
    return reverse("individual_plans:detail", args=[plan.code])


def _clock_set(subject, step: str, *, starts_at, service, about, perm: str, url: str, reference: str, also_escalate=None) -> Deadline:
    """Open ``step``'s clock on ``subject`` (or reset the one it has: open again, counted from
    ``starts_at``, owed by ``service``) with its reminders about ``about`` under ``perm``."""
    deadline = deadlines.deadline_for(subject, step, process=PROCESS)
    if deadline is None:
        opened, _rows = deadlines.deadlines_open([dict(
            subject=subject, process=PROCESS, step=step, starts_at=starts_at, responsible_service=service, required_perm=perm,
            url=url, reference=reference,
        )])
        deadline = opened[0]
    else:
        deadlines.deadline_cancel(subject=subject, process=PROCESS, step=step)  # its unsent reminders
        deadline.starts_at, deadline.due_at, deadline.responsible_service = starts_at, deadline.policy.due_from(starts_at), service
        deadline.met_at = deadline.cancelled_at = None
        deadline.save(update_fields=["starts_at", "due_at", "responsible_service", "met_at", "cancelled_at"])
    rows = deadlines.deadline_reminder_rows(deadline, subject=about, required_perm=perm, url=url, reference=reference,
                                            also_escalate=also_escalate)
    _schedule(rows)
    return deadline


def _schedule(rows: list[Reminder]) -> None:
    """Schedule ``rows``, each keyed by its service too: a key already stored is kept, and revived if
    it was cancelled before it was sent (the same clock set again); a sent one is never repeated."""
    for row in rows:
        row.key = f"{row.key}:{row.service_id}"
    reminders_restore(rows)


# --- the offer ---------------------------------------------------------------------------------------


def offer_clock_open(offer: PlanOffer) -> Deadline:
    """The offer's answer is owed by the offering service from the offer (its day, at the time it is
    registered: an offer registered today counts from now)."""
    now = timezone.localtime()
    starts_at = timezone.make_aware(datetime.datetime.combine(offer.offered_on, now.time().replace(tzinfo=None)))
    return _clock_set(offer, OFFER, starts_at=min(starts_at, now), service=offer.offered_by_service, about=offer, perm=OFFER_PERM,
                      url=reverse("individual_plans:index"), reference=offer.reference)


def offer_clock_met(offer: PlanOffer) -> None:
    deadlines.deadline_meet(subject=offer, process=PROCESS, step=OFFER)


# --- the hand-over -----------------------------------------------------------------------------------


def handover_clock_open(plan: IndividualPlan, handover: PlanHandOver, *, url: str) -> Deadline:
    """The receiving service owes its answer from now; its staff are reminded, and when it is late
    its leaders and the proposing service's leaders are told (the policy's "both leaders"). The
    hand-over's ``next_deadline_at`` is refreshed (what its lists sort on)."""
    deadline = _clock_set(handover, HANDOVER, starts_at=timezone.now(), service=handover.to_service, about=plan, perm=PARTICIPANT_PERM,
                          url=url, reference=plan.reference, also_escalate=(handover.from_service, PARTICIPANT_PERM))
    deadlines.next_deadline_refresh(handover)
    return deadline


def handover_clocks_cancel(handover_ids) -> None:
    """Cancel the clocks (and unsent reminders) of the hand-overs ``handover_ids``, which ended
    otherwise than by their answer; their ``next_deadline_at`` is left to the caller's update."""
    for pk in handover_ids:
        deadlines.deadline_cancel(subject=PlanHandOver(pk=pk), process=PROCESS, step=HANDOVER)


# --- the measures and the revision -------------------------------------------------------------------


def measure_clock_set(plan: IndividualPlan, measure: PlanMeasure) -> None:
    """Set the measure's evaluation clock from its status, evaluation date and responsible service:
    running for a measure still to be evaluated in an active plan, met for a completed one,
    cancelled for a stopped one (or in a plan not active)."""
    if measure.status == PlanMeasure.Status.COMPLETED:
        deadlines.deadline_meet(subject=measure, process=PROCESS, step=EVALUATION)
    elif measure.status not in MEASURE_OPEN or plan.status != IndividualPlan.Status.ACTIVE:
        deadlines.deadline_cancel(subject=measure, process=PROCESS, step=EVALUATION)
    else:
        _clock_set(measure, EVALUATION, starts_at=_day_start(measure.evaluate_on), service=measure.responsible_service, about=plan,
                   perm=PARTICIPANT_PERM, url=_plan_url(plan), reference=plan.reference)


def revision_clock_set(plan: IndividualPlan, holder_service) -> Deadline:
    """The plan's revision is owed by ``holder_service`` (the holder now) by the end of its revision day."""
    return _clock_set(plan, REVISION, starts_at=_day_start(plan.revision_due_on), service=holder_service, about=plan, perm=PARTICIPANT_PERM,
                      url=_plan_url(plan), reference=plan.reference)


def plan_clocks_stop(plan: IndividualPlan) -> None:
    """A plan paused: its revision and evaluation clocks are cancelled, with their unsent reminders."""
    deadlines.deadline_cancel(subject=plan, process=PROCESS, step=REVISION)
    for measure in PlanMeasure.objects.filter(plan=plan, status__in=MEASURE_OPEN).only("pk"):
        deadlines.deadline_cancel(subject=measure, process=PROCESS, step=EVALUATION)


def plan_clocks_start(plan: IndividualPlan, holder_service) -> None:
    """A plan active again: its revision clock and every open measure's evaluation clock run again."""
    revision_clock_set(plan, holder_service)
    for measure in PlanMeasure.objects.filter(plan=plan, status__in=MEASURE_OPEN).select_related("responsible_service"):
        measure_clock_set(plan, measure)
