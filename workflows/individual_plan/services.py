"""Individual plans (individuell plan), their koordinator and the main responsibility: every write.

The rules (domain P4, issue 9):
* an offer is registered by any service and answered by the person or the guardians, as the consent
  app's age rules say (rules.answer_problem);
* a plan is made only for an accepted offer and only with a consent in force (purpose: individual
  plan) covering the service that starts it; each further participating service receives the plan
  through the disclosure ledger (consent.services.disclosure_record), on that consent;
* exactly one service holds the main responsibility: the plan's row is locked
  (``select_for_update``) by every write, and the database admits one current ``PlanHolder`` per plan
  (``uniq_current_plan_holder``). A hand-over is proposed by the holder and takes effect only when
  the receiving service accepts it; accepting one supersedes every other open proposal;
* withdrawing the consent pauses the plan (plans_pause_on_withdrawal) and the selectors stop showing
  it to every participant at once; the holder resumes it on a new consent (plan_resume);
* the offer's answer, a hand-over's answer, each measure's evaluation and the plan's revision run on
  clocks from the policy rows, with their reminders and escalations (workflows/individual_plan/clocks.py).

Every change bumps the plan's ``version`` with a ``PlanVersion`` row (who, for which service, when,
what) and writes the access log. Bad input raises a translated ValidationError before anything is
written (the transaction rolls back whatever a later refusal would leave).

Lock order: a write that discloses (participant_add) locks the consent before the plan, as the
consent's withdrawal does; every other write locks only the plan, then its rows. The plan's row is
also the lock of its hand-overs' viewflow processes (``plan_flow_lock``): a hand-over is a process of
its own (workflows/flows/individual_plan.py), started by handover_propose, whose task the
receiving service completes by accepting or declining; a hand-over that ends otherwise (superseded,
cancelled, its receiver removed, the plan paused) has its process cancelled in the same transaction.
"""
import datetime
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import access_log_write
from consent.models import Consent, Disclosure
from consent.selectors import consent_is_active, consents_in_force_for
from consent.services import disclosure_record
from org import permissions
from org.access import is_member, require_member
from org.models import Service
from people.models import Guardianship, Person
from people.services import person_get_or_create
from people.validators import LONG_TEXT, SHORT_TEXT, text_limits, years_after, years_before
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder, PlanMeasure, PlanOffer, PlanParticipant, PlanVersion
from workflows.individual_plan import clocks, rules
from workflows.individual_plan.selectors import participant_service_ids
from workflows import steps
from workflows.services.tasks import process_cancel

PROCESS = "individual_plan"
PURPOSE = Consent.Purpose.INDIVIDUAL_PLAN
# The object permission of a service taking part in the plan: the starting service holds it as the
# plan's owner, every other participant through the disclosure ledger. The plan's content is shown
# only through the selectors, which ask the consent itself on every read.
PARTICIPANT_PERM = permissions.INDIVIDUAL_PLAN_PARTICIPANT
S = IndividualPlan.Status
H = PlanHandOver.Status
V = PlanVersion.Change
CONTENT_FIELDS = ("kind", "goals", "resources", "period_start", "period_end", "revision_due_on", "participation", "participation_note")
# The person's own words and the notes are person data: the access log names the field, never the value.
PERSON_DATA_FIELDS = {"goals", "resources", "participation_note"}


