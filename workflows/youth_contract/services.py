"""Youth contracts (ungdomskontrakt): every state change of a contract happens here.

A contract reaches the follow-up service (and a police service that did not initiate it) only
through ``consent.services.disclosure_record``, on the contract's consent (purpose: youth
contract). Each step is declared once in ``STEPS`` and runs through the step skeleton
(workflows.steps): lock, member of the acting service, status, change, deadlines, task, access log.
"""
import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.services import access_log_write
from consent.models import Consent, Disclosure
from consent.selectors import consent_is_active
from consent.services import consent_record, disclosure_record
from notifications.models import Reminder
from notifications.services import reminder_cancel, reminder_schedule, system_text
from org import permissions
from org.access import require_member
from org.models import Service
from people.models import Guardianship, Person
from people.services import person_get_or_create
from people.validators import LONG_TEXT, SHORT_TEXT, text_limits
from referrals.models import (
    ContractAppointment, ContractBreach, ContractMeasure, ContractParty, ContractResult, ContractSignature, ContractTemplate, YouthContract,
)
from workflows import steps
from workflows.services import deadlines
from workflows.steps import Guard, Opening
from workflows.youth_contract import rules
from workflows.youth_contract.schedule import contract_slots
from workflows.youth_contract.selectors import has_unsigned

PROCESS = "youth_contract"
HANDLER = permissions.YOUTH_CONTRACT_HANDLER
STATUS_VIEWER = permissions.YOUTH_CONTRACT_STATUS
S = YouthContract.Status
R = ContractResult.Outcome
K = ContractAppointment.Kind
POLICE_KIND = Service.Kind.POLITI
# Who follows a contract up (HFU and the health nurse are health services; the rusforebyggende team
# is the substance service), and who may initiate one (police, barnevern, konfliktråd as "other",
# a health or substance service).
FOLLOWUP_KINDS = {Service.Kind.HELSESTASJON, Service.Kind.SKOLEHELSETJENESTE, Service.Kind.RUSTJENESTE}
INITIATOR_KINDS = FOLLOWUP_KINDS | {POLICE_KIND, Service.Kind.BARNEVERN, Service.Kind.OTHER, Service.Kind.SLT}
OUTCOMES_BY_KIND = {K.TEST: (R.NEGATIVE, R.POSITIVE, R.MISSED, R.INVALID), K.CONVERSATION: (R.HELD, R.MISSED)}
SIGNATURE_METHODS = ("signed", "verbal", "digital")

STEPS = steps.Steps(
    process=PROCESS, model=YouthContract, related=("person", "template", "initiating_service", "followup_service", "police_service"),
    url="youth_contracts:detail",
    roles={"followup_service": "followup", "initiating_service": "status", "police_service": "status"},
    out_of_order=gettext_lazy("This step cannot be done now: the contract is “%(status)s”. Reload the page to see its current state."),
)
BY_FOLLOWUP = {"actors": ("followup_service",), "not_member": gettext_lazy("Only the follow-up service can do this.")}
REPORT_DEADLINE = Opening("outcome_report", service="followup_service", perm=HANDLER, when=lambda c: c.variant == "police")
BREACH_DEADLINE = Opening("breach", service="followup_service", perm=HANDLER)


def _end_of_period(contract, met):
    """The start of the day after the contract's last day, in local time."""
    day_after = contract.ends_on + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day_after, datetime.time()))


END_DEADLINE = Opening("contract_end", service="followup_service", perm=HANDLER, starts=_end_of_period)


def _all_signed(contract) -> bool:
    return not has_unsigned(contract, required_only=True)


