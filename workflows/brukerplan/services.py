"""BrukerPlan rounds: every write (domain P5, issue 10).

The rules:
* the coordinating service sets a round up (``round_create``: period, reference date inside it,
  deadline after it, age threshold 16 or 18, participating services, the scales copied from the
  defaults or given), opens it (``round_open``: each participating service's deadline and reminders
  from the policy rows, and the round's process) and closes it (``round_close``: mappings frozen, the
  report computed after the commit by a Celery task);
* each participating service marks who on its worklist is in scope (``mapping_scope_mark``) and maps
  them (``mapping_save``: every level on the round's scale, the person still on the service's
  worklist, the form not stale), then marks its mapping done (``service_complete``: its reminders
  are cancelled);
* a mapping saying the person cares for children under 18 starts a follow-up obligation for the
  mapping service (clocks.CHILDREN), met by ``children_follow_up_done``.

Writes lock the round's row first (``STEPS.lock``: its process first, as viewflow locks it), then their own rows: a close waits for a
mapping being saved and the mapping then finds the round closed, never the other way round.
Bad input raises a translated ValidationError before anything is written. Every write of a
person's data goes to the access log; the round itself holds no person.
"""
import datetime
import logging
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import access_log_write
from org import permissions
from org.access import require_member
from org.models import Membership, Service
from people.models import Person
from referrals.models import (
    BrukerPlanMapping, BrukerPlanParticipation, BrukerPlanReport, BrukerPlanRound, BrukerPlanScaleLevel, HelpKind, LifeArea, help_kinds_encode, level_field,
)
from workflows import steps
from workflows.brukerplan import clocks, selectors
from workflows.brukerplan.report import MappingRow, report_compute

logger = logging.getLogger(__name__)

PROCESS = "brukerplan"
# The BrukerPlan coordinator (issue 10) sets a round up, opens and closes it and recomputes its
# report: a leader of the coordinating service, not any of its staff.
LEADER = Membership.Role.LEADER
R = BrukerPlanRound.Status
M = BrukerPlanMapping.Status
LEVEL_FIELDS = tuple(level_field(area) for area in LifeArea.values)
MAPPING_FIELDS = ("sex", "age", "has_children", *LEVEL_FIELDS, "services_used", "expected_need", "lar", "tsb", "ansvarsgruppe",
                  "individual_plan", "plan_from_record")


# The round through the step skeleton (workflows.steps): its lock (the round's process first, as
# viewflow's lock, then the round's row) and its status refusal. A round has no human task (the
# flow's one wait is code-completed at the close), so no step is declared; the mapping's own
# freshness rule is _mapping_require_current (a mapping may not exist yet: the skeleton's
# require_fresh checks a locked row of this model).
STEPS = steps.Steps(
    process=PROCESS, model=BrukerPlanRound, related=("coordinator_service",), url="brukerplan:round",
    roles={"coordinator_service": "coordinator"},
    out_of_order=gettext_lazy("The round is “%(status)s”: this cannot be done now."),
)


def _flow():
    from workflows.processes import process_named

    return process_named(PROCESS).flow_class()


def _errors():
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add




def case_owner(round_: BrukerPlanRound) -> Service:
    """The service that holds the round: its coordinating service."""
    return round_.coordinator_service


# --- set-up ------------------------------------------------------------------------------------------


def _scale_problems(scales: dict, add) -> None:
    """``scales``: {life area: [(level, colour, description), …]}. Every life area needs at least two
    levels, numbered from 1 without gaps, each with a colour and a description."""
    colours = set(BrukerPlanScaleLevel.Colour.values)
    for area in scales:
        if area not in LifeArea.values:
            add("scales", _("“%(area)s” is no life area.") % {"area": area})
    for area in LifeArea.values:
        levels = scales.get(area) or []
        numbers = sorted(level for level, _colour, _text in levels)
        if len(levels) < 2 or numbers != list(range(1, len(levels) + 1)):
            add("scales", _("The scale of %(area)s needs at least two levels, numbered 1, 2, 3 …") % {"area": LifeArea(area).label})
        elif any(colour not in colours or not (text or "").strip() for _level, colour, text in levels):
            add("scales", _("Every level of %(area)s needs a colour (green, yellow, red) and a description.") % {"area": LifeArea(area).label})