class PlanFlowLock:
    """viewflow's lock for a hand-over's process: the row of the hand-over's plan, locked until the
    transaction ends (waiting, as the services' own ``_lock`` waits). The one lock every write to the
    plan takes first, so viewflow's task pages and the plan's pages queue in one order (see the
    flow's docstring). A process without a hand-over yet locks its own row, as viewflow's lock does."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        with transaction.atomic():
            locked = list(IndividualPlan.objects.select_for_update(of=("self",)).filter(handovers__process__pk=process_pk).values_list("pk", flat=True))
            if not locked:
                list(flow_class.process_class._default_manager.select_for_update().filter(pk=process_pk).values_list("pk", flat=True))
            yield


plan_flow_lock = PlanFlowLock()

# The flow's one human step: the receiving service's answer to a hand-over (its record), through the
# step skeleton (workflows.steps), which locks the hand-over's process and row (after the plan's row,
# taken first by the services and by viewflow's task page as the flow's lock), checks the member
# and the status, completes the task and writes the access log.
STEPS = steps.Steps(
    process=PROCESS, model=PlanHandOver, related=("plan", "plan__person", "from_service", "to_service"), url="individual_plans:handover",
    roles={"to_service": "receiver"},
    out_of_order=gettext_lazy("This hand-over is no longer waiting for an answer: it is “%(status)s”."),
)
# Its answer meets the hand-over's clock (clocks.HANDOVER), opened by handover_propose.
DECIDE = STEPS.add("decide", statuses=(H.PROPOSED,), actors=("to_service",), task=True, meets=(clocks.HANDOVER,),
                   not_member=gettext_lazy("Only the receiving service can answer the hand-over."))  # purpose set per run


def _flow():
    from workflows.processes import process_named

    return process_named(PROCESS).flow_class()


def _handovers_end(plan, handovers, *, status: str, now, user=None) -> None:
    """End the open ``handovers`` (a queryset of the locked ``plan``'s) with ``status`` and cancel
    their processes and tasks and their clocks (the plan's row, the flow's lock, is held)."""
    from workflows.models import IndividualPlanProcess

    ids = list(handovers.filter(plan=plan, status=H.PROPOSED).values_list("pk", flat=True))
    if not ids:
        return
    PlanHandOver.objects.filter(pk__in=ids).update(status=status, decided_at=now, decided_by=user, next_deadline_at=None)
    clocks.handover_clocks_cancel(ids)
    flow_class = _flow()
    for process in IndividualPlanProcess.objects.filter(handover_id__in=ids).order_by("pk"):
        process_cancel(flow_class, process)


def case_owner(plan: IndividualPlan) -> Service:
    """The service that holds the plan now: the current holder of the main responsibility."""
    return PlanHolder.objects.select_related("service").get(plan=plan, ended_at__isnull=True).service


def _plan_lock(plan) -> IndividualPlan:
    """A fresh copy of ``plan`` with its row locked until the transaction ends: the plan's own writes
    (its content, participants, measures, koordinator, a proposal) are no steps of the flow; the
    hand-over's answer, which is, runs through the step skeleton (DECIDE) under this lock too."""
    return IndividualPlan.objects.select_for_update(of=("self",)).select_related("person", "consent").get(pk=plan.pk)


def _holder(plan, *, lock: bool = False) -> PlanHolder:
    rows = PlanHolder.objects.select_related("service", "koordinator").filter(plan=plan, ended_at__isnull=True)
    return (rows.select_for_update(of=("self",)) if lock else rows).get()


def _require_active(plan) -> None:
    if plan.status != S.ACTIVE:
        raise ValidationError(_("The plan is “%(status)s”: it cannot be changed now.") % {"status": plan.get_status_display()},
                              code="out_of_order")


def _require_holder(user, plan) -> PlanHolder:
    """The current holder, if ``user`` is an active member of its service; else a translated refusal."""
    holder = _holder(plan)
    require_member(user, holder.service, _("Only the service holding the main responsibility can do this."))
    return holder


def _version(plan, *, user, service, change: str, changes: dict | None = None) -> PlanVersion:
    """Bump the locked ``plan``'s version and keep the change (who, for which service, what)."""
    plan.version += 1
    plan.save(update_fields=["version", "updated_at"])
    return PlanVersion.objects.create(plan=plan, number=plan.version, change=change, changes=changes or {}, changed_by=user,
                                      changed_by_service=service)


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _logged(changes: dict) -> dict:
    """``changes`` as the access log keeps them: the values of person data left out."""
    return {field: (None if field in PERSON_DATA_FIELDS else values) for field, values in changes.items()}


def _errors():
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add


def _koordinator_problem(koordinator, service) -> str | None:
    if koordinator is not None and not is_member(koordinator, service):
        return _("The koordinator must be a member of %(service)s.") % {"service": service.name}
    return None


# --- the offer ---------------------------------------------------------------------------------------


@transaction.atomic
def offer_register(*, user, service: Service, person: Person, reason: str, offered_on: datetime.date | None = None) -> PlanOffer:
    """Register that ``person`` qualifies for an individual plan and was offered one by ``service``,
    and start the clock of its answer (clocks.OFFER: the service's staff reminded, its leaders
    escalated to when no answer is recorded in time). Refused without a reason, or for a date in the
    future or more than a year back."""
    require_member(user, service, _("You are not a member of the service offering the plan."))
    today = timezone.localdate()
    offered_on = offered_on or today
    errors, add = _errors()
    if not (reason or "").strip():
        add("reason", _("Say why the person qualifies for an individual plan."))
    if offered_on > today or offered_on < years_before(today, 1):
        add("offered_on", _("The offer's date must lie within the last year, and not in the future."))
    if errors:
        raise ValidationError(errors)
    text_limits(reason=(reason, SHORT_TEXT))
    offer = PlanOffer.objects.create(person=person, offered_by_service=service, reason=reason.strip(), offered_on=offered_on,
                                     registered_by=user)
    permissions.grant_to_service(perm=permissions.INDIVIDUAL_PLAN_OFFER, obj=offer, service=service)  # as the offer's owner
    clocks.offer_clock_open(offer)
    access_log_write(user=user, action="create", obj=offer, person=person, purpose="individual plan offered", service=service)
    return offer


@transaction.atomic
def offer_answer(*, user, offer: PlanOffer, answer: str, answered_on: datetime.date | None = None, by_person: bool = False,
                 guardians=()) -> PlanOffer:
    """Record the answer to ``offer`` (accepted, declined, a koordinator only): who answered must be
    who the age rules say at the person's age on ``answered_on`` (the person, the registered
    guardians, or both), which meets the offer's clock. Refused for an offer already answered, or a
    date before the offer or in the future."""
    offer = PlanOffer.objects.select_for_update(of=("self",)).select_related("person", "offered_by_service").get(pk=offer.pk)
    require_member(user, offer.offered_by_service, _("Only the service that made the offer can record the answer."))
    if offer.answer:
        raise ValidationError(_("The answer to this offer has already been recorded."), code="out_of_order")
    today = timezone.localdate()
    answered_on = answered_on or today
    guardians = list(guardians)
    errors, add = _errors()
    if answer not in PlanOffer.Answer.values:
        add("answer", _("Choose the person's answer."))
    if answered_on > today or answered_on < offer.offered_on:
        add("answered_on", _("The answer's date must lie between the offer's date and today."))
    consenter = rules.answer_consenter(offer.person, answered_on)
    registered = set(Guardianship.objects.filter(child=offer.person).values_list("guardian_id", flat=True))
    problem = rules.answer_problem(consenter, by_person=by_person, guardians=guardians, registered_guardian_ids=registered)
    if problem:
        add("answered_by", problem)
    if errors:
        raise ValidationError(errors)
    offer.answer, offer.answered_on, offer.answered_by_person = answer, answered_on, bool(by_person)
    offer.answer_consenter, offer.answer_recorded_by = consenter, user
    offer.save(update_fields=["answer", "answered_on", "answered_by_person", "answer_consenter", "answer_recorded_by"])
    offer.answered_by_guardians.set(guardians)
    clocks.offer_clock_met(offer)
    access_log_write(user=user, action="update", obj=offer, person=offer.person, purpose="individual plan offer answered",
                     service=offer.offered_by_service)
    return offer


@transaction.atomic
def offer_koordinator_set(*, user, offer: PlanOffer, service: Service, koordinator) -> PlanOffer:
    """Name the koordinator (``service`` and ``koordinator``, a member of it) of an offer answered
    "a koordinator only": the person declined the plan but not the koordinator (domain P4). By the
    offering service's staff, naming a service of their own: the offer is not shared with any other
    service (that would need a consent), so the koordinator's service must see it already. Naming
    another koordinator later replaces the first."""
    offer = PlanOffer.objects.select_for_update(of=("self",)).select_related("person", "offered_by_service").get(pk=offer.pk)
    require_member(user, offer.offered_by_service, _("Only the service that made the offer can name its koordinator."))
    if offer.answer != PlanOffer.Answer.COORDINATOR_ONLY:
        raise ValidationError(_("A koordinator is named on the offer only when the person answered “a koordinator only”."),
                              code="out_of_order")
    errors, add = _errors()
    if service is None:
        add("koordinator_service", _("Choose the koordinator's service."))
    elif not service.active or not is_member(user, service):
        add("koordinator_service", _("Choose one of your own services: the offer is not shared with other services."))
    if koordinator is None:
        add("koordinator", _("Choose the koordinator."))
    elif service is not None and not errors:
        problem = _koordinator_problem(koordinator, service)
        if problem:
            add("koordinator", problem)
    if errors:
        raise ValidationError(errors)
    if (offer.koordinator_service_id, offer.koordinator_id) == (service.pk, koordinator.pk):
        return offer
    offer.koordinator_service, offer.koordinator, offer.koordinator_named_at = service, koordinator, timezone.now()
    offer.save(update_fields=["koordinator_service", "koordinator", "koordinator_named_at"])
    access_log_write(user=user, action="update", obj=offer, person=offer.person, purpose="individual plan koordinator",
                     service=offer.offered_by_service)
    return offer


@transaction.atomic
def offer_register_person(*, user, service: Service, identity: dict, guardians: list[dict], reason: str,
                          offered_on: datetime.date | None = None) -> PlanOffer:
    """The offer form's one call: register the person (``identity``: people.services.person_get_or_create's
    ``national_id`` or ``birth_date``, ``given_name``, ``family_name``) and any guardians (each
    ``{"national_id", "given_name", "family_name"}``) as ``service``'s own records, then offer_register.
    A number that matches a registered person links to that person and shows nothing others
    registered. All or nothing."""
    require_member(user, service, _("You are not a member of the service offering the plan."))
    muni = service.municipality
    person = person_get_or_create(user=user, municipality=muni, service=service, **identity)
    for g in guardians:
        guardian = person_get_or_create(user=user, given_name=g["given_name"], family_name=g.get("family_name", ""),
                                        national_id=g["national_id"], municipality=muni, service=service)
        if guardian.pk == person.pk:
            raise ValidationError({"guardians": _("A person cannot be their own guardian.")})
        Guardianship.objects.get_or_create(child=person, guardian=guardian)
    return offer_register(user=user, service=service, person=person, reason=reason, offered_on=offered_on)


@transaction.atomic
def plan_update_fresh(*, user, plan: IndividualPlan, version, **fields) -> IndividualPlan:
    """plan_update for the plan's edit page: refused (a translated ValidationError, nothing saved)
    when the plan's ``version`` has moved on since the form was rendered, checked under the plan's
    row lock, so two people saving the same form cannot both pass."""
    locked = _plan_lock(plan)
    if str(version).strip() != str(locked.version):
        raise ValidationError(_("Someone else changed this plan while you had it open. Reload the page and try again."), code="stale")
    return plan_update(user=user, plan=locked, **fields)


@transaction.atomic
def participant_register_next_of_kin(*, user, plan: IndividualPlan, identity: dict, relation: str = "") -> PlanParticipant:
    """The participants page's one call for a next of kin: register them (``identity``:
    people.services.person_get_or_create's fields) as the holding service's own record, then
    participant_add them as a next of kin. Refused, nothing saved, for a user not of the holder."""
    holder = _require_holder(user, plan)
    person = person_get_or_create(user=user, municipality=holder.service.municipality, service=holder.service, **identity)
    return participant_add(user=user, plan=plan, role=PlanParticipant.Role.NEXT_OF_KIN, person=person, relation=relation)


# --- the plan ----------------------------------------------------------------------------------------


def _content_errors(values: dict, add) -> None:
    """The plan content's own rules, on the values it would have (all of CONTENT_FIELDS)."""
    if values["kind"] not in IndividualPlan.Kind.values:
        add("kind", _("Choose the kind of plan."))
    if not (values["goals"] or "").strip():
        add("goals", _("Write down the person's own goals, in their own words."))
    if values["participation"] not in IndividualPlan.Participation.values:
        add("participation", _("Record how the person took part in the plan."))
    start, end, revision = values["period_start"], values["period_end"], values["revision_due_on"]
    if start is None:
        add("period_start", _("Give the start of the plan period."))
        return
    today = timezone.localdate()
    if not years_before(today, 1) <= start <= years_after(today, 1):
        add("period_start", _("The plan period must start within a year of today."))
    if end is not None and end < start:
        add("period_end", _("The plan period cannot end before it starts."))
    if revision is None:
        add("revision_due_on", _("Give the date by which the plan is revised."))
    elif revision < start or (end is not None and revision > end):
        add("revision_due_on", _("The revision date must lie within the plan period."))


@transaction.atomic
def plan_create(
    *, user, service: Service, offer: PlanOffer, consent: Consent, goals: str, period_start: datetime.date, revision_due_on: datetime.date,
    participation: str, kind: str = IndividualPlan.Kind.IP, resources: str = "", participation_note: str = "",
    period_end: datetime.date | None = None, koordinator=None,
) -> IndividualPlan:
    """Make the plan of an accepted ``offer``, held by ``service`` (main responsibility, with its
    ``koordinator`` if named), on ``consent``. Refused (a translated ValidationError by field,
    nothing saved) unless the offer was accepted and has no plan yet, and the consent is the
    person's, for an individual plan, in force and covering ``service``. Returns the plan (version 1)."""
    require_member(user, service, _("You are not a member of the service starting the plan."))
    # The stored consent, locked as its withdrawal locks it: a withdrawal committed meanwhile (or a
    # stale instance in the caller) must not let the plan be made.
    consent = Consent.objects.select_for_update().filter(pk=getattr(consent, "pk", None)).first()
    offer = PlanOffer.objects.select_for_update(of=("self",)).select_related("person").get(pk=offer.pk)
    values = dict(kind=kind, goals=goals, resources=resources, period_start=period_start, period_end=period_end,
                  revision_due_on=revision_due_on, participation=participation, participation_note=participation_note)
    errors, add = _errors()
    if offer.answer != PlanOffer.Answer.ACCEPTED:
        add("offer", _("The person has not accepted the offer of an individual plan."))
    elif IndividualPlan.objects.filter(offer=offer).exists():
        add("offer", _("This offer already has a plan."))
    if consent is None or consent.person_id != offer.person_id or not consent_is_active(consent, service=service, purpose=PURPOSE):
        add("consent", _("There is no consent in force from the person for an individual plan shared with %(service)s.")
            % {"service": service.name})
    problem = _koordinator_problem(koordinator, service)
    if problem:
        add("koordinator", problem)
    _content_errors(values, add)
    if errors:
        raise ValidationError(errors)
    text_limits(goals=(goals, LONG_TEXT), resources=(resources, LONG_TEXT), participation_note=(participation_note, SHORT_TEXT))
    for field in ("goals", "resources", "participation_note"):
        values[field] = (values[field] or "").strip()
    plan = IndividualPlan.objects.create(person=offer.person, offer=offer, consent=consent, registered_by_service=service, created_by=user,
                                         **values)
    PlanParticipant.objects.create(plan=plan, role=PlanParticipant.Role.SERVICE, service=service, added_by=user)
    permissions.grant_to_service(perm=PARTICIPANT_PERM, obj=plan, service=service)  # as the plan's owner
    PlanHolder.objects.create(plan=plan, service=service, koordinator=koordinator, started_at=timezone.now())
    PlanVersion.objects.create(plan=plan, number=1, change=V.CREATED, changed_by=user, changed_by_service=service,
                               changes={field: [None, _jsonable(value)] for field, value in values.items()})
    clocks.revision_clock_set(plan, service)
    access_log_write(user=user, action="create", obj=plan, person=plan.person, purpose="individual plan created", service=service)
    return plan


@transaction.atomic
def plan_update(*, user, plan: IndividualPlan, **fields) -> IndividualPlan:
    """Change the plan's content (any of CONTENT_FIELDS), by the holder of the main responsibility.
    Keeps what changed as a new version; a call that changes nothing writes nothing. A new revision
    date moves the revision's clock."""
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"plan_update: no such field(s) {sorted(unknown)}")
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    for field in ("goals", "resources", "participation_note"):
        if field in fields:
            fields[field] = (fields[field] or "").strip()
    values = {field: fields.get(field, getattr(plan, field)) for field in CONTENT_FIELDS}
    errors, add = _errors()
    _content_errors(values, add)
    if errors:
        raise ValidationError(errors)
    text_limits(goals=(values["goals"], LONG_TEXT), resources=(values["resources"], LONG_TEXT),
                participation_note=(values["participation_note"], SHORT_TEXT))
    changes = {f: [_jsonable(getattr(plan, f)), _jsonable(v)] for f, v in values.items() if getattr(plan, f) != v}
    if not changes:
        return plan
    for field in changes:
        setattr(plan, field, values[field])
    plan.save(update_fields=[*changes, "updated_at"])
    if "revision_due_on" in changes:
        clocks.revision_clock_set(plan, holder.service)
    _version(plan, user=user, service=holder.service, change=V.CONTENT, changes=changes)
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan changed", service=holder.service,
                     changes=_logged(changes))
    return plan