SIGN = STEPS.add(
    "sign", statuses=(S.AWAITING_SIGNATURES,), **BY_FOLLOWUP, purpose="youth contract signature",
    guards=(Guard(has_unsigned, gettext_lazy("Every party has signed.")),),
)
ACTIVATE = STEPS.add(
    "activate", statuses=(S.AWAITING_SIGNATURES,), **BY_FOLLOWUP, purpose="youth contract activated", task=True,
    guards=(Guard(_all_signed, gettext_lazy("Every party that must sign has to sign before the contract can start.")),),
    meets=("signatures",), opens=(END_DEADLINE,),
)
MEASURE = STEPS.add("measure", statuses=(S.ACTIVE, S.BREACH_ASSESSMENT), **BY_FOLLOWUP, purpose="youth contract measure")
RESULT = STEPS.add("result", statuses=(S.ACTIVE, S.BREACH_ASSESSMENT), **BY_FOLLOWUP, purpose="youth contract result")
# A breaching result in an active contract, and completing or ending it, finish the follow-up task.
FOLLOW_UP = STEPS.add("follow_up", statuses=(S.ACTIVE,), **BY_FOLLOWUP, task=True)  # purpose set per run; the end met by _close
ASSESS = STEPS.add("assess_breach", statuses=(S.BREACH_ASSESSMENT,), **BY_FOLLOWUP, purpose="breach assessed", task=True,
                   meets=("breach",))  # a contract ended as broken meets its end too (breach_decide)
REPORT = STEPS.add(
    "report_outcome", statuses=(S.COMPLETED, S.BROKEN), **BY_FOLLOWUP, purpose="outcome reported to the police", task=True,
    guards=(Guard(lambda c: c.variant == "police" and c.outcome_reported_at is None, gettext_lazy("The outcome has already been reported.")),),
    meets=("outcome_report",),
)
SUSPENDED = STEPS.add("suspended", system=True, actors=(), statuses=YouthContract.OPEN_STATUSES,
                      cancels=("signatures", "breach", "contract_end"), purpose="youth contract suspended (consent withdrawn)")


def case_owner(contract: YouthContract) -> Service:
    """The service that holds the contract: its follow-up service."""
    return contract.followup_service


# --- initiation ----------------------------------------------------------------------------------


def _initiation_errors(*, template, person, initiating_service, followup_service, police_service, starts_on, ends_on,
                       police_decision_on, guardians) -> dict:
    errors: dict[str, list] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if not template.active:
        add("template", _("This contract template is no longer in use."))
    if initiating_service.kind not in INITIATOR_KINDS:
        add("initiating_service", _("%(service)s cannot initiate a youth contract.") % {"service": initiating_service.name})
    if followup_service.kind not in FOLLOWUP_KINDS or not followup_service.active:
        add("followup_service", _("%(service)s does not follow up youth contracts.") % {"service": followup_service.name})
    if template.variant == ContractTemplate.Variant.POLICE:
        if police_service is None or police_service.kind != POLICE_KIND:
            add("police_service", _("A police contract needs the police service that decided it."))
        if police_decision_on is None:
            add("police_decision_on", _("Give the date of the police decision."))
        elif police_decision_on > starts_on:
            add("police_decision_on", _("The police decision must come before the contract starts."))
    elif police_service is not None and police_service.kind != POLICE_KIND:
        add("police_service", _("Only a police service can be the police party."))
    problem = rules.duration_problem(template, starts_on=starts_on, ends_on=ends_on)
    if problem:
        add("ends_on", problem)
    today = timezone.localdate()
    if not today - datetime.timedelta(days=366) <= starts_on <= today + datetime.timedelta(days=366):
        add("starts_on", _("The start date must lie within a year of today."))
    day = rules.eligibility_day(template, police_decision_on=police_decision_on, starts_on=starts_on)
    problem = rules.eligibility_problem(template, birth_date=person.birth_date, on=day)
    if problem:
        add("person", problem)
    elif rules.GUARDIAN in rules.required_roles(template, birth_date=person.birth_date, on=day):
        registered = set(Guardianship.objects.filter(child=person).values_list("guardian_id", flat=True))
        if not guardians:
            add("guardians", _("The young person is under %(age)s: the guardians must be parties to the contract.")
                % {"age": template.guardians_sign_under_age})
        elif any(g.pk not in registered for g in guardians):
            add("guardians", _("Only the young person's registered guardians can be parties as guardians."))
    return errors