@transaction.atomic
def round_create(*, user, coordinator_service: Service, title: str, period_start: datetime.date, period_end: datetime.date,
                 reference_date: datetime.date, deadline: datetime.date, age_threshold: int = 16, services=(),
                 scales: dict | None = None, previous_round: BrukerPlanRound | None = None) -> BrukerPlanRound:
    """Set a round up (status draft) by a leader of ``coordinator_service``: the mapping period, the
    reference date (inside the period), the deadline (after the reference date), the age threshold
    (16 or 18), the participating ``services`` (active, of the coordinator's municipality) and the
    scales: ``scales`` ({life area: [(level, colour, description), …]}) or, without it, a copy of the
    default scales (BrukerPlanScaleLevel rows without a round). ``previous_round``: the closed round
    of the municipality the report compares with. Nothing is saved on any refusal."""
    require_member(user, coordinator_service, _("Only a leader of the coordinating service can set a round up."), role=LEADER)
    errors, add = _errors()
    services = list(dict.fromkeys(services))
    if not (title or "").strip():
        add("title", _("Give the round a title."))
    if period_start is None or period_end is None or period_end < period_start:
        add("period_end", _("The mapping period must end on or after the day it starts."))
    elif reference_date is None or not (period_start <= reference_date <= period_end):
        add("reference_date", _("The reference date must lie inside the mapping period."))
    if deadline is None or reference_date is None or deadline <= reference_date:
        add("deadline", _("The deadline must come after the reference date."))
    if age_threshold not in BrukerPlanRound.AgeThreshold.values:
        add("age_threshold", _("The age threshold is 16 or 18 years."))
    if not services:
        add("services", _("Choose at least one participating service."))
    elif any(not s.active or s.municipality_id != coordinator_service.municipality_id for s in services):
        add("services", _("The participating services must be active services of the municipality."))
    if previous_round is not None and (previous_round.municipality_id != coordinator_service.municipality_id
                                       or previous_round.status != R.CLOSED):
        add("previous_round", _("Compare with a closed round of the same municipality."))
    if scales is None:
        scales = {area: [(row.level, row.colour, row.description) for row in rows] for area, rows in selectors.default_scales().items()}
        if set(scales) != set(LifeArea.values):
            add("scales", _("No default scales are configured for every life area. Ask the administrator to add them."))
    if "scales" not in errors:
        _scale_problems(scales, add)
    if errors:
        raise ValidationError(errors)
    round_ = BrukerPlanRound.objects.create(
        municipality=coordinator_service.municipality, title=title.strip(), coordinator_service=coordinator_service, period_start=period_start,
        period_end=period_end, reference_date=reference_date, deadline=deadline, age_threshold=age_threshold, previous_round=previous_round,
        created_by=user,
    )
    BrukerPlanParticipation.objects.bulk_create([BrukerPlanParticipation(round=round_, service=s) for s in services])
    BrukerPlanScaleLevel.objects.bulk_create([
        BrukerPlanScaleLevel(round=round_, area=area, level=level, colour=colour, description=text.strip())
        for area, levels in scales.items() for level, colour, text in levels
    ])
    return round_


@transaction.atomic
def round_open(*, user, round: BrukerPlanRound) -> BrukerPlanRound:
    """Open a draft round for mapping, by a leader of the coordinating service: each participating service's
    group may map (``map`` on its participation row) and the coordinator's group follows each
    (``follow``: counts only); each service's ``mapping`` clock starts from the policy row (reminders
    before the deadline, escalation at it to the service's and the coordinator's leaders); the
    round's process starts. Refused once the deadline has passed."""
    round_ = STEPS.lock(round)
    require_member(user, round_.coordinator_service, _("Only a leader of the coordinating service can open the round."), role=LEADER)
    STEPS.require_status(round_, R.DRAFT)
    if round_.deadline <= timezone.localdate():
        raise ValidationError({"deadline": _("The deadline has passed: set a later deadline before opening the round.")})
    participations = list(BrukerPlanParticipation.objects.filter(round=round_).select_related("service", "round__coordinator_service"))
    if not participations:
        raise ValidationError({"services": _("Choose at least one participating service.")})
    round_.status, round_.opened_at = R.OPEN, timezone.now()
    round_.save(update_fields=["status", "opened_at"])
    for p in participations:
        p.round = round_
        permissions.grant_to_service(perm=permissions.BRUKERPLAN_MAPPER, obj=p, service=p.service)
        permissions.grant_to_service(perm=permissions.BRUKERPLAN_FOLLOWER, obj=p, service=round_.coordinator_service)
    clocks.mapping_clocks_open(participations)
    _flow().start.run(round=round_)
    return round_