# --- participants ------------------------------------------------------------------------------------


@transaction.atomic
def participant_add(*, user, plan: IndividualPlan, role: str, service: Service | None = None, person: Person | None = None,
                    relation: str = "") -> PlanParticipant:
    """Add a participating service (disclosed the plan through the ledger, on the plan's consent,
    which must cover it) or a next of kin or guardian (a person), by the holder; a service added is
    reminded of the ansvarsgruppe's meetings to come. Refused for a service or person already taking
    part, an inactive service, or a guardian not registered."""
    # The consent before the plan, as its withdrawal locks them: the two cannot deadlock.
    Consent.objects.select_for_update().filter(pk=plan.consent_id).first()
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    R = PlanParticipant.Role
    errors, add = _errors()
    live = PlanParticipant.objects.filter(plan=plan, removed_at__isnull=True)
    if role == R.SERVICE:
        if service is None or person is not None:
            add("service", _("Choose the participating service."))
        elif not service.active:
            add("service", _("%(service)s is no longer active.") % {"service": service.name})
        elif live.filter(service=service).exists():
            add("service", _("%(service)s already takes part in this plan.") % {"service": service.name})
        elif not consent_is_active(plan.consent, service=service, purpose=PURPOSE):
            add("service", _("The person's consent does not cover sharing the plan with %(service)s.") % {"service": service.name})
    elif role in (R.NEXT_OF_KIN, R.GUARDIAN):
        if person is None or service is not None:
            add("person", _("Choose the next of kin."))
        elif person.pk == plan.person_id:
            add("person", _("The person the plan is for cannot be their own next of kin."))
        elif live.filter(person=person).exists():
            add("person", _("This person already takes part in the plan."))
        elif role == R.GUARDIAN and not Guardianship.objects.filter(child=plan.person, guardian=person).exists():
            add("person", _("Only a registered guardian of the person can take part as a guardian."))
    else:
        add("role", _("Choose the participant's role."))
    if errors:
        raise ValidationError(errors)
    text_limits(relation=(relation, 80))
    participant = PlanParticipant.objects.create(plan=plan, role=role, service=service, person=person, relation=(relation or "").strip(),
                                                 added_by=user)
    if service is not None:
        disclosure_record(
            obj=plan, person=plan.person, from_service=holder.service, to_service=service, basis=Disclosure.Basis.CONSENT,
            purpose="individual plan shared", perm=PARTICIPANT_PERM, user=user, consent=plan.consent, consent_purpose=PURPOSE,
        )
        meetings_refresh(plan)  # the meetings to come remind the new service too
    _version(plan, user=user, service=holder.service, change=V.PARTICIPANT_ADDED,
             changes={"participant": [None, service.name if service else str(PlanParticipant.Role(role).label)]})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan participant added",
                     service=holder.service)
    return participant