@transaction.atomic
def contract_initiate(
    *, user, initiating_service: Service, template: ContractTemplate, person: Person, followup_service: Service, consent: Consent,
    starts_on: datetime.date, ends_on: datetime.date | None = None, police_decision_on: datetime.date | None = None,
    police_service: Service | None = None, guardians=(), police_see_results: bool = False,
) -> YouthContract:
    """Initiate a contract of ``template`` for ``person``, followed up by ``followup_service``.

    ``police_see_results``: the consent, as recorded now, also lets the police party see the tests'
    and conversations' dates and results (selectors.police_sees_results, while the consent is in
    force for the police); only here, with the consent, is it set. Refused without a police party.

    Refused (a translated ValidationError by field, nothing saved) when the person is outside the
    template's ages on the eligibility day (rules.eligibility_day), the period is reversed or too
    long, a required party is missing, or the consent does not cover the follow-up service (and a
    police service that did not initiate it) for a youth contract. The police service defaults to
    the initiating service when that is the police. Returns the contract, awaiting signatures.
    """
    require_member(user, initiating_service, _("You are not a member of the initiating service."))
    if police_service is None and initiating_service.kind == POLICE_KIND:
        police_service = initiating_service
    ends_on = ends_on or starts_on + relativedelta(months=template.default_months)
    guardians = list(guardians)
    errors = _initiation_errors(
        template=template, person=person, initiating_service=initiating_service, followup_service=followup_service,
        police_service=police_service, starts_on=starts_on, ends_on=ends_on, police_decision_on=police_decision_on, guardians=guardians,
    )
    if police_see_results and police_service is None:
        errors.setdefault("police_see_results", []).append(
            _("Only a contract with the police as a party can let the police see test results and conversations."))
    if not errors and police_service is not None and not consent_is_active(consent, service=police_service, purpose=Consent.Purpose.YOUTH_CONTRACT):
        # The outcome is reported to the police on this consent (outcome_report): it must cover them from the start.
        errors["consent"] = [_("The consent must also cover sharing with %(service)s: the outcome is reported to the police.")
                             % {"service": police_service.name}]
    if errors:
        raise ValidationError(errors)
    day = rules.eligibility_day(template, police_decision_on=police_decision_on, starts_on=starts_on)
    required = rules.required_roles(template, birth_date=person.birth_date, on=day)
    contract = YouthContract.objects.create(
        template=template, variant=template.variant, person=person, initiating_service=initiating_service,
        followup_service=followup_service, police_service=police_service, created_by=user, consent=consent,
        police_decision_on=police_decision_on if template.variant == ContractTemplate.Variant.POLICE else None,
        starts_on=starts_on, ends_on=ends_on, conditions=list(template.default_conditions), police_see_results=police_see_results,
    )
    P = ContractParty.Role
    ContractParty.objects.create(contract=contract, role=P.YOUNG_PERSON, person=person, required=True)
    for guardian in guardians:
        ContractParty.objects.create(contract=contract, role=P.GUARDIAN, person=guardian, required=rules.GUARDIAN in required)
    if police_service is not None:
        ContractParty.objects.create(contract=contract, role=P.POLICE, service=police_service, required=rules.POLICE in required)
    ContractParty.objects.create(contract=contract, role=P.FOLLOWUP, service=followup_service, required=rules.FOLLOWUP in required)
    # The initiator follows status and outcome as the contract's owner; the follow-up service and a
    # police party that did not initiate it hold theirs through the ledger, on the contract's consent.
    permissions.grant_to_service(perm=STATUS_VIEWER, obj=contract, service=initiating_service)
    _disclose(contract, to_service=followup_service, perm=HANDLER, user=user, purpose="youth contract")
    if police_service is not None and police_service != initiating_service:
        _disclose(contract, to_service=police_service, perm=STATUS_VIEWER, user=user, purpose="youth contract (status and outcome)")
    STEPS.flow_class().start.run(contract=contract)
    STEPS.open_deadline(contract, Opening("signatures", service="followup_service", perm=HANDLER))
    STEPS.notify(contract, service=followup_service, perm=HANDLER, key="initiated", topic=gettext_noop("New youth contract"),
                 message=system_text(gettext_noop("%(ref)s: a new youth contract to follow up"), ref=contract.reference))
    deadlines.next_deadline_refresh(contract)
    access_log_write(user=user, action="create", obj=contract, person=person, purpose="youth contract initiated", service=initiating_service)
    return contract


