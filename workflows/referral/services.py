"""Contacts and referrals: every state change of a referral happens here.

A referral reaches a service only through ``consent.services.disclosure_record`` (a consent or
a cited statutory basis for that recipient and purpose). Statuses follow FHIR Task; each change
writes a ReferralEvent, which is what the sender sees of the loop. Each step is declared once in
``STEPS`` and runs through the step skeleton (workflows.steps).
"""
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.services import access_log_deferred, access_log_write
from consent.models import Consent, Disclosure, LegalBasis
from consent.services import disclosure_record, disclosures_pending_cancel
from notifications.services import reminders_schedule, system_text
from org import batch, permissions
from org.access import require_member
from org.compiled import CompiledQuery, objects_together
from org.models import Service
from people.models import Person, PersonRecord
from referrals import contact_stats
from referrals.models import CatalogueEntry, Contact, Referral, ReferralEvent
from people.services import person_get_or_create, person_merge, person_record_set
from people.validators import MAX_AGE_YEARS, MEDIUM_TEXT, LONG_TEXT, NAME_LENGTH, SHORT_TEXT, parse_national_id, text_limits
from workflows import steps
from workflows.services import deadlines
from workflows.steps import Guard, Opening

PROCESS = "referral"
SENDER = permissions.REFERRAL_SENDER
HANDLER = permissions.REFERRAL_HANDLER
ROUTER = permissions.REFERRAL_ROUTER
CONTACT = permissions.CONTACT_HANDLER
ROUTING_KINDS = {Service.Kind.RUSTJENESTE}
S = Referral.Status

STEPS = steps.Steps(
    process=PROCESS, model=Referral, related=("person", "sender_service", "target_service", "routing_service"),
    url="referrals:detail", roles={"sender_service": "sender", "target_service": "handler", "routing_service": "router"},
    out_of_order=gettext_lazy("This step cannot be done now: the referral is “%(status)s”. Reload the page to see its current state."),
)
BY_RECEIVER = {"actors": ("target_service",), "not_member": gettext_lazy("Only the receiving service can do this.")}
ANSWER_DEADLINE = Opening("answer", service="target_service", perm=HANDLER)
ROUTING_DEADLINE = Opening("routing", service="routing_service", perm=ROUTER, starts=lambda r, met: r.sent_at)

# The coordinator (rustjeneste).
ROUTE = STEPS.add(
    "route", statuses=(S.REQUESTED,), actors=("routing_service",), purpose="referral routed",
    not_member=gettext_lazy("Only the coordinating service can route this referral."),
    guards=(Guard(lambda r: r.target_service_id is None, gettext_lazy("This referral has already been routed.")),),
    task=True, meets=("routing",), opens=(ANSWER_DEADLINE,),
)
# The receiving service.
RECEIVE = STEPS.add("receive", statuses=(S.REQUESTED,), **BY_RECEIVER, purpose="referral received", task=True)
DECIDE = STEPS.add("decide", statuses=(S.RECEIVED,), **BY_RECEIVER, task=True, meets=("answer",))  # purpose: accepted or declined
PROGRESS = {
    S.IN_PROGRESS: STEPS.add("in_progress", statuses=(S.ACCEPTED, S.ON_HOLD), **BY_RECEIVER, purpose="referral in progress"),
    S.ON_HOLD: STEPS.add("on_hold", statuses=(S.ACCEPTED, S.IN_PROGRESS), **BY_RECEIVER, purpose="referral on hold"),
}
NOTES = STEPS.add("notes", statuses=(S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD), **BY_RECEIVER, purpose="referral notes")
CLOSE = STEPS.add("close", statuses=(S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD), **BY_RECEIVER, task=True)  # purpose: completed or failed
# The sender (and, for a declined referral it routed, the coordinator).
CANCEL = STEPS.add(
    "cancel", statuses=Referral.OPEN_STATUSES, actors=("sender_service",), purpose="referral cancelled",
    not_member=gettext_lazy("Only the sending service can cancel the referral."), cancels=("routing", "answer"),
)
# System steps: the platform ends a referral when its consent is withdrawn or its legal basis refused.
WITHDRAWN = STEPS.add(
    "withdrawn", system=True, actors=(), statuses=Referral.OPEN_STATUSES, cancels=CANCEL.cancels,
    purpose="referral cancelled (consent withdrawn)",
)
BASIS_REFUSED = STEPS.add(
    "basis_refused", system=True, actors=(), statuses=Referral.OPEN_STATUSES, purpose="referral basis not approved",
)
FORWARD = STEPS.add(
    "forward", statuses=(S.REJECTED,), actors=("routing_service", "sender_service"), purpose="referral forwarded",
    not_member=gettext_lazy("Only the coordinator or the sender can forward this referral."),
    guards=(Guard(lambda r: not hasattr(r, "forwarded_to"), gettext_lazy("This referral has already been forwarded.")),),
)