@transaction.atomic
def participant_remove(*, user, plan: IndividualPlan, participant: PlanParticipant) -> PlanParticipant:
    """End a participation, by the holder. A service removed loses the plan at once (and the
    permission the ledger's disclosure granted it), and its unsent reminders of the ansvarsgruppe's
    meetings are cancelled. The holder's own service cannot be removed: hand the main responsibility
    over first."""
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    participant = PlanParticipant.objects.select_for_update().filter(pk=participant.pk, plan=plan, removed_at__isnull=True).first()
    if participant is None:
        raise ValidationError({"participant": _("Choose one of this plan's participants.")})
    if participant.service_id == holder.service_id:
        raise ValidationError({"participant": _("The service holding the main responsibility cannot leave the plan: hand it over first.")})
    now = timezone.now()
    participant.removed_at = now
    participant.save(update_fields=["removed_at"])
    if participant.service_id is not None:
        # Its unsent meeting reminders are cancelled before its grant is revoked: a sweep delivering
        # one holds the reminder's row and then share-locks the grant, so the other order could deadlock.
        meetings_refresh(plan)
        # A service that leaves the plan can no longer take it over.
        _handovers_end(plan, PlanHandOver.objects.filter(to_service_id=participant.service_id), status=H.CANCELLED, now=now, user=user)
    if participant.service_id is not None:
        # The ledger keeps that the plan was disclosed to the service; its permission ends here (the
        # selectors stop showing the plan to it already, as they read the participation).
        permissions.revoke_from_service(perm=PARTICIPANT_PERM, obj=plan, service=participant.service)
    label = participant.service.name if participant.service_id else str(PlanParticipant.Role(participant.role).label)
    _version(plan, user=user, service=holder.service, change=V.PARTICIPANT_REMOVED, changes={"participant": [label, None]})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan participant removed",
                     service=holder.service)
    return participant