def _disclose(contract, *, to_service, perm, user, purpose, from_service=None) -> Disclosure:
    return disclosure_record(
        obj=contract, person=contract.person, from_service=from_service or contract.initiating_service, to_service=to_service,
        basis=Disclosure.Basis.CONSENT, purpose=purpose, perm=perm, user=user, consent=contract.consent,
        consent_purpose=Consent.Purpose.YOUTH_CONTRACT, acting_service=from_service,
    )


@transaction.atomic
def contract_register(
    *, user, initiating_service: Service, template: ContractTemplate, followup_service: Service, national_id: str, given_name: str,
    family_name: str, guardians: list[dict], consent_method: str, starts_on: datetime.date, ends_on: datetime.date | None = None,
    police_decision_on: datetime.date | None = None, police_service: Service | None = None, police_see_results: bool = False,
) -> YouthContract:
    """The initiation form's one call: register the young person and the guardians (each
    ``{"national_id", "given_name", "family_name"}``) as the initiating service's records, record the
    contract's consent (given by the young person and the guardians, shared with the follow-up
    service and the police party; with ``police_see_results`` its text says the police see the tests'
    and conversations' dates and results too), then contract_initiate. All or nothing."""
    require_member(user, initiating_service, _("You are not a member of the initiating service."))
    muni = initiating_service.municipality
    person = person_get_or_create(user=user, given_name=given_name, family_name=family_name, national_id=national_id,
                                  municipality=muni, service=initiating_service)
    guardian_persons = []
    for g in guardians:
        guardian = person_get_or_create(user=user, given_name=g["given_name"], family_name=g.get("family_name", ""),
                                        national_id=g["national_id"], municipality=muni, service=initiating_service)
        if guardian.pk == person.pk:
            raise ValidationError({"guardians": _("A young person cannot be their own guardian.")})
        Guardianship.objects.get_or_create(child=person, guardian=guardian)
        guardian_persons.append(guardian)
    police = police_service or (initiating_service if initiating_service.kind == POLICE_KIND else None)
    # The police party is a grantee even when it initiated: the outcome comes back to it from the follow-up service.
    grantees = [followup_service] + ([police] if police is not None else [])
    information = _("The youth contract: its parties, period, conditions, tests, conversations and outcome.")
    if police_see_results:
        information += " " + _("The police may also see the dates and results of the tests and conversations (not the notes).")
    consent = consent_record(
        user=user, service=initiating_service, person=person, purpose=Consent.Purpose.YOUTH_CONTRACT,
        information=information,
        grantees=grantees, valid_from=min(starts_on, timezone.localdate()), method=consent_method, given_by_person=True,
        guardians=guardian_persons, valid_to=(ends_on or starts_on + relativedelta(months=template.default_months)) + relativedelta(months=3),
    )
    return contract_initiate(
        user=user, initiating_service=initiating_service, template=template, person=person, followup_service=followup_service,
        consent=consent, starts_on=starts_on, ends_on=ends_on, police_decision_on=police_decision_on, police_service=police_service,
        guardians=guardian_persons, police_see_results=police_see_results,
    )


# --- signatures and the start ----------------------------------------------------------------------