@transaction.atomic
def round_close(*, user, round: BrukerPlanRound) -> BrukerPlanRound:
    """Close an open round, by a leader of the coordinating service: its mappings are frozen (every mapping write
    refuses a round that is not open), the services' open ``mapping`` clocks and their reminders are
    cancelled, the round's process ends, and after the commit the report is computed by a Celery
    task (tasks.round_report_compute). A person marked in scope but not mapped is not in the report."""
    round_ = STEPS.lock(round)
    require_member(user, round_.coordinator_service, _("Only a leader of the coordinating service can close the round."), role=LEADER)
    STEPS.require_status(round_, R.OPEN)
    round_.status, round_.closed_at, round_.closed_by = R.CLOSED, timezone.now(), user
    round_.save(update_fields=["status", "closed_at", "closed_by"])
    for p in BrukerPlanParticipation.objects.filter(round=round_, completed_at__isnull=True).only("pk"):
        clocks.mapping_clock_cancel(p)
    _process_end(round_)
    round_id = round_.pk
    transaction.on_commit(lambda: _report_enqueue(round_id))
    return round_


def _process_end(round_: BrukerPlanRound) -> None:
    """Complete the round's ``collect`` task (a Handle: done by code), which ends its process."""
    from viewflow.workflow.status import STATUS

    flow_class = _flow()
    task = flow_class.task_class.objects.filter(process__brukerplanprocess__round=round_, flow_task=flow_class.collect,
                                                status=STATUS.NEW).first()
    if task is not None:
        flow_class.collect.run(task)


def _report_enqueue(round_id: int) -> None:
    from workflows.brukerplan.tasks import round_report_compute

    round_report_compute.delay(round_id)


# --- mapping -----------------------------------------------------------------------------------------


def _participation(round_: BrukerPlanRound, service: Service) -> BrukerPlanParticipation:
    participation = BrukerPlanParticipation.objects.filter(round=round_, service=service).first()
    if participation is None:
        raise ValidationError(_("Your service does not take part in this round."), code="not_participating")
    return participation


def _mapping_require_current(mapping: BrukerPlanMapping | None, version) -> None:
    """Refuse a form made from another state than the stored one: ``version`` is the mapping's
    version the form showed, 0 when it showed no mapping (``mapping`` None: none is stored; a saved
    mapping's version is 1 or more). A missing version (None, "") is refused too: the form's state
    is unknown, and a write from it could undo a colleague's."""
    stored = mapping.version if mapping is not None else 0
    if str(version if version is not None else "").strip() != str(stored):
        raise ValidationError(_("Someone else changed this mapping while you had it open. Reload the page and try again."), code="stale")


def _mapping_clear(mapping: BrukerPlanMapping) -> None:
    for field in MAPPING_FIELDS:
        setattr(mapping, field, mapping._meta.get_field(field).get_default())
    mapping.mapped_at = mapping.mapped_by = None