# --- measures ----------------------------------------------------------------------------------------


def _measure_errors(plan, *, description, responsible_service, starts_on, evaluate_on, status, add) -> None:
    if not (description or "").strip():
        add("description", _("Describe the measure."))
    if responsible_service is None:
        add("responsible_service", _("Choose the service responsible for the measure."))
    elif responsible_service.pk not in participant_service_ids(plan):
        add("responsible_service", _("%(service)s does not take part in this plan: choose a participating service.")
            % {"service": responsible_service.name})
    if starts_on is None:
        add("starts_on", _("Give the date the measure starts."))
    if evaluate_on is None:
        add("evaluate_on", _("Give the date the measure is evaluated."))
    elif starts_on is not None and evaluate_on < starts_on:
        add("evaluate_on", _("The evaluation date cannot be before the measure starts."))
    if status not in PlanMeasure.Status.values:
        add("status", _("Choose the measure's status."))


@transaction.atomic
def measure_add(*, user, plan: IndividualPlan, description: str, responsible_service: Service, starts_on: datetime.date,
                evaluate_on: datetime.date, status: str = PlanMeasure.Status.PLANNED) -> PlanMeasure:
    """Add a measure (tiltak) to the plan, by the holder: the responsible service must take part in
    the plan, and the evaluation cannot come before the start. Starts its evaluation clock."""
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    errors, add = _errors()
    _measure_errors(plan, description=description, responsible_service=responsible_service, starts_on=starts_on,
                    evaluate_on=evaluate_on, status=status, add=add)
    if errors:
        raise ValidationError(errors)
    text_limits(description=(description, SHORT_TEXT))
    measure = PlanMeasure.objects.create(plan=plan, description=description.strip(), responsible_service=responsible_service,
                                         starts_on=starts_on, evaluate_on=evaluate_on, status=status, created_by=user)
    clocks.measure_clock_set(plan, measure)
    _version(plan, user=user, service=holder.service, change=V.MEASURE_ADDED,
             changes={"measure": [None, str(measure.code)], "responsible_service": [None, responsible_service.name],
                      "starts_on": [None, starts_on.isoformat()], "evaluate_on": [None, evaluate_on.isoformat()], "status": [None, status]})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan measure", service=holder.service)
    return measure