@transaction.atomic
def contract_sign(*, contract: YouthContract, user, party_code, method: str, signed_on: datetime.date) -> ContractSignature:
    """Record a party's signature (how obtained, on which day; by whom and when is the user and now).

    Refused for anyone who is not a party to this contract (a forged or foreign party code), a party
    that has signed already, a date in the future or before the contract was initiated."""
    with SIGN.run(contract, user=user) as run:
        contract = run.record
        party = contract.parties.filter(code=_uuid(party_code)).first() if _uuid(party_code) else None
        if party is None:
            raise ValidationError({"party": _("Only a party to this contract can sign it.")}, code="not_party")
        if hasattr(party, "signature"):
            raise ValidationError({"party": _("This party has already signed.")}, code="out_of_order")
        if method not in SIGNATURE_METHODS:
            raise ValidationError({"method": _("Say how the signature was obtained.")})
        if signed_on > timezone.localdate():
            raise ValidationError({"signed_on": _("A signature cannot be dated in the future.")})
        if signed_on < timezone.localtime(contract.created_at).date():
            raise ValidationError({"signed_on": _("A signature cannot be dated before the contract was initiated.")})
        signature = ContractSignature.objects.create(party=party, signed_on=signed_on, method=method, recorded_by=user)
    return signature


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


@transaction.atomic
def contract_activate(*, contract: YouthContract, user, activation=None) -> YouthContract:
    """Start a fully signed contract: it becomes active and its tests and conversations are
    scheduled on working days (schedule.contract_slots), each with its reminder and escalation."""
    with ACTIVATE.run(contract, user=user, activation=activation) as run:
        contract = run.record
        contract.status = S.ACTIVE
        contract.activated_at = timezone.now()
        contract.save(update_fields=["status", "activated_at", "updated_at"])
        slots = contract_slots(contract.template, starts_on=contract.starts_on, ends_on=contract.ends_on)
        appointments = ContractAppointment.objects.bulk_create(
            [ContractAppointment(contract=contract, kind=s.kind, planned_on=s.planned_on, on=s.on, sms_text=sms_text(s.on)) for s in slots]
        )
        for appointment in appointments:
            _appointment_reminders(contract, appointment)
    return contract


def _appointment_obligation(appointment) -> str:
    return f"{PROCESS}:appointment:{appointment.pk}"


def _appointment_reminders(contract, appointment) -> None:
    """The reminder before an appointment to the follow-up staff and, when no result is registered
    by the end of its day, the escalation to the service's leaders: rows timed by the "appointment"
    policy (workflows.DeadlinePolicy), cancelled when the result is recorded. Texts name the
    contract's reference only."""
    policy = deadlines.policy_get(PROCESS, "appointment")
    day_start = timezone.make_aware(datetime.datetime.combine(appointment.on, datetime.time()))
    due = policy.due_from(day_start)
    kind = ContractAppointment.Kind(appointment.kind).label
    obligation = _appointment_obligation(appointment)
    url = STEPS.url(contract)
    remind_at = policy.remind_at(due)
    if remind_at is not None:
        reminder_schedule(
            key=f"{obligation}:remind", obligation=obligation, kind=Reminder.Kind.REMINDER, service=contract.followup_service,
            audience=policy.remind, subject=contract, required_perm=HANDLER, due_at=remind_at, url=url, topic=policy.title,
            deadline_at=due, message=system_text(gettext_noop("%(ref)s: %(kind)s on %(day)s"), ref=contract.reference,
                                                 kind=str(kind).lower(), day=appointment.on.strftime("%d.%m.%Y")),
        )
    reminder_schedule(
        key=f"{obligation}:escalate", obligation=obligation, kind=Reminder.Kind.ESCALATION, service=contract.followup_service,
        audience=Reminder.Audience.LEADERS, subject=contract, required_perm=HANDLER, due_at=due, url=url, topic=policy.title,
        deadline_at=due, message=system_text(gettext_noop("%(ref)s: no result registered for the %(kind)s on %(day)s"),
                                             ref=contract.reference, kind=str(kind).lower(), day=appointment.on.strftime("%d.%m.%Y")),
    )