def _event(referral, status, service, reason=""):
    """Add a status to the referral's closed loop. Nobody reads the row back in the step: it goes
    with the step's next statement (org.batch)."""
    batch.write_soon(*batch.insert_sql(ReferralEvent, [ReferralEvent(referral=referral, status=status, service=service, reason=reason)],
                                       using=DEFAULT_DB_ALIAS))


def _set_status(run, status, service, reason="", *, closing=False, extra_fields=()):
    """The step's referral gets ``status`` (written with the step's closing UPDATE: Run.save)."""
    referral = run.record
    referral.status = status
    fields = ["status", *extra_fields]
    if reason:
        referral.status_reason = reason
        fields.append("status_reason")
    if closing:
        referral.closed_at = timezone.now()
        fields.append("closed_at")
    run.save(*fields)
    _event(referral, status, service, reason)


# --- contacts and identity ---------------------------------------------------------------------


@transaction.atomic
def contact_register(
    *, user, service: Service, given_name: str, approx_age: int | None = None, summary: str = "", person: Person | None = None,
    national_id: str = "", family_name: str = "",
) -> Contact:
    """Register an enquiry about ``person``; with a ``national_id`` the person is registered first
    (people.services.person_get_or_create); with neither, a minimal person is created (first name
    and age)."""
    require_member(user, service, _("You are not a member of this service."))
    if person is None and national_id:
        person = person_get_or_create(
            user=user, given_name=given_name, family_name=family_name, national_id=national_id,
            municipality=service.municipality, service=service,
        )
    text_limits(given_name=(given_name, NAME_LENGTH), summary=(summary, MEDIUM_TEXT))
    if person is None:
        errors = {}
        if not (given_name or "").strip():
            errors["given_name"] = _("Give at least a first name.")
        if approx_age is None:
            errors["approx_age"] = _("Give the person's age (approximately).")
        elif not 0 <= approx_age <= MAX_AGE_YEARS:
            errors["approx_age"] = _("The age must be a realistic number.")
        if errors:
            raise ValidationError(errors)
        person = Person.objects.create(given_name=given_name.strip(), approx_age=approx_age, municipality=service.municipality)
        person_record_set(person=person, service=service, given_name=given_name)
        access_log_write(user=user, action="create", obj=person, person=person, purpose="contact registered", service=service)
    contact = Contact.objects.create(service=service, person=person, summary=(summary or "").strip(), created_by=user)
    contact_stats.contact_registered(contact)
    permissions.grant_to_service(perm=CONTACT, obj=contact, service=service)
    access_log_write(user=user, action="create", obj=contact, person=person, purpose="contact registered", service=service)
    return contact