@transaction.atomic
def measure_update(*, user, measure: PlanMeasure, **fields) -> PlanMeasure:
    """Change a measure (description, responsible_service, starts_on, evaluate_on, status), by the
    holder or by the measure's responsible service, under the same rules as measure_add. A new
    evaluation date or responsible service moves its evaluation clock; completing the measure meets
    it, stopping it cancels it (clocks.measure_clock_set)."""
    allowed = {"description", "responsible_service", "starts_on", "evaluate_on", "status"}
    if set(fields) - allowed:
        raise TypeError(f"measure_update: no such field(s) {sorted(set(fields) - allowed)}")
    plan = _plan_lock(measure.plan)
    measure = PlanMeasure.objects.select_for_update(of=("self",)).select_related("responsible_service").get(pk=measure.pk, plan=plan)
    holder = _holder(plan)
    acting = next((s for s in (holder.service, measure.responsible_service) if is_member(user, s)), None)
    if acting is None:
        raise ValidationError(_("Only the service holding the main responsibility or the measure's responsible service can change it."),
                              code="not_member")
    _require_active(plan)
    values = {f: fields.get(f, getattr(measure, f)) for f in allowed}
    errors, add = _errors()
    _measure_errors(plan, add=add, **values)
    if errors:
        raise ValidationError(errors)
    text_limits(description=(values["description"], SHORT_TEXT))
    values["description"] = values["description"].strip()

    def shown(v):
        return v.name if isinstance(v, Service) else _jsonable(v)

    changes = {f: [shown(getattr(measure, f)), shown(v)] for f, v in values.items() if getattr(measure, f) != v}
    if not changes:
        return measure
    for field in changes:
        setattr(measure, field, values[field])
    measure.save(update_fields=[*changes, "updated_at"])
    if {"evaluate_on", "responsible_service", "status"} & set(changes):
        clocks.measure_clock_set(plan, measure)
    _version(plan, user=user, service=acting, change=V.MEASURE_CHANGED, changes={"measure": [str(measure.code)] * 2, **changes})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan measure", service=acting,
                     changes=_logged({**changes, "description": None} if "description" in changes else changes))
    return measure


# --- the main responsibility and the koordinator ----------------------------------------------------


@transaction.atomic
def koordinator_set(*, user, plan: IndividualPlan, koordinator) -> PlanHolder:
    """Name (or change) the koordinator within the holding service, by its staff."""
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    problem = _koordinator_problem(koordinator, holder.service)
    if koordinator is None or problem:
        raise ValidationError({"koordinator": problem or _("Choose the koordinator.")})
    if holder.koordinator_id == koordinator.pk:
        return holder
    old = holder.koordinator.get_username() if holder.koordinator_id else None
    holder.koordinator = koordinator
    holder.save(update_fields=["koordinator"])
    _version(plan, user=user, service=holder.service, change=V.KOORDINATOR_CHANGED, changes={"koordinator": [old, koordinator.get_username()]})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan koordinator", service=holder.service)
    return holder


@transaction.atomic
def handover_propose(*, user, plan: IndividualPlan, to_service: Service, note: str = "") -> PlanHandOver:
    """Propose to hand the main responsibility to ``to_service``, by the current holder. The holder
    keeps it until ``to_service`` accepts, which owes its answer by the hand-over's clock
    (clocks.HANDOVER). Refused for the current holder itself, a service not
    taking part in the plan (or not covered by its consent), or one already asked."""
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    errors, add = _errors()
    if to_service is None:
        add("to_service", _("Choose the service to hand the main responsibility to."))
    elif to_service.pk == holder.service_id:
        add("to_service", _("%(service)s already holds the main responsibility.") % {"service": to_service.name})
    elif to_service.pk not in participant_service_ids(plan) or not to_service.active:
        add("to_service", _("%(service)s does not take part in this plan: add it as a participant first.") % {"service": to_service.name})
    elif not consent_is_active(plan.consent, service=to_service, purpose=PURPOSE):
        add("to_service", _("The person's consent does not cover sharing the plan with %(service)s.") % {"service": to_service.name})
    elif PlanHandOver.objects.filter(plan=plan, to_service=to_service, status=H.PROPOSED).exists():
        add("to_service", _("A hand-over to %(service)s is already waiting for its answer.") % {"service": to_service.name})
    if errors:
        raise ValidationError(errors)
    text_limits(note=(note, SHORT_TEXT))
    handover = PlanHandOver.objects.create(plan=plan, from_service=holder.service, to_service=to_service, note=(note or "").strip(),
                                           proposed_by=user)
    # The receiving service's task (its queue): the process runs under the plan's lock, held here.
    _flow().start.run(handover=handover)
    clocks.handover_clock_open(plan, handover, url=STEPS.url(handover))
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="main responsibility hand-over proposed",
                     service=holder.service)
    return handover