def sms_text(day: datetime.date) -> str:
    """The SMS-ready text for the young person (stored with the appointment, never sent by the
    platform): no name, no kind of service, only the day."""
    return system_text(gettext_noop("Reminder: you have an appointment on %(day)s. Reply or call if you cannot come."),
                       day=day.strftime("%d.%m.%Y"))


# --- measures: programmes and theme evenings ------------------------------------------------------


@transaction.atomic
def measure_record(*, contract: YouthContract, user, kind: str, enrolled_on: datetime.date | None = None, attended: int = 0,
                   missed: int = 0, measure_code=None) -> ContractMeasure:
    """Enrol the young person (or the guardians) in a programme or theme evening, or, with
    ``measure_code``, update the sessions attended and missed of one of the contract's measures."""
    with MEASURE.run(contract, user=user) as run:
        contract = run.record
        if attended < 0 or missed < 0 or attended > 100 or missed > 100:
            raise ValidationError({"attended": _("Give the number of sessions (0 to 100).")})
        if measure_code:
            measure = contract.measures.filter(code=_uuid(measure_code)).first() if _uuid(measure_code) else None
            if measure is None:
                raise ValidationError({"measure": _("Choose one of this contract's measures.")})
            measure.sessions_attended, measure.sessions_missed, measure.recorded_by = attended, missed, user
            measure.save(update_fields=["sessions_attended", "sessions_missed", "recorded_by", "updated_at"])
            return measure
        if kind not in ContractMeasure.Kind.values:
            raise ValidationError({"kind": _("Choose a measure.")})
        enrolled_on = enrolled_on or timezone.localdate()
        if not contract.starts_on <= enrolled_on <= contract.ends_on:
            raise ValidationError({"enrolled_on": _("The date must lie within the contract (%(start)s to %(end)s).")
                                   % {"start": contract.starts_on.strftime("%d.%m.%Y"), "end": contract.ends_on.strftime("%d.%m.%Y")}})
        measure = ContractMeasure.objects.create(contract=contract, kind=kind, enrolled_on=enrolled_on, sessions_attended=attended,
                                                 sessions_missed=missed, recorded_by=user)
    return measure


# --- results, breaches, the end --------------------------------------------------------------------


@transaction.atomic
def result_record(
    *, contract: YouthContract, user, kind: str, outcome: str, taken_on: datetime.date | None = None, appointment_code=None, note: str = "",
    activation=None,
) -> ContractResult:
    """Log a test result or a conversation, for a scheduled appointment or on its own.

    A positive or missed test, or a missed conversation (the young person did not come), in an
    active contract opens a breach assessment (with its deadline) and ends the follow-up task;
    during an assessment it adds to it. Refused for a date outside the
    contract or in the future, an outcome that does not fit the kind, a foreign appointment or one
    already logged. The appointment's reminders are cancelled."""
    locked = STEPS.lock(contract)
    breach = ContractResult.opens_breach(kind, outcome)
    step = FOLLOW_UP if breach and locked.status == S.ACTIVE else RESULT
    with step.run(contract, user=user, activation=activation) as run:
        contract = run.record
        run.purpose = "youth contract result"
        if kind not in OUTCOMES_BY_KIND or outcome not in OUTCOMES_BY_KIND[kind]:
            raise ValidationError({"outcome": _("Choose a result that fits a %(kind)s.") % {"kind": _kind_label(kind)}})
        appointment = None
        if appointment_code:
            appointment = contract.appointments.filter(code=_uuid(appointment_code), cancelled_at__isnull=True).first() if _uuid(appointment_code) else None
            if appointment is None or appointment.kind != kind:
                raise ValidationError({"appointment": _("Choose one of this contract's appointments.")})
            if hasattr(appointment, "result"):
                raise ValidationError({"appointment": _("A result has already been logged for this appointment.")}, code="out_of_order")
            taken_on = taken_on or appointment.on
        if taken_on is None:
            raise ValidationError({"taken_on": _("Give the date.")})
        if not contract.starts_on <= taken_on <= contract.ends_on:
            raise ValidationError({"taken_on": _("The date must lie within the contract (%(start)s to %(end)s).")
                                   % {"start": contract.starts_on.strftime("%d.%m.%Y"), "end": contract.ends_on.strftime("%d.%m.%Y")}})
        if taken_on > timezone.localdate():
            raise ValidationError({"taken_on": _("A result cannot be logged for a future date.")})
        text_limits(note=(note, LONG_TEXT))
        result = ContractResult.objects.create(contract=contract, appointment=appointment, kind=kind, taken_on=taken_on,
                                               outcome=outcome, note=(note or "").strip(), recorded_by=user)
        if appointment is not None:
            reminder_cancel(obligation=_appointment_obligation(appointment))
        if breach:
            ContractBreach.objects.create(contract=contract, result=result)
            if contract.status == S.ACTIVE:
                contract.status = S.BREACH_ASSESSMENT
                contract.save(update_fields=["status", "updated_at"])
                STEPS.open_deadline(contract, BREACH_DEADLINE)
                run.purpose = "breach opened"
    return result