@transaction.atomic
def mapping_scope_mark(*, user, round: BrukerPlanRound, service: Service, person_code, in_scope: bool, reason: str = "",
                       version: int | str = 0) -> BrukerPlanMapping:
    """Mark whether the person with ``person_code`` on ``service``'s worklist is in scope (a substance
    and/or mental-health problem: ``reason``, a ScopeReason) or not, by a member of ``service``, while
    the round is open. A person not on the worklist (or a forged code) is refused. Marking a mapped
    person out of scope clears the mapping (and cancels a children's follow-up still open); marking
    in scope again keeps a mapping made. ``version``: the mapping's version the form showed, 0 (the
    default) when it showed none; a form from another state is refused (code "stale"), nothing
    changed, so a worker's page from before a colleague's mapping cannot wipe it."""
    round_ = STEPS.lock(round)
    require_member(user, service, _("You are not a member of this service."))
    STEPS.require_status(round_, R.OPEN)
    _participation(round_, service)
    person = selectors.cohort_person(round_, service, person_code)
    if in_scope and reason not in BrukerPlanMapping.ScopeReason.values:
        raise ValidationError({"reason": _("Say whether the problem is substance use, mental health, or both.")})
    now = timezone.now()
    mapping = BrukerPlanMapping.objects.select_for_update(of=("self",)).filter(round=round_, service=service, person=person).first()
    _mapping_require_current(mapping, version)
    if mapping is None:
        mapping = BrukerPlanMapping(round=round_, service=service, person=person, marked_at=now, marked_by=user, version=0)
    mapping.marked_at, mapping.marked_by = now, user
    if in_scope:
        mapping.scope_reason = reason
        if mapping.status != M.MAPPED:
            mapping.status = M.IN_SCOPE
    else:
        if mapping.pk is not None and mapping.has_children:
            clocks.children_clock_cancel(mapping)
        mapping.status, mapping.scope_reason = M.OUT_OF_SCOPE, ""
        _mapping_clear(mapping)
    mapping.version += 1
    created = mapping.pk is None
    if created:
        mapping.save(force_insert=True)
        permissions.grant_to_service(perm=permissions.BRUKERPLAN_MAPPING, obj=mapping, service=service)  # as its owner
    else:
        mapping.save(update_fields=[*MAPPING_FIELDS, "status", "scope_reason", "marked_at", "marked_by", "mapped_at", "mapped_by", "version"])
    access_log_write(user=user, action="create" if created else "update", obj=mapping, person=person, purpose="brukerplan scope marked",
                     service=service)
    return mapping


def _mapping_problems(round_, mapping, values: dict, add) -> None:
    if values["sex"] not in BrukerPlanMapping.Sex.values:
        add("sex", _("Choose the person's sex."))
    if values["has_children"] not in (True, False):
        add("has_children", _("Say whether the person cares for children under 18."))
    allowed = {area: {level.level for level in levels} for area, levels in selectors.round_scales(round_).items()}
    levels = values["levels"] or {}
    for area in levels:
        if area not in LifeArea.values:
            add("levels", _("“%(area)s” is no life area.") % {"area": area})
    for area in LifeArea.values:
        level = levels.get(area)
        if level in (None, ""):
            add(level_field(area), _("Choose a level for %(area)s.") % {"area": LifeArea(area).label})
            continue
        try:
            level = int(level)
        except (TypeError, ValueError):
            level = None
        if level not in allowed.get(area, ()):
            add(level_field(area), _("%(level)s is not a level of the round's scale for %(area)s.") % {"level": levels.get(area),
                                                                                                    "area": LifeArea(area).label})
    for field in ("services_used", "expected_need"):
        if any(kind not in HelpKind.values for kind in values[field]):
            add(field, _("Choose among the listed services."))
    for field, message in (("lar", _("Say whether the person is in opioid substitution treatment (LAR).")),
                           ("tsb", _("Say whether the person is in specialist substance treatment (TSB)."))):
        if values[field] not in (True, False):
            add(field, message)
    for field in ("ansvarsgruppe", "individual_plan"):
        if values[field] not in BrukerPlanMapping.Answer.values:
            add(field, _("Answer yes, no or not known."))