@transaction.atomic
def person_identify(*, user, contact: Contact, national_id: str, family_name: str = "", given_name: str = "") -> Person:
    """Upgrade a contact's minimal person to an identified one (one way).

    If the number belongs to a person already registered, every row that holds the minimal person
    (people.holders: contacts, consents, referrals, concerns, guardianships, ...) moves to that person
    and the minimal record points to it (``merged_into``).
    """
    require_member(user, contact.service, _("You are not a member of this service."))
    text_limits(given_name=(given_name, NAME_LENGTH), family_name=(family_name, NAME_LENGTH))
    number, kind, birth = parse_national_id(national_id)
    minimal = Person.objects.select_for_update().get(pk=contact.person_id)
    if minimal.national_id:
        raise ValidationError(_("This person is already identified."), code="out_of_order")
    existing = Person.objects.filter(national_id=number).exclude(pk=minimal.pk).first()
    own = PersonRecord.objects.filter(person=minimal, service=contact.service).first()
    typed_given = given_name.strip() or (own.given_name if own else minimal.given_name)
    typed_family = family_name.strip() or (own.family_name if own else "")
    if existing is None:
        minimal.national_id, minimal.id_kind, minimal.birth_date = number, kind, birth
        minimal.approx_age = None
        if family_name.strip():
            minimal.family_name = family_name.strip()
        if given_name.strip():
            minimal.given_name = given_name.strip()
        try:
            # A savepoint: the number may be registered by a transaction that commits while this one
            # waits on the number's key; then the contact is that person's, merged as below.
            with transaction.atomic():
                minimal.save()
        except IntegrityError:
            minimal.refresh_from_db()
            existing = Person.objects.get(national_id=number)
    if existing is None:
        person_record_set(person=minimal, service=contact.service, given_name=typed_given, family_name=typed_family)
        access_log_write(user=user, action="update", obj=minimal, person=minimal, purpose="identified", service=contact.service)
        return minimal
    # The number is a known person's: link to it, but the service keeps seeing only its own record
    # (the name as typed here), never what other services registered.
    person_merge(source=minimal, target=existing)
    person_record_set(person=existing, service=contact.service, given_name=typed_given, family_name=typed_family)
    access_log_write(user=user, action="update", obj=existing, person=existing, purpose="identified (merged contact)", service=contact.service)
    return existing


# --- eligibility -------------------------------------------------------------------------------


def eligibility_errors(*, service: Service, person: Person, kind: str) -> list[str]:
    """Why ``service`` cannot take this referral (empty list: eligible), from its catalogue entry."""
    # The entry and its areas in one round trip, each statement compiled once (org.compiled): every
    # referral sent, routed or forwarded asks.
    entries, areas = objects_together((_CATALOGUE_ENTRY, None, {"service_id": service.pk}), (_CATALOGUE_AREAS, None, {"service_id": service.pk}))
    entry = entries[0] if entries else None
    if entry is None:
        return [_("%(service)s is not in the service catalogue and does not take referrals here.") % {"service": service.name}]
    problems = []
    if not service.active:
        problems.append(_("%(service)s is not active.") % {"service": service.name})
    if kind not in entry.accepts:
        problems.append(_("%(service)s does not take referrals of this kind.") % {"service": service.name})
    age = person.age_on(timezone.localdate())
    if (entry.min_age is not None or entry.max_age is not None) and age is None:
        problems.append(_("The person's age is unknown; %(service)s takes %(range)s.") % {"service": service.name, "range": entry.age_range_label()})
    elif age is not None and ((entry.min_age is not None and age < entry.min_age) or (entry.max_age is not None and age > entry.max_age)):
        problems.append(
            _("%(service)s takes %(range)s; the person is %(age)s.") % {"service": service.name, "range": entry.age_range_label(), "age": age}
        )
    if areas and person.municipality_id and person.municipality_id not in {a.municipality_id for a in areas}:
        problems.append(_("%(service)s does not serve the person's municipality.") % {"service": service.name})
    if entry.capacity == CatalogueEntry.Capacity.CLOSED:
        problems.append(_("%(service)s is closed for referrals right now.") % {"service": service.name})
    return problems


def _catalogue_entry(service_id):
    return CatalogueEntry.objects.filter(service_id=service_id).order_by()[:1]


def _catalogue_areas(service_id):
    return CatalogueEntry.areas.through.objects.filter(catalogueentry__service_id=service_id).order_by()