def _kind_label(kind):
    try:
        return str(ContractAppointment.Kind(kind).label).lower()
    except ValueError:
        return kind


@transaction.atomic
def breach_decide(*, contract: YouthContract, user, decision: str, note: str, conditions: list[str] | None = None,
                  activation=None) -> YouthContract:
    """Decide the open breach assessment: talk and continue, continue on new conditions, or end the
    contract as broken (its remaining appointments cancelled; a police contract's outcome report opened)."""
    with ASSESS.run(contract, user=user, activation=activation) as run:
        contract = run.record
        D = ContractBreach.Decision
        if decision not in D.values:
            raise ValidationError({"decision": _("Choose a decision.")})
        if not (note or "").strip():
            raise ValidationError({"note": _("Write down the assessment.")})
        text_limits(note=(note, SHORT_TEXT))
        if decision == D.NEW_CONDITIONS:
            unknown = set(conditions or ()) - set(ContractTemplate.Condition.values)
            if not conditions or unknown:
                raise ValidationError({"conditions": _("Choose the new conditions.")})
        now = timezone.now()
        contract.breaches.filter(decided_at__isnull=True).update(decision=decision, note=note.strip(), decided_at=now, decided_by=user)
        if decision == D.BROKEN:
            _close(contract, S.BROKEN, _("The contract was ended as broken."))
            STEPS.open_deadline(contract, REPORT_DEADLINE)
        else:
            contract.status = S.ACTIVE
            fields = ["status", "updated_at"]
            if decision == D.NEW_CONDITIONS:
                contract.conditions = list(conditions)
                fields.append("conditions")
            contract.save(update_fields=fields)
    return contract


def _close(contract, status, outcome, *, meets_end=True):
    if meets_end:
        deadlines.deadline_meet(subject=contract, process=PROCESS, step="contract_end")
    contract.status = status
    contract.outcome = outcome
    contract.closed_at = timezone.now()
    contract.save(update_fields=["status", "outcome", "closed_at", "updated_at"])
    for appointment in contract.appointments.filter(cancelled_at__isnull=True, result__isnull=True, on__gt=timezone.localdate()):
        reminder_cancel(obligation=_appointment_obligation(appointment))
    contract.appointments.filter(cancelled_at__isnull=True, result__isnull=True, on__gt=timezone.localdate()).update(cancelled_at=timezone.now())