@transaction.atomic
def mapping_save(*, user, mapping: BrukerPlanMapping, version, sex: str, has_children: bool, levels: dict, services_used=(),
                 expected_need=(), lar: bool | None = None, tsb: bool | None = None, ansvarsgruppe: str = "",
                 individual_plan: str = "") -> BrukerPlanMapping:
    """Map a person marked in scope, by a member of the mapping service, while the round is open:
    ``sex``, ``has_children`` (cares for children under 18), ``levels`` ({life area: level} for every
    LifeArea, each a level of the round's scale), ``services_used``/``expected_need`` (HelpKind
    values), ``lar``, ``tsb``, ``ansvarsgruppe`` and ``individual_plan`` (Answer values). The age is
    the person's on the reference date. Where the service takes part in an active individual plan
    of the person (selectors.plan_status_for), the plan and ansvarsgruppe answers are read from it.
    Refused, nothing saved: a stale form (``version``), a person no longer on the worklist, a
    person not marked in scope, any value outside its choices or the scale. With children, the
    children's follow-up clock starts (kept if it runs already); without, it is cancelled."""
    locked = BrukerPlanMapping.objects.filter(pk=mapping.pk).values_list("round_id", flat=True).first()
    if locked is None:
        raise ValidationError(_("This mapping does not exist."), code="missing")
    round_ = STEPS.lock(BrukerPlanRound(pk=locked))
    mapping = BrukerPlanMapping.objects.select_for_update(of=("self",)).select_related("service", "person").get(pk=mapping.pk)
    require_member(user, mapping.service, _("Only the mapping service can change this mapping."))
    STEPS.require_status(round_, R.OPEN)
    _mapping_require_current(mapping, version)
    if mapping.status == M.OUT_OF_SCOPE:
        raise ValidationError(_("Mark the person as in scope before mapping them."), code="out_of_order")
    if not selectors.cohort_for_service(round_, mapping.service).filter(pk=mapping.person_id).exists():
        raise ValidationError({"person": _("This person is not on your service's list for this round.")}, code="not_in_cohort")
    plan = selectors.plan_status_for(mapping.service, mapping.person)
    if plan is not None:
        ansvarsgruppe, individual_plan = plan["ansvarsgruppe"], plan["individual_plan"]
    values = dict(sex=sex, has_children=has_children, levels=levels, services_used=list(services_used or ()),
                  expected_need=list(expected_need or ()), lar=lar, tsb=tsb, ansvarsgruppe=ansvarsgruppe, individual_plan=individual_plan)
    errors, add = _errors()
    _mapping_problems(round_, mapping, values, add)
    if errors:
        raise ValidationError(errors)
    had_children = mapping.has_children
    mapping.sex, mapping.has_children, mapping.lar, mapping.tsb = sex, has_children, lar, tsb
    mapping.age = mapping.person.age_on(round_.reference_date)
    for area in LifeArea.values:
        setattr(mapping, level_field(area), int(levels[area]))
    mapping.services_used, mapping.expected_need = help_kinds_encode(values["services_used"]), help_kinds_encode(values["expected_need"])
    mapping.ansvarsgruppe, mapping.individual_plan, mapping.plan_from_record = ansvarsgruppe, individual_plan, plan is not None
    mapping.status, mapping.mapped_at, mapping.mapped_by = M.MAPPED, timezone.now(), user
    mapping.version += 1
    mapping.save(update_fields=[*MAPPING_FIELDS, "status", "mapped_at", "mapped_by", "version"])
    if has_children:
        clocks.children_clock_open(mapping)
    elif had_children:
        clocks.children_clock_cancel(mapping)
    access_log_write(user=user, action="update", obj=mapping, person=mapping.person, purpose="brukerplan mapping saved",
                     service=mapping.service)
    return mapping


@transaction.atomic
def children_follow_up_done(*, user, mapping: BrukerPlanMapping) -> BrukerPlanMapping:
    """The mapping service has followed the person's children up as next of kin: its follow-up clock
    is met (its reminders cancelled). Refused when no follow-up is open."""
    mapping = BrukerPlanMapping.objects.select_for_update(of=("self",)).select_related("service", "person").get(pk=mapping.pk)
    require_member(user, mapping.service, _("Only the mapping service can change this mapping."))
    deadline = clocks.children_clock(mapping)
    if deadline is None or not deadline.is_open:
        raise ValidationError(_("No follow-up of the person's children is open."), code="out_of_order")
    clocks.children_clock_met(mapping)
    access_log_write(user=user, action="update", obj=mapping, person=mapping.person, purpose="brukerplan children followed up",
                     service=mapping.service)
    return mapping


@transaction.atomic
def service_complete(*, user, round: BrukerPlanRound, service: Service) -> BrukerPlanParticipation:
    """``service`` marks its mapping in the open round done, by a member: its ``mapping`` clock is met
    and its unsent reminders cancelled. Refused while a person it marked in scope is not mapped, or
    when it marked its mapping done already."""
    round_ = STEPS.lock(round)
    require_member(user, service, _("You are not a member of this service."))
    STEPS.require_status(round_, R.OPEN)
    participation = BrukerPlanParticipation.objects.select_for_update(of=("self",)).filter(round=round_, service=service).first()
    if participation is None:
        raise ValidationError(_("Your service does not take part in this round."), code="not_participating")
    if participation.completed_at is not None:
        raise ValidationError(_("Your service has already marked its mapping done."), code="out_of_order")
    waiting = BrukerPlanMapping.objects.filter(round=round_, service=service, status=M.IN_SCOPE).count()
    if waiting:
        raise ValidationError(_("%(n)s persons marked in scope are not mapped yet.") % {"n": waiting}, code="unfinished")
    participation.completed_at, participation.completed_by = timezone.now(), user
    participation.save(update_fields=["completed_at", "completed_by"])
    participation.round = round_
    clocks.mapping_clock_met(participation)
    return participation


