"""The BrukerPlan round's clocks: each timed by its policy row of process "brukerplan"
(workflows.DeadlinePolicy, seeded by workflows/migrations/0017, edited in the admin), each a
``workflows.Deadline`` row with its reminder and escalation rows (workflows.services.deadlines).

* ``mapping``: on each participating service's row (``BrukerPlanParticipation``), owed by that
  service, counted from the start of the round's deadline day (the policy's duration, one day,
  makes it due at the day's end). Opened when the round opens. Its staff are reminded ahead (the
  policy's hours before) while the service has not marked its mapping done; at the deadline its
  leaders and the coordinating service's leaders are told (the policy's "both leaders"). Met when
  the service marks its mapping done (its unsent reminders cancelled: a service on schedule is
  never reminded), cancelled when the round closes.
* ``children_follow_up``: on a mapping that says the person cares for children under 18, owed by
  the mapping service from the mapping: follow the children up as next of kin (domain P5: "flag
  children of the user for follow-up"). Met by ``services.children_follow_up_done``; cancelled if a
  later save says there are no children.

The reminders of ``mapping`` are about the participation row: the participating service's group
holds ``map`` on it and the coordinator's group ``follow`` (granted when the round opens), which
the sweep re-checks at delivery. Those of ``children_follow_up`` are about the mapping, whose
service holds ``handle`` on it as owner. Their texts name the round's or the mapping's reference
only, never the person.
"""
import datetime

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from notifications.services import reminders_schedule
from org import permissions
from referrals.models import BrukerPlanMapping, BrukerPlanParticipation
from workflows.services import deadlines

PROCESS = "brukerplan"
MAPPING, CHILDREN = "mapping", "children_follow_up"
MAP_PERM = permissions.BRUKERPLAN_MAPPER
FOLLOW_PERM = permissions.BRUKERPLAN_FOLLOWER
MAPPING_PERM = permissions.BRUKERPLAN_MAPPING


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _url(name: str, code) -> str:
    # The pages come with the round's page module; until a page exists the notice links nowhere.
    try:
        return reverse(name, args=[code])
    except NoReverseMatch:
        return ""


def mapping_clocks_open(participations: list[BrukerPlanParticipation]) -> None:
    """Open the ``mapping`` clock of every participating service of an opening round, in one INSERT
    with its reminder rows (their policy read once)."""
    if not participations:
        return
    round_ = participations[0].round
    policy = deadlines.policy_get(PROCESS, MAPPING)
    coordinator = round_.coordinator_service
    opened, rows = deadlines.deadlines_open([dict(
        subject=p, process=PROCESS, step=MAPPING, starts_at=_day_start(round_.deadline), responsible_service=p.service,
        required_perm=MAP_PERM, url=_url("brukerplan:round", round_.code), reference=round_.reference,
        also_escalate=(coordinator, FOLLOW_PERM), policy=policy,
    ) for p in participations])
    reminders_schedule(rows)


def mapping_reminded_from(round_) -> datetime.datetime:
    """When the ``mapping`` clock starts reminding the services of ``round_``: its policy's hours
    before its due time, counted as mapping_clocks_open counts it (the due time itself without
    them; a day after the deadline day's start without a policy row). The round page's "behind
    schedule" is this rule, so it says what the reminders say."""
    policy = deadlines.policies_get(PROCESS, [MAPPING]).get(MAPPING)
    start = _day_start(round_.deadline)
    if policy is None:
        return start + datetime.timedelta(days=1)
    return policy.due_from(start) - datetime.timedelta(hours=policy.remind_before_hours or 0)


def mapping_clock_met(participation: BrukerPlanParticipation) -> None:
    deadlines.deadline_meet(subject=participation, process=PROCESS, step=MAPPING)


def mapping_clock_cancel(participation: BrukerPlanParticipation) -> None:
    deadlines.deadline_cancel(subject=participation, process=PROCESS, step=MAPPING)


def children_clock_open(mapping: BrukerPlanMapping) -> None:
    """The mapping service owes a follow-up of the person's children from now; a clock already
    running (the mapping saved again) is kept as it is."""
    deadline = deadlines.deadline_for(mapping, CHILDREN, process=PROCESS)
    if deadline is not None:
        # Met stays met; a clock cancelled by an earlier "no children" runs again from now.
        if deadline.is_open or deadline.met_at is not None:
            return
        deadline.starts_at = timezone.now()
        deadline.due_at, deadline.cancelled_at = deadline.policy.due_from(deadline.starts_at), None
        deadline.save(update_fields=["starts_at", "due_at", "cancelled_at"])
        reminders_schedule(deadlines.deadline_reminder_rows(
            deadline, subject=mapping, required_perm=MAPPING_PERM, url=_url("brukerplan:mapping", mapping.code), reference=mapping.reference))
        return
    deadlines.deadline_open(subject=mapping, process=PROCESS, step=CHILDREN, starts_at=timezone.now(), responsible_service=mapping.service,
                            required_perm=MAPPING_PERM, url=_url("brukerplan:mapping", mapping.code), reference=mapping.reference)


def children_clock(mapping: BrukerPlanMapping):
    """The mapping's children's follow-up clock (a workflows.Deadline), or None."""
    return deadlines.deadline_for(mapping, CHILDREN, process=PROCESS)


def children_clock_met(mapping: BrukerPlanMapping):
    return deadlines.deadline_meet(subject=mapping, process=PROCESS, step=CHILDREN)


def children_clock_cancel(mapping: BrukerPlanMapping) -> None:
    deadlines.deadline_cancel(subject=mapping, process=PROCESS, step=CHILDREN)