def _lock_open_handover(handover) -> tuple[IndividualPlan, PlanHandOver]:
    """The plan locked, then the hand-over locked and still open; else a translated refusal."""
    plan = _plan_lock(handover.plan)
    handover = PlanHandOver.objects.select_for_update(of=("self",)).select_related("from_service", "to_service").get(pk=handover.pk)
    return plan, handover


def _require_open(handover) -> None:
    if handover.status != H.PROPOSED:
        raise ValidationError(_("This hand-over is no longer waiting for an answer: it is “%(status)s”.")
                              % {"status": handover.get_status_display()}, code="out_of_order")


@transaction.atomic
def handover_accept(*, user, handover: PlanHandOver, koordinator=None, activation=None) -> PlanHolder:
    """Accept the hand-over, by the receiving service: in one transaction, under the plan's lock, the
    old holder's row ends and the receiving service's begins (with ``koordinator`` if named), and
    every other open proposal of the plan is superseded. Refused (nothing changed) once the
    proposal is no longer open (accepted, declined, superseded by another hand-over), when its
    proposer no longer holds the plan, or when the plan is paused. Completes the hand-over's task
    (``activation``: viewflow's, from the task page) and cancels the superseded proposals' processes
    in the same transaction; the hand-over's clock is met, the superseded ones' cancelled, and the
    plan's revision clock and the unsent reminders and escalations of its meetings' minutes pass to
    the new holder. Returns the new holder."""
    plan = _plan_lock(handover.plan)
    require_member(user, handover.to_service, _("Only the receiving service can accept the hand-over."))
    with DECIDE.run(handover, user=user, activation=activation) as run:
        return _accept(run, plan, koordinator)


def _accept(run, plan, koordinator) -> PlanHolder:
    user, handover = run.user, run.record
    _require_active(plan)
    holder = _holder(plan, lock=True)
    if holder.service_id != handover.from_service_id:
        raise ValidationError(_("%(service)s no longer holds the main responsibility: this hand-over cannot be accepted.")
                              % {"service": handover.from_service.name}, code="out_of_order")
    if not consent_is_active(plan.consent, service=handover.to_service, purpose=PURPOSE):
        raise ValidationError(_("The person's consent does not cover sharing the plan with %(service)s.")
                              % {"service": handover.to_service.name})
    problem = _koordinator_problem(koordinator, handover.to_service)
    if problem:
        raise ValidationError({"koordinator": problem})
    now = timezone.now()
    holder.ended_at = now
    holder.save(update_fields=["ended_at"])
    new = PlanHolder.objects.create(plan=plan, service=handover.to_service, koordinator=koordinator, handover=handover, started_at=now)
    handover.status, handover.decided_by, handover.decided_at = H.ACCEPTED, user, now
    handover.save(update_fields=["status", "decided_by", "decided_at"])
    _handovers_end(plan, PlanHandOver.objects.exclude(pk=handover.pk), status=H.SUPERSEDED, now=now)
    # The revision is the holder's obligation: it moves with the main responsibility.
    clocks.revision_clock_set(plan, handover.to_service)
    meetings_refresh(plan)  # and so do its meetings' minutes
    _version(plan, user=user, service=handover.to_service, change=V.HOLDER_CHANGED,
             changes={"main_responsibility": [holder.service.name, handover.to_service.name]})
    run.purpose = "main responsibility hand-over accepted"
    return new


@transaction.atomic
def handover_decline(*, user, handover: PlanHandOver, reason: str, activation=None) -> PlanHandOver:
    """Decline the hand-over, by the receiving service, with a reason; the holder keeps the plan.
    Completes the hand-over's task (``activation``: viewflow's, from the task page)."""
    _plan_lock(handover.plan)
    require_member(user, handover.to_service, _("Only the receiving service can decline the hand-over."))
    with DECIDE.run(handover, user=user, activation=activation) as run:
        handover = run.record
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the hand-over is declined.")})
        text_limits(reason=(reason, SHORT_TEXT))
        handover.status, handover.decided_by, handover.decided_at, handover.decision_note = H.DECLINED, user, timezone.now(), reason.strip()
        handover.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        run.purpose = "main responsibility hand-over declined"
    return handover


@transaction.atomic
def handover_cancel(*, user, handover: PlanHandOver) -> PlanHandOver:
    """Withdraw an open proposal, by the proposing (still holding) service; its task is cancelled."""
    plan, handover = _lock_open_handover(handover)
    require_member(user, handover.from_service, _("Only the service that proposed the hand-over can cancel it."))
    _require_open(handover)
    _handovers_end(plan, PlanHandOver.objects.filter(pk=handover.pk), status=H.CANCELLED, now=timezone.now(), user=user)
    handover.refresh_from_db()
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="main responsibility hand-over cancelled",
                     service=handover.from_service)
    return handover


# --- a person merged --------------------------------------------------------------------------------


def plan_participants_merge(*, source: Person, target: Person) -> None:
    """The individual plan's merge hook (people.services.person_merge, before the rows move): in a
    plan where both ``source`` and ``target`` take part (two records of one next of kin), ``target``'s
    participation remains and ``source``'s ends now (kept as the plan's history, re-pointed afterwards
    by the declared holdings like every other row; the database admits one live participation per
    person and plan). Runs inside the merge's transaction."""
    both = PlanParticipant.objects.filter(plan__participants__person=target, plan__participants__removed_at__isnull=True)
    PlanParticipant.objects.filter(pk__in=both.filter(person=source, removed_at__isnull=True).values("pk")).update(removed_at=timezone.now())