# --- the person merge --------------------------------------------------------------------------------


def mappings_merge(*, source: Person, target: Person) -> None:
    """The registry's merge hook: both records of one person mapped by one service in one round
    become one mapping (``uniq_bp_mapping``). The target's is kept, unless only the source's is
    mapped; the other is deleted with its grants and clocks. Service periods move as they are."""
    theirs = {(m.round_id, m.service_id): m for m in BrukerPlanMapping.objects.filter(person=target)}
    for mine in BrukerPlanMapping.objects.filter(person=source):
        other = theirs.get((mine.round_id, mine.service_id))
        if other is None:
            continue
        drop = other if (mine.status == M.MAPPED and other.status != M.MAPPED) else mine
        clocks.children_clock_cancel(drop)
        permissions.revoke_all_on_object(obj=drop)
        drop.delete()


# --- the report --------------------------------------------------------------------------------------
#
# A report's life: round_close enqueues the task (no row yet); the task's claim creates the row, or
# takes a pending one or one whose worker died (running with no progress for REPORT_STALE_AFTER),
# and marks it running with a new ``started_at``; the computation writes its progress, then done
# (with the figures) or failed, each write fenced on that ``started_at`` and status running, so a
# worker taken for dead that wakes up cannot overwrite a newer run. A done report is never claimed:
# a redelivered task leaves it alone; report_recompute (the coordinator) marks it pending again. The
# figures of the last done computation (``data``, ``computed_at``) stay while a new one is pending,
# running or has failed, and are served (page, CSV, PDF) until the new ones replace them. The beat's
# report_requeue_due re-enqueues what waits too long, so a lost message or a killed worker delays a
# report and never loses it.

REPORT = BrukerPlanReport.Status
# A computation that has written no progress for this long is taken for dead (its worker killed);
# a pending report not started for REPORT_PENDING_AFTER has lost its task (selectors.report_stalled).
REPORT_STALE_AFTER = selectors.REPORT_STALE_AFTER
REPORT_PENDING_AFTER = selectors.REPORT_PENDING_AFTER
# Progress is written at least every REPORT_PROGRESS_SECONDS.
REPORT_PROGRESS_SECONDS = 1.0
# The report module's life-area keys where they differ from LifeArea's values.
_REPORT_AREA = {LifeArea.ACTIVITY.value: "meaningful_activity"}
# A scale level counts in the report by its colour: green 1, yellow 2, red 3 (report.IndexRule).
_COLOUR_LEVEL = {BrukerPlanScaleLevel.Colour.GREEN: 1, BrukerPlanScaleLevel.Colour.YELLOW: 2, BrukerPlanScaleLevel.Colour.RED: 3}


def _report_running(report: BrukerPlanReport) -> bool:
    """A computation is running and alive (it has written progress lately)."""
    return report.status == REPORT.RUNNING and not selectors.report_stalled(report)


@transaction.atomic
def _report_claim(round_: BrukerPlanRound) -> BrukerPlanReport | None:
    """The round's report row, marked running with a new ``started_at`` (the fence of this run's
    writes) and its total (the number of persons mapped); or None when the round is not closed, or
    the report is not to be computed now: done (a redelivered task), failed (the coordinator
    recomputes), or running with progress lately. Claimed: no row yet, a pending one, or a running
    one gone stale. The stored figures stay."""
    round_ = STEPS.lock(round_)
    if round_.status != R.CLOSED:
        return None
    report, created = BrukerPlanReport.objects.select_for_update(of=("self",)).get_or_create(round=round_)
    claimable = created or report.status == REPORT.PENDING or (report.status == REPORT.RUNNING and not _report_running(report))
    if not claimable:
        return None
    now = timezone.now()
    report.status, report.done, report.error, report.started_at, report.progress_at = REPORT.RUNNING, 0, "", now, now
    report.total = BrukerPlanMapping.objects.filter(round=round_, status=M.MAPPED).values("person_id").distinct().count()
    report.save(update_fields=["status", "done", "total", "error", "started_at", "progress_at"])
    report.round = round_
    return report