_CATALOGUE_ENTRY = CompiledQuery(_catalogue_entry, "service_id")
_CATALOGUE_AREAS = CompiledQuery(_catalogue_areas, "service_id")


def _require_eligible(service, person, kind):
    problems = eligibility_errors(service=service, person=person, kind=kind)
    if problems:
        raise ValidationError({"target_service": problems})


def _disclose(referral, *, to_service, perm, user, from_service, consent, basis, legal_reference, legal_basis=None) -> Disclosure:
    return disclosure_record(
        obj=referral, person=referral.person, from_service=from_service, to_service=to_service,
        basis=basis, legal_reference=legal_reference, legal_basis=legal_basis, purpose="henvisning", perm=perm, user=user,
        consent=consent, consent_purpose=Consent.Purpose.REFERRAL,
    )


# --- the referral lifecycle --------------------------------------------------------------------


@transaction.atomic
@access_log_deferred()
def referral_send(
    *,
    user,
    sender_service: Service,
    person: Person,
    kind: str,
    reason: str,
    target_service: Service | None = None,
    routing_service: Service | None = None,
    consent: Consent | None = None,
    basis: str = Disclosure.Basis.CONSENT,
    legal_reference: str = "",
    legal_basis: LegalBasis | None = None,
    contact: Contact | None = None,
    forwarded_from: Referral | None = None,
) -> Referral:
    """Send a referral straight to a catalogue service, or to a coordinator's routing queue.

    Requires a legal basis for the recipient (checked by consent/) and, for a direct referral,
    eligibility (age range, area, kind accepted, not closed). Nothing is shared otherwise.
    """
    require_member(user, sender_service, _("You are not a member of the sending service."))
    if (target_service is None) == (routing_service is None):
        raise ValidationError(_("Send the referral either to a service or to a coordinator, not both."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say what the referral is about.")})
    text_limits(reason=(reason, MEDIUM_TEXT))
    if kind not in dict(Referral._meta.get_field("kind").choices):
        raise ValidationError({"kind": _("Choose what the referral is for.")})
    if target_service is not None:
        if target_service == sender_service:
            raise ValidationError({"target_service": _("A service cannot refer to itself.")})
        _require_eligible(target_service, person, kind)
    elif routing_service.kind not in ROUTING_KINDS:
        raise ValidationError({"routing_service": _("Only a substance service coordinator routes referrals.")})
    referral = Referral.objects.create(
        person=person, sender_service=sender_service, created_by=user, kind=kind, reason=reason.strip(),
        target_service=target_service, routing_service=routing_service, consent=consent, contact=contact,
        forwarded_from=forwarded_from, sent_at=timezone.now(),
    )
    event_reason = _("Forwarded from %(ref)s") % {"ref": forwarded_from.reference} if forwarded_from else ""
    return _dispatch(referral, user=user, from_service=sender_service, consent=consent, basis=basis,
                     legal_reference=legal_reference, legal_basis=legal_basis, event_reason=event_reason, purpose="referral sent")


def case_owner(referral: Referral) -> Service:
    """The service that holds the referral now: its receiving (or routing) service once delivered,
    else the sender (its legal basis still awaits a leader's approval)."""
    if not hasattr(referral, "process"):
        return referral.sender_service
    return referral.target_service or referral.routing_service or referral.sender_service


# The access log's purpose of a sending that waits for a leader's approval of its legal basis.
AWAITING_APPROVAL = {"referral sent": "referral sent (awaiting approval)", "referral forwarded": "referral forwarded (awaiting approval)"}


def _dispatch(referral, *, user, from_service, consent, basis, legal_reference, event_reason, purpose, legal_basis=None) -> Referral:
    """Share a new referral with its next recipient and start its process and clocks.

    The recipient is the target service if set (with its answer deadline), else the coordinator
    (with the routing deadline). The sender's group follows the referral; a coordinator that
    routes a referral it forwards keeps following it too. On a legal basis that requires approval
    the referral waits, requested but not delivered (see _deliver), until a leader approves it.
    """
    permissions.grant_to_service(perm=SENDER, obj=referral, service=referral.sender_service)
    if referral.target_service:
        recipient, perm = referral.target_service, HANDLER
        if referral.routing_service:
            _disclose_to_router_again(referral, user=user)
    else:
        recipient, perm = referral.routing_service, ROUTER
    disclosure = _disclose(referral, to_service=recipient, perm=perm, user=user, from_service=from_service,
                           consent=consent, basis=basis, legal_reference=legal_reference, legal_basis=legal_basis)
    # Counted after the disclosure: the contact is locked after the consent, as routing locks them.
    contact_stats.referral_added(referral)
    if disclosure.status == Disclosure.Status.PENDING:
        # Nothing reaches the recipient yet: no process, clock or notice until a leader of the
        # sending service approves (consent.services.disclosure_approve → _on_disclosure_approved).
        _event(referral, Referral.Status.REQUESTED, from_service,
               _("Awaiting a leader's approval of the legal basis (%(basis)s)") % {"basis": disclosure.legal_reference})
        access_log_write(user=user, action="create", obj=referral, person=referral.person, purpose=AWAITING_APPROVAL[purpose], service=from_service)
        return referral
    return _deliver(referral, user=user, from_service=from_service, recipient=recipient, perm=perm, event_reason=event_reason, purpose=purpose)


def _deliver(referral, *, user, from_service, recipient, perm, event_reason, purpose) -> Referral:
    """Start the process and clocks of a referral its recipient now holds, and tell the recipient."""
    STEPS.flow_class().start.run(referral=referral)
    _event(referral, Referral.Status.REQUESTED, from_service, event_reason)
    # The clock in one INSERT; its reminders and the notice (which names the deadline the recipient
    # owes, read by the refresh's statement) in another.
    _opened, reminders = deadlines.deadlines_open([
        STEPS.opening_arguments(referral, ANSWER_DEADLINE if referral.target_service else ROUTING_DEADLINE),
    ])
    owed = deadlines.next_deadline_refresh(referral, owed=True)
    reminders.append(STEPS.notice_row(
        referral, service=recipient, perm=perm, key="sent", topic=gettext_noop("New referral"), owed=owed,
        message=system_text(gettext_noop("%(ref)s: a new referral has arrived"), ref=referral.reference),
    ))
    reminders_schedule(reminders)
    access_log_write(user=user, action="create", obj=referral, person=referral.person, purpose=purpose, service=from_service)
    return referral


def _disclose_to_router_again(new: Referral, *, user) -> None:
    """A coordinator that forwards a referral keeps following the new one, on the same legal basis
    by which it holds the declined one, through the ledger (so a withdrawn consent ends it too).

    Refused when that basis is gone: the coordinator then has nothing to forward on.
    """
    from consent.selectors import disclosures_of

    held = (
        disclosures_of(new.forwarded_from)
        .filter(to_service=new.routing_service, permission=ROUTER, revoked_at__isnull=True, status=Disclosure.Status.IN_FORCE)
        .order_by("-disclosed_at", "-pk")
        .first()
    )
    if held is None:
        raise ValidationError(
            _("The coordinating service no longer has a legal basis for this referral (was the consent withdrawn?)."),
            code="no_basis",
        )
    basis = {"basis": held.basis, "consent": held.consent, "legal_reference": held.legal_reference}
    if getattr(held, "legal_basis_id", None):
        basis["legal_basis"] = held.legal_basis
    disclosure_record(
        obj=new, person=new.person, from_service=new.sender_service, to_service=new.routing_service,
        purpose="henvisning (videresendt)", perm=ROUTER, user=user, consent_purpose=Consent.Purpose.REFERRAL,
        acting_service=new.routing_service, continues=held, **basis,
    )


@transaction.atomic
def referral_route(*, referral: Referral, user, target_service: Service, consent: Consent | None = None,
                   basis: str = Disclosure.Basis.CONSENT, legal_reference: str = "", legal_basis: LegalBasis | None = None,
                   activation=None) -> Referral:
    """The coordinator routes a referral from the queue to a catalogue service.

    Not on a legal basis that requires approval: routing completes the coordinator's task at once,
    so it cannot wait for a leader (forward it instead, or share on a consent).
    """
    with ROUTE.run(referral, user=user, activation=activation) as run:
        referral = run.record
        _require_eligible(target_service, referral.person, referral.kind)
        if basis == Disclosure.Basis.STATUTORY and legal_basis is not None and legal_basis.requires_approval:
            raise ValidationError({"legal_basis": _("A legal basis that needs a leader's approval cannot be used when routing.")})
        _disclose(referral, to_service=target_service, perm=HANDLER, user=user, from_service=referral.routing_service,
                  consent=consent or referral.consent, basis=basis, legal_reference=legal_reference, legal_basis=legal_basis)
        referral.target_service = target_service
        referral.save(update_fields=["target_service", "updated_at"])
        contact_stats.referral_routed(referral)
        _event(referral, Referral.Status.REQUESTED, referral.routing_service, _("Routed to %(service)s") % {"service": target_service.name})
        run.notify(target_service, HANDLER, "sent", system_text(gettext_noop("%(ref)s: a new referral has arrived"), ref=referral.reference),
                   topic=gettext_noop("New referral"))
    return referral


@transaction.atomic
def referral_receive(*, referral: Referral, user, activation=None) -> Referral:
    with RECEIVE.run(referral, user=user, activation=activation) as run:
        referral = run.record
        _set_status(run, Referral.Status.RECEIVED, referral.target_service)
        _notify_sender(run)
    return referral


def _notify_sender(run):
    referral = run.record
    run.notify(
        referral.sender_service, SENDER, f"status:{referral.status}",
        system_text(gettext_noop("%(ref)s: the referral is now “%(status)s”"), ref=referral.reference, status=Referral.Status(referral.status).label),
        topic=STATUS_TOPICS.get(referral.status, ""),
    )


# The step a status notice to the sender is about (the statuses' own msgids, shown translated).
STATUS_TOPICS = {
    S.RECEIVED: gettext_noop("Received"), S.ACCEPTED: gettext_noop("Accepted"), S.REJECTED: gettext_noop("Declined"),
    S.IN_PROGRESS: gettext_noop("In progress"), S.ON_HOLD: gettext_noop("On hold"), S.COMPLETED: gettext_noop("Completed"),
    S.FAILED: gettext_noop("Failed"),
}


@transaction.atomic
def referral_accept(*, referral: Referral, user, activation=None) -> Referral:
    with DECIDE.run(referral, user=user, activation=activation) as run:
        referral = run.record
        run.purpose = "referral accepted"
        _set_status(run, Referral.Status.ACCEPTED, referral.target_service)
        _notify_sender(run)
    return referral


@transaction.atomic
def referral_decline(*, referral: Referral, user, reason: str, activation=None) -> Referral:
    """Decline with a reason the sender sees; the coordinator or sender may forward it elsewhere."""
    with DECIDE.run(referral, user=user, activation=activation) as run:
        referral = run.record
        run.purpose = "referral declined"
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Give the reason for declining; the sender will see it.")})
        text_limits(reason=(reason, SHORT_TEXT))
        _set_status(run, Referral.Status.REJECTED, referral.target_service, reason.strip(), closing=True)
        _notify_sender(run)
        if referral.routing_service_id:
            run.notify(referral.routing_service, ROUTER, "declined",
                       system_text(gettext_noop("%(ref)s was declined and may be forwarded"), ref=referral.reference),
                       topic=gettext_noop("Declined: forward it to another service"))
    return referral


@transaction.atomic
def referral_set_progress(*, referral: Referral, user, status: str, reason: str = "", notes: str | None = None) -> Referral:
    """Mark an accepted referral in progress or on hold (a reason is required for on hold)."""
    if status not in PROGRESS:
        raise ValidationError(_("Unknown status."))
    with PROGRESS[status].run(referral, user=user) as run:
        referral = run.record
        if status == Referral.Status.ON_HOLD and not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the referral is on hold.")})
        text_limits(reason=(reason, SHORT_TEXT), notes=(notes, LONG_TEXT))
        extra = ()
        if notes is not None:
            referral.receiver_notes = notes
            extra = ("receiver_notes",)
        _set_status(run, status, referral.target_service, (reason or "").strip(), extra_fields=extra)
        _notify_sender(run)
    return referral


@transaction.atomic
def referral_notes_save(*, referral: Referral, user, notes: str) -> Referral:
    """Replace the receiving service's internal notes (never shown to the sender or coordinator)."""
    with NOTES.run(referral, user=user) as run:
        referral = run.record
        text_limits(notes=(notes, LONG_TEXT))
        referral.receiver_notes = (notes or "").strip()
        run.save("receiver_notes")
    return referral


@transaction.atomic
def referral_close(*, referral: Referral, user, completed: bool, outcome: str, activation=None) -> Referral:
    """Complete with an outcome, or record that it failed and why; the sender sees either."""
    with CLOSE.run(referral, user=user, activation=activation) as run:
        referral = run.record
        if not (outcome or "").strip():
            raise ValidationError({"outcome": _("Describe the outcome; the sender will see it.") if completed else _("Say why it failed; the sender will see it.")})
        text_limits(outcome=(outcome, MEDIUM_TEXT))
        referral.outcome = outcome.strip()
        status = Referral.Status.COMPLETED if completed else Referral.Status.FAILED
        run.purpose = "referral completed" if completed else "referral failed"
        _set_status(run, status, referral.target_service, "" if completed else outcome.strip(), closing=True, extra_fields=("outcome",))
        _notify_sender(run)
    return referral


@transaction.atomic
def referral_cancel(*, referral: Referral, user, reason: str = "") -> Referral:
    """The sender withdraws an open referral."""
    with CANCEL.run(referral, user=user) as run:
        referral = run.record
        text_limits(reason=(reason, SHORT_TEXT))
        _set_status(run, Referral.Status.CANCELLED, referral.sender_service, (reason or "").strip(), closing=True)
        # A referral still awaiting a leader's approval has no process yet, and its request is void now.
        disclosures_pending_cancel(obj=referral, user=user)
        if hasattr(referral, "process"):
            STEPS.process_cancel(referral)
        for service, perm in ((referral.target_service, HANDLER), (referral.routing_service, ROUTER)):
            if service is not None:
                run.notify(service, perm, "cancelled", system_text(gettext_noop("%(ref)s was cancelled by the sender"), ref=referral.reference),
                           topic=gettext_noop("Cancelled by the sender"))
    return referral


@transaction.atomic
def referral_forward(*, referral: Referral, user, target_service: Service, consent: Consent | None = None,
                     basis: str = Disclosure.Basis.CONSENT, legal_reference: str = "", legal_basis: LegalBasis | None = None) -> Referral:
    """Send a declined referral on to another service, keeping the chain (``forwarded_from``).

    Done by the coordinator who routed it, or by the sender. The new referral keeps the original
    sender, so the sender follows the whole chain. Returns the new referral.
    """
    with FORWARD.run(referral, user=user) as run:
        referral = run.record
        if target_service == referral.target_service:
            raise ValidationError({"target_service": _("Choose another service than the one that declined.")})
        if run.service == referral.routing_service:
            new = _forward_as_router(referral, user, target_service, consent, basis, legal_reference, legal_basis)
        else:
            new = referral_send(
                user=user, sender_service=referral.sender_service, person=referral.person, kind=referral.kind,
                reason=referral.reason, target_service=target_service, consent=consent or referral.consent, basis=basis,
                legal_reference=legal_reference, legal_basis=legal_basis, contact=referral.contact, forwarded_from=referral,
            )
        _event(referral, Referral.Status.REJECTED, run.service, _("Forwarded to %(service)s") % {"service": target_service.name})
    return new


def _forward_as_router(referral, user, target_service, consent, basis, legal_reference, legal_basis=None):
    """The coordinator forwards: the new referral is sent by the original sender, routed by the coordinator."""
    _require_eligible(target_service, referral.person, referral.kind)
    new = Referral.objects.create(
        person=referral.person, sender_service=referral.sender_service, created_by=referral.created_by, kind=referral.kind,
        reason=referral.reason, target_service=target_service, routing_service=referral.routing_service,
        consent=consent or referral.consent, contact=referral.contact, forwarded_from=referral, sent_at=timezone.now(),
    )
    return _dispatch(new, user=user, from_service=referral.routing_service, consent=consent or referral.consent, basis=basis,
                     legal_reference=legal_reference, legal_basis=legal_basis,
                     event_reason=_("Forwarded from %(ref)s") % {"ref": referral.reference}, purpose="referral forwarded")


# --- a legal basis approved or rejected by a leader of the sending service ----------------------


def _on_disclosure_approved(disclosure: Disclosure, user) -> None:
    """The rest of _dispatch for a referral that waited for approval: the recipient already holds
    its permission (granted by disclosure_approve); start the process and clocks, and tell it."""
    referral = STEPS.lock(Referral.objects.get(pk=disclosure.subject_id))
    STEPS.require_status(referral, Referral.Status.REQUESTED)
    recipient = referral.target_service or referral.routing_service
    if disclosure.to_service_id != recipient.pk or hasattr(referral, "process"):
        return  # not the row that delivers the referral (or it was delivered already)
    reason = _("Legal basis approved (%(basis)s)") % {"basis": disclosure.legal_reference}
    if referral.forwarded_from_id:
        reason = _("Forwarded from %(ref)s") % {"ref": referral.forwarded_from.reference} + "; " + reason
    _deliver(referral, user=user, from_service=disclosure.from_service, recipient=disclosure.to_service,
             perm=disclosure.permission, event_reason=reason, purpose="referral sent (approved)")


def _on_disclosure_rejected(disclosure: Disclosure, user) -> None:
    """A referral whose legal basis a leader did not approve is cancelled; it never reached anyone."""
    referral = Referral.objects.get(pk=disclosure.subject_id)
    if referral.status not in Referral.OPEN_STATUSES:
        return
    with BASIS_REFUSED.run(referral, user=user, acting_service=disclosure.from_service) as run:
        _set_status(run, Referral.Status.CANCELLED, disclosure.from_service,
                    _("The legal basis was not approved: %(reason)s") % {"reason": disclosure.decision_note}, closing=True)


def register_disclosure_handlers() -> None:
    """Called from WorkflowsConfig.ready: consent's approval completes a waiting referral here."""
    from consent.services import disclosure_decision_handler_register

    disclosure_decision_handler_register("referrals.referral", approved=_on_disclosure_approved, rejected=_on_disclosure_rejected)


def referrals_end_on_withdrawal(*, consent: Consent, user, revoked: list[Disclosure]) -> list[Referral]:
    """The referral process's part of a consent withdrawal (see workflows.withdrawal): cancel the
    open referrals that rested on the consent (recorded on it, or disclosed on it), with their tasks
    and deadlines, each logged under the service that recorded the withdrawal. Runs inside the
    withdrawal's transaction. Returns the referrals cancelled."""
    referral_ids = {d.subject_id for d in revoked if d.subject_type.model == "referral"}
    cancelled = []
    for referral in Referral.objects.filter(Q(pk__in=referral_ids) | Q(consent=consent)).filter(status__in=Referral.OPEN_STATUSES):
        try:
            with WITHDRAWN.run(referral, user=user, acting_service=consent.recorded_by_service) as run:
                _set_status(run, Referral.Status.CANCELLED, consent.recorded_by_service, _("The consent was withdrawn."), closing=True)
                if hasattr(run.record, "process"):
                    STEPS.process_cancel(run.record)
        except ValidationError as e:
            if getattr(e, "code", None) == "out_of_order":
                continue  # closed meanwhile (seen under its lock): nothing left to end
            raise
        cancelled.append(run.record)
    return cancelled