@transaction.atomic
def contract_complete(*, contract: YouthContract, user, completed: bool = True, outcome: str = "", activation=None) -> YouthContract:
    """End an active contract: completed (its conditions met), or, for a voluntary one, ended early
    with a reason. A police contract can only be completed here; a breach ends it as broken."""
    with FOLLOW_UP.run(contract, user=user, activation=activation) as run:
        contract = run.record
        if completed:
            run.purpose = "youth contract completed"
            text_limits(outcome=(outcome, SHORT_TEXT))
            _close(contract, S.COMPLETED, (outcome or "").strip() or _("The contract was completed."))
            STEPS.open_deadline(contract, REPORT_DEADLINE)
        else:
            if contract.variant == ContractTemplate.Variant.POLICE:
                raise ValidationError(_("A police contract ends either completed or broken (through a breach assessment)."))
            if not (outcome or "").strip():
                raise ValidationError({"outcome": _("Say why the contract ended.")})
            run.purpose = "youth contract ended"
            text_limits(outcome=(outcome, SHORT_TEXT))
            _close(contract, S.ENDED, outcome.strip())
    return contract


@transaction.atomic
def outcome_report(*, contract: YouthContract, user, activation=None) -> YouthContract:
    """Report a police contract's outcome (completed or broken) to the police, through the ledger."""
    with REPORT.run(contract, user=user, activation=activation) as run:
        contract = run.record
        _disclose(contract, to_service=contract.police_service, perm=STATUS_VIEWER, user=user,
                  purpose="youth contract outcome to the police", from_service=contract.followup_service)
        contract.outcome_reported_at = timezone.now()
        contract.save(update_fields=["outcome_reported_at", "updated_at"])
        run.notify(contract.police_service, STATUS_VIEWER, "outcome", topic=gettext_noop("Outcome of a youth contract"),
                   message=system_text(gettext_noop("%(ref)s: the youth contract is “%(status)s”"), ref=contract.reference,
                                       status=YouthContract.Status(contract.status).label))
    return contract


# --- a person merge ---------------------------------------------------------------------------------


def contract_parties_merge(*, source: Person, target: Person) -> None:
    """The youth contract's merge hook (people.services.person_merge, before the rows move): on a
    contract where both ``source`` and ``target`` are parties (two records of one guardian), one
    party remains: the young person's if either is (the contract's person moves to ``target`` too),
    else ``target``'s. It keeps a signature the other party row had and it lacked, and must sign if
    either had to. The other row is deleted (with a signature the kept one already has). The
    contract's person, the remaining parties and the consent's persons are re-pointed by the
    declared holdings afterwards. Runs inside the merge's transaction."""
    both = ContractParty.objects.filter(person=source, contract__parties__person=target).values_list("contract_id", flat=True)
    for contract_id in list(both):
        rows = {p.person_id: p for p in ContractParty.objects.filter(contract_id=contract_id, person__in=(source, target))
                .select_related("signature")}
        mine, theirs = rows[source.pk], rows[target.pk]
        keep, drop = (mine, theirs) if mine.role == ContractParty.Role.YOUNG_PERSON else (theirs, mine)
        if drop.required and not keep.required:
            keep.required = True
            keep.save(update_fields=["required"])
        if hasattr(drop, "signature") and not hasattr(keep, "signature"):
            ContractSignature.objects.filter(pk=drop.signature.pk).update(party=keep)
        drop.delete()


# --- consent withdrawn ------------------------------------------------------------------------------


def contracts_end_on_withdrawal(*, consent: Consent, user, revoked: list[Disclosure]) -> list[YouthContract]:
    """The youth contract's part of a consent withdrawal (workflows.withdrawal): every open contract
    resting on the consent is suspended, with its tasks, deadlines and remaining appointments. Runs
    inside the withdrawal's transaction. Returns the contracts suspended."""
    suspended = []
    for contract in YouthContract.objects.filter(consent=consent, status__in=YouthContract.OPEN_STATUSES):
        try:
            with SUSPENDED.run(contract, user=user, acting_service=consent.recorded_by_service) as run:
                _close(run.record, S.SUSPENDED, _("The consent was withdrawn."), meets_end=False)
                STEPS.process_cancel(run.record)
        except ValidationError as e:
            if getattr(e, "code", None) == "out_of_order":
                continue
            raise
        suspended.append(run.record)
    return suspended