class _Superseded(Exception):
    """This run's claim is no longer the report's: another run took it over (or it was asked for again)."""


def _report_rows(round_: BrukerPlanRound):
    """selectors.mappings_for_report's rows as report.MappingRow: each level by its colour on the
    round's scale (green 1, yellow 2, red 3), a missing sex as "other or unknown", an ansvarsgruppe
    or a plan counted only when the answer is yes ("not known" counts with "no")."""
    colour = {(area, level.level): _COLOUR_LEVEL[level.colour] for area, levels in selectors.round_scales(round_).items() for level in levels}
    yes = BrukerPlanMapping.Answer.YES
    for row in selectors.mappings_for_report(round_):
        levels = {}
        for area, level in row["levels"].items():
            if level is not None:
                level = colour.get((area, level))
                if level is None:
                    raise ValueError(_("A mapping holds a level that is not on the round's scale."))
            levels[_REPORT_AREA.get(area, area)] = level
        yield MappingRow(
            person_id=row["person_id"], service_id=row["service_id"], service_kind=row["service_kind"], mapped_at=row["mapped_at"],
            sex=row["sex"] or "other", age=row["age"], has_children=bool(row["has_children"]), levels=levels, lar=bool(row["lar"]),
            tsb=bool(row["tsb"]), ansvarsgruppe=row["ansvarsgruppe"] == yes, individual_plan=row["individual_plan"] == yes,
            services_used=row["services_used"], expected_need=row["expected_need"],
        )


def report_build(round: BrukerPlanRound, *, progress_seconds: float = REPORT_PROGRESS_SECONDS,
                 progress_every: int = 500) -> BrukerPlanReport | None:
    """Compute and store a closed round's report (tasks.round_report_compute runs it after the close).

    The mapped persons are streamed (selectors.mappings_for_report: one row per person, the most
    recent mapping wins) into report.report_compute, compared with the stored figures of the round's
    ``previous_round`` when it has them, and stored in the round's BrukerPlanReport (status done,
    ``data``, ``computed_at``). Every service kind of the participating services and every HelpKind
    is a category, even at 0. Progress (``done`` of ``total`` persons) is written to the report row
    at most every ``progress_seconds``, checked every ``progress_every`` rows.

    Not one transaction, on purpose: the claim, each progress write and the result commit on their
    own, so the report's page (another connection) sees the progress while the rows stream. Every
    write after the claim is fenced on the claim (its ``started_at``, status running): a run that
    finds itself superseded stops and writes nothing more. Returns the report as stored, or None
    when it was not claimed (see _report_claim). On an error, storing the result included, the
    report is marked failed with a message that names no person (logged with the round's id only;
    the figures of an earlier computation stay) and the error is not raised: a report task is not
    retried, the coordinator recomputes.
    """
    report = _report_claim(round)
    if report is None:
        return None
    round_ = report.round
    mine = BrukerPlanReport.objects.filter(pk=report.pk, status=REPORT.RUNNING, started_at=report.started_at)
    try:
        previous = None
        if round_.previous_round_id:
            previous = (BrukerPlanReport.objects.filter(round_id=round_.previous_round_id, data__isnull=False)
                        .values_list("data", flat=True).first())
        kinds = sorted(set(BrukerPlanParticipation.objects.filter(round=round_).values_list("service__kind", flat=True)))
        last = [time.monotonic()]

        def progress(done, total):
            now = time.monotonic()
            if now - last[0] >= progress_seconds:
                last[0] = now
                if not mine.update(done=done, total=max(total, done), progress_at=timezone.now()):
                    raise _Superseded

        data = report_compute(_report_rows(round_), previous=previous, progress=progress, progress_every=progress_every,
                              total=report.total, service_kinds=kinds, service_types=HelpKind.values)
        persons = report.total if data["mapped"] is None else data["mapped"]
        now = timezone.now()
        with transaction.atomic():  # a savepoint where a caller holds a transaction: its failure leaves that usable
            if not mine.update(status=REPORT.DONE, data=data, done=persons, total=persons, computed_at=now, progress_at=now):
                raise _Superseded
    except _Superseded:
        logger.info("BrukerPlan report of round %s: superseded by a newer computation", round_.pk)
        return BrukerPlanReport.objects.filter(pk=report.pk).first()
    except Exception as exc:  # stored as failed, for the coordinator to see and recompute
        logger.exception("BrukerPlan report of round %s failed", round_.pk)
        message = str(exc) if isinstance(exc, ValueError) else _("The computation stopped unexpectedly (%(kind)s).") % {
            "kind": type(exc).__name__}
        mine.update(status=REPORT.FAILED, error=message, progress_at=timezone.now())
    return BrukerPlanReport.objects.filter(pk=report.pk).first()