# --- consent withdrawn -------------------------------------------------------------------------------


def plans_pause_on_withdrawal(*, consent: Consent, user, revoked: list[Disclosure]) -> list[IndividualPlan]:
    """The individual plan's part of a consent withdrawal (workflows.withdrawal): every active plan
    resting on the consent is paused, its open hand-overs and its clocks (revision, evaluations)
    cancelled with their unsent reminders, kept as a version, logged
    under the service responsible for the consent. Runs inside the withdrawal's transaction (which
    has locked the consent, then locks each plan). The selectors show the plan to no one from now
    on, since they ask the consent. Returns the plans paused."""
    paused = []
    for plan in IndividualPlan.objects.filter(consent=consent, status=S.ACTIVE).order_by("pk"):
        plan = _plan_lock(plan)
        if plan.status != S.ACTIVE:
            continue
        now = timezone.now()
        plan.status, plan.paused_at = S.PAUSED, now
        plan.save(update_fields=["status", "paused_at", "updated_at"])
        _handovers_end(plan, PlanHandOver.objects.all(), status=H.CANCELLED, now=now)
        meetings_pause(plan)
        clocks.plan_clocks_stop(plan)
        _version(plan, user=user, service=consent.recorded_by_service, change=V.PAUSED, changes={"status": [S.ACTIVE, S.PAUSED]})
        access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan paused (consent withdrawn)",
                         service=consent.recorded_by_service)
        paused.append(plan)
    return paused


# --- the ansvarsgruppe (workflows.individual_plan.meetings) ------------------------------------------


def plan_lock_for_holder(*, user, plan: IndividualPlan) -> tuple[IndividualPlan, PlanHolder]:
    """For the ansvarsgruppe's writes (meetings.py): the plan's row locked first, as every write here
    locks it; then a translated refusal unless ``user`` is an active member of the holding service
    and the plan is active. Returns the locked plan and its current holder."""
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    _require_active(plan)
    return plan, holder


def meetings_pause(plan: IndividualPlan) -> None:
    """The paused plan's meetings remind no one (their reminders, escalations and digests cancelled)."""
    from workflows.individual_plan.meetings import meeting_reminders_cancel_all

    meeting_reminders_cancel_all(plan)


def meetings_refresh(plan: IndividualPlan) -> None:
    """The reminders of the plan's open meetings follow its participants, its holder and its status
    (meetings.meeting_reminders_refresh), in the caller's transaction under the plan's lock."""
    from workflows.individual_plan.meetings import meeting_reminders_refresh

    meeting_reminders_refresh(plan)


@transaction.atomic
def plan_resume(*, user, plan: IndividualPlan, consent: Consent) -> IndividualPlan:
    """Resume a plan paused by a withdrawn consent, on a new ``consent``, by the holder of the main
    responsibility. The consent must be the person's, for an individual plan, in force today
    (consent.selectors, the one rule) and granted to every service taking part in the plan. The plan
    rests on it from then on: each participating service but the starting one (which holds the plan
    as its owner) is disclosed the plan again through the ledger, on the new consent; the plan is
    active again and its clocks run again (its revision, its open measures' evaluations, the
    reminders of its meetings to come and of the minutes still owed), kept as a version and logged. Refused (a translated ValidationError, nothing saved) for a plan that is not
    paused, and for a consent not in force, another person's, for another purpose, or not covering a
    participating service. Returns the plan."""
    # The consent before the plan, as a withdrawal (and participant_add) locks them.
    consent = Consent.objects.select_for_update().filter(pk=getattr(consent, "pk", None)).first()
    plan = _plan_lock(plan)
    holder = _require_holder(user, plan)
    if plan.status != S.PAUSED:
        raise ValidationError(_("Only a paused plan can be resumed: this one is “%(status)s”.") % {"status": plan.get_status_display()},
                              code="out_of_order")
    if consent is None or consent.person_id != plan.person_id or not consent_is_active(consent, purpose=PURPOSE):
        raise ValidationError({"consent": _("Choose a consent in force from the person for an individual plan.")})
    services = list(Service.objects.filter(pk__in=participant_service_ids(plan)).order_by("name", "pk"))
    granted = consents_in_force_for({consent.pk}, {service.pk for service in services}, purpose=PURPOSE)
    uncovered = [service.name for service in services if (consent.pk, service.pk) not in granted]
    if uncovered:
        raise ValidationError({"consent": _("The consent does not cover %(services)s, taking part in the plan: record a consent that "
                                            "does, or remove them from the plan first.") % {"services": ", ".join(uncovered)}})
    old_consent = plan.consent_id
    plan.consent, plan.status, plan.paused_at = consent, S.ACTIVE, None
    plan.save(update_fields=["consent", "status", "paused_at", "updated_at"])
    for service in services:
        if service.pk != plan.registered_by_service_id:
            disclosure_record(
                obj=plan, person=plan.person, from_service=holder.service, to_service=service, basis=Disclosure.Basis.CONSENT,
                purpose="individual plan shared", perm=PARTICIPANT_PERM, user=user, consent=consent, consent_purpose=PURPOSE,
            )
    clocks.plan_clocks_start(plan, holder.service)
    meetings_refresh(plan)
    _version(plan, user=user, service=holder.service, change=V.CONTENT,
             changes={"status": [S.PAUSED, S.ACTIVE], "consent": [old_consent, consent.pk]})
    access_log_write(user=user, action="update", obj=plan, person=plan.person, purpose="individual plan resumed (new consent)",
                     service=holder.service)
    return plan