@transaction.atomic
def report_recompute(*, user, round: BrukerPlanRound) -> BrukerPlanReport:
    """Compute a closed round's report again, by a leader of the coordinating service (after a
    failure, a lost computation, or when the previous round's report came later): the report is
    marked pending (``progress_at``: when it was asked for) and the task enqueued after the commit.
    The stored figures stay, and are served, until the new ones replace them. Refused while the
    round is not closed or a computation is running (one gone stale may be recomputed)."""
    round_ = STEPS.lock(round)
    require_member(user, round_.coordinator_service, _("Only a leader of the coordinating service can compute the report."), role=LEADER)
    STEPS.require_status(round_, R.CLOSED)
    report, _created = BrukerPlanReport.objects.select_for_update(of=("self",)).get_or_create(round=round_)
    if _report_running(report):
        raise ValidationError(_("The report is being computed already."), code="running")
    report.status, report.done, report.error, report.progress_at = REPORT.PENDING, 0, "", timezone.now()
    report.save(update_fields=["status", "done", "error", "progress_at"])
    round_id = round_.pk
    transaction.on_commit(lambda: _report_enqueue(round_id))
    return report


@transaction.atomic
def report_requeue_due(*, limit: int = 50) -> int:
    """The beat's safety net (tasks.reports_requeue, every minute): enqueue again the report of each
    closed round whose computation looks lost (selectors.report_stalled): pending for more than
    REPORT_PENDING_AFTER (its message lost), running with no progress for REPORT_STALE_AFTER (its
    worker killed), or never started (a closed round without a report row: the close's enqueue
    lost). Each is marked pending with ``progress_at`` now, so it is enqueued again at most once
    every REPORT_PENDING_AFTER, and a worker taken for dead finds its claim gone. At most ``limit``
    reports a run; rows another transaction holds are skipped (the next run takes them). Returns
    how many were enqueued (after the commit)."""
    now = timezone.now()
    due = list(
        BrukerPlanReport.objects.select_for_update(skip_locked=True)
        .filter(Q(status=REPORT.PENDING, progress_at__lt=now - REPORT_PENDING_AFTER) | Q(status=REPORT.PENDING, progress_at__isnull=True)
                | Q(status=REPORT.RUNNING, progress_at__lt=now - REPORT_STALE_AFTER))
        .order_by("progress_at", "pk")[:limit]
    )
    for report in due:
        report.status, report.done, report.progress_at = REPORT.PENDING, 0, now
        report.save(update_fields=["status", "done", "progress_at"])
    rounds = [report.round_id for report in due]
    if len(rounds) < limit:
        # A closed round whose task never created its row; its lock is the claim's first, skipped if held.
        orphans = list(
            BrukerPlanRound.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=R.CLOSED, closed_at__lt=now - REPORT_PENDING_AFTER, report__isnull=True)
            .order_by("closed_at", "pk").values_list("pk", flat=True)[:limit - len(rounds)]
        )
        # ignore_conflicts: a claim that committed its row since this query read none (it is enqueued
        # once more, and that task finds the report claimed or done and does nothing).
        BrukerPlanReport.objects.bulk_create([BrukerPlanReport(round_id=pk, status=REPORT.PENDING, progress_at=now) for pk in orphans],
                                             ignore_conflicts=True)
        rounds += orphans
    for round_id in rounds:
        transaction.on_commit(lambda round_id=round_id: _report_enqueue(round_id))
    if rounds:
        logger.info("BrukerPlan reports enqueued again: %s", len(rounds))
    return len(rounds)
