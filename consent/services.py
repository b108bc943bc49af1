"""The one path by which a person's data reaches another service, and the consent lifecycle."""
import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import access_log_write
from consent import reminders
from consent.models import Consent, Disclosure, LegalBasis, ReconsentTask
from consent.selectors import age_rule_for, consent_givers_sufficient, consent_is_active, consent_locked_for_sharing, consents_needing_renewal, legal_basis_problem
from org import permissions
from org.access import require_member
from org.models import Membership, Service
from people.models import Guardianship
from people.validators import SHORT_TEXT, text_limits, years_after, years_before

OPPLYSNINGSPLIKT_RECIPIENTS = {Service.Kind.BARNEVERN}


class NoLegalBasis(ValidationError):
    """Raised when a disclosure has no lawful basis; nothing has been shared."""


def disclosure_record(
    *,
    obj,
    person,
    from_service: Service,
    to_service: Service,
    basis: str,
    purpose: str,
    perm: str,
    user,
    legal_reference: str = "",
    legal_basis: LegalBasis | None = None,
    consent: Consent | None = None,
    consent_purpose: str | None = None,
    acting_service: Service | None = None,
    continues: Disclosure | None = None,
) -> Disclosure:
    """Record why sharing ``obj`` with ``to_service`` is lawful, and grant ``perm`` on it.

    ``acting_service`` is the service whose user does it, for the access log (default the sender:
    a coordinator passing on what the sender disclosed acts for its own service). ``continues`` is an
    in-force row by which ``to_service`` already holds the same data on the same basis (a
    coordinator following the referral it forwards): a basis that needs approval was approved for
    it, so the continuation is in force at once.

    ``purpose`` is the ledger's free-text purpose; ``consent_purpose`` the Consent.Purpose a consent
    (or the cited legal basis) must cover. Another statutory basis is a row of the catalogue
    (``legal_basis``), never free text; ``legal_reference`` is then its citation. The ledger row,
    the object permission and the audit row are written in one transaction. Raises NoLegalBasis (a
    translated ValidationError) and shares nothing when the basis does not hold.

    A legal basis that requires approval writes the row as pending (``status`` PENDING) and grants
    nothing: the caller must defer whatever delivers the object until ``disclosure_approve``.
    """
    # One transaction without a savepoint of its own (a step's, when there is one). A refusal is
    # raised after it, not through it: it has changed nothing, so a caller that catches it keeps a
    # usable transaction.
    refusal = None
    with transaction.atomic(savepoint=False):
        try:
            if basis == Disclosure.Basis.OPPLYSNINGSPLIKT:
                if to_service.kind not in OPPLYSNINGSPLIKT_RECIPIENTS:
                    raise NoLegalBasis(_("The duty to report (opplysningsplikt) only covers reports to the child welfare service."))
            elif basis == Disclosure.Basis.STATUTORY:
                if legal_basis is not None:
                    legal_basis = LegalBasis.objects.filter(pk=legal_basis.pk).first()
                problem = legal_basis_problem(legal_basis, from_service=from_service, to_service=to_service, purpose=consent_purpose)
                if problem:
                    raise NoLegalBasis({"legal_basis": problem})
                legal_reference = legal_basis.reference
            elif basis == Disclosure.Basis.CONSENT:
                if consent is not None:
                    # Decide on the stored row, locked as consent_withdraw locks it: a withdrawal committed
                    # meanwhile (or a stale instance in the caller) must not let the data through.
                    consent = consent_locked_for_sharing(consent.pk, person=person, service=to_service) if person is not None else None
                if consent is None:
                    raise NoLegalBasis(_("There is no consent from this person for sharing with %(service)s.") % {"service": to_service.name})
                if not consent_is_active(consent, service=to_service, purpose=consent_purpose):
                    raise NoLegalBasis(
                        _("The consent does not cover sharing with %(service)s for this purpose, or it is no longer valid.")
                        % {"service": to_service.name}
                    )
            else:
                raise NoLegalBasis(_("Choose the legal basis for sharing this information."))
        except NoLegalBasis as e:
            refusal = e
        else:
            disclosure = Disclosure.objects.create(
                person=person,
                subject_type=ContentType.objects.get_for_model(obj),
                subject_id=obj.pk,
                from_service=from_service,
                to_service=to_service,
                basis=basis,
                legal_reference=legal_reference,
                purpose=purpose,
                permission=perm,
                consent=consent if basis == Disclosure.Basis.CONSENT else None,
                legal_basis=legal_basis if basis == Disclosure.Basis.STATUTORY else None,
                status=Disclosure.Status.PENDING if basis == Disclosure.Basis.STATUTORY and legal_basis.requires_approval and not _continues(continues, to_service, legal_basis) else Disclosure.Status.IN_FORCE,
                disclosed_by=user,
            )
            if disclosure.status == Disclosure.Status.PENDING:
                return disclosure
            permissions.grant_to_service(perm=perm, obj=obj, service=to_service, disclosure=disclosure)
            access_log_write(user=user, action="disclose", obj=obj, person=person, purpose=purpose, service=acting_service or from_service)
            return disclosure
    raise refusal


def _continues(held: Disclosure | None, to_service: Service, legal_basis) -> bool:
    """Whether ``held`` is an approved, live row giving ``to_service`` the same data on ``legal_basis``."""
    return (
        held is not None and held.status == Disclosure.Status.IN_FORCE and held.revoked_at is None
        and held.to_service_id == to_service.pk and held.legal_basis_id == getattr(legal_basis, "pk", None)
    )


# What completes (or abandons) an object's delivery once its pending disclosure is decided, by model
# label: registered by the app that owns the object (workflows registers the referral's hand-off in
# its AppConfig.ready), because consent imports no process code.
_DECISION_HANDLERS: dict[str, tuple] = {}


def disclosure_decision_handler_register(model_label: str, *, approved, rejected) -> None:
    """Register ``approved(disclosure, user)`` and ``rejected(disclosure, user)`` for objects of
    ``model_label`` (e.g. "referrals.referral"). Both run inside the decision's transaction; either
    may raise ValidationError to refuse the decision (nothing is then changed)."""
    _DECISION_HANDLERS[model_label] = (approved, rejected)


def _lock_pending(disclosure: Disclosure) -> Disclosure:
    disclosure = Disclosure.objects.select_for_update(of=("self",)).select_related("from_service", "to_service", "legal_basis", "subject_type").get(pk=disclosure.pk)
    if disclosure.status != Disclosure.Status.PENDING:
        raise ValidationError(_("This disclosure is no longer awaiting approval. Reload the page to see its current state."), code="out_of_order")
    return disclosure


def _decide(disclosure, user, status, note=""):
    disclosure.status = status
    disclosure.decided_by = user
    disclosure.decided_at = timezone.now()
    disclosure.decision_note = (note or "").strip()
    disclosure.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


@transaction.atomic
def disclosure_approve(*, disclosure: Disclosure, user) -> Disclosure:
    """A leader of the sending service approves a pending disclosure: it takes effect now.

    Four eyes: the leader must be another person than the one who requested it. The legal basis
    is checked again (it may have been deactivated or changed meanwhile). Grants the permission,
    writes the audit row and runs the object's registered hand-off (e.g. delivers the referral), all
    in this transaction. Raises ValidationError and changes nothing when refused.
    """
    disclosure = _lock_pending(disclosure)
    require_member(user, disclosure.from_service, role=Membership.Role.LEADER, message=_("Only a leader of the sending service can approve this disclosure."))
    if disclosure.disclosed_by_id == user.pk:
        raise ValidationError(_("You requested this disclosure yourself: another leader of the service must approve it."), code="four_eyes")
    problem = legal_basis_problem(disclosure.legal_basis, from_service=disclosure.from_service, to_service=disclosure.to_service, purpose=None)
    if problem:
        raise NoLegalBasis(problem)
    _decide(disclosure, user, Disclosure.Status.IN_FORCE)
    obj = disclosure.subject_type.get_object_for_this_type(pk=disclosure.subject_id)
    permissions.grant_to_service(perm=disclosure.permission, obj=obj, service=disclosure.to_service, disclosure=disclosure)
    access_log_write(user=user, action="disclose", obj=obj, person=disclosure.person, purpose=disclosure.purpose, service=disclosure.from_service)
    handlers = _DECISION_HANDLERS.get(disclosure.subject_type.app_label + "." + disclosure.subject_type.model)
    if handlers:
        handlers[0](disclosure, user)
    return disclosure


@transaction.atomic
def disclosure_reject(*, disclosure: Disclosure, user, reason: str = "") -> Disclosure:
    """A leader of the sending service refuses a pending disclosure: nothing is ever shared on it.

    The requester may reject their own request (that shares nothing). Runs the object's registered
    hand-off (e.g. cancels the waiting referral). Raises ValidationError when refused.
    """
    disclosure = _lock_pending(disclosure)
    require_member(user, disclosure.from_service, role=Membership.Role.LEADER, message=_("Only a leader of the sending service can reject this disclosure."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the disclosure is not approved; the requester will see it.")})
    _decide(disclosure, user, Disclosure.Status.REJECTED, reason)
    handlers = _DECISION_HANDLERS.get(disclosure.subject_type.app_label + "." + disclosure.subject_type.model)
    if handlers:
        handlers[1](disclosure, user)
    return disclosure


def disclosures_pending_cancel(*, obj, user) -> int:
    """Cancel the pending disclosures of ``obj`` (its owner withdrew it before approval), so none
    can be approved later. Returns how many were cancelled. Runs inside the caller's transaction."""
    rows = Disclosure.objects.select_for_update().filter(
        subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk, status=Disclosure.Status.PENDING,
    )
    cancelled = 0
    for d in rows:
        _decide(d, user, Disclosure.Status.CANCELLED)
        cancelled += 1
    return cancelled


# How far a consent's dates may lie from the day it is recorded. A consent answers a present need:
# one recorded late (a signed form filed afterwards) may start up to a year back, one agreed in
# advance up to a year ahead; further is a typing error (or a way round the age rules, which are
# judged on the day the consent is given). The end may lie at most ten years after the start, which
# keeps 31.12.9999 out while allowing any real agreement; leave it empty for "until withdrawn". The
# age rules and re-consent tasks apply on every day in between.
CONSENT_START_WITHIN_YEARS = 1
CONSENT_MAX_YEARS = 10


def _consent_period_errors(valid_from: datetime.date, valid_to: datetime.date | None, today: datetime.date) -> dict:
    errors = {}
    if valid_from < years_before(today, CONSENT_START_WITHIN_YEARS) or valid_from > years_after(today, CONSENT_START_WITHIN_YEARS):
        errors["valid_from"] = _("The start date must lie within a year of today.")
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = _("The end date must be on or after the start date.")
    elif valid_to is not None and valid_to > years_after(valid_from, CONSENT_MAX_YEARS):
        errors["valid_to"] = _("A consent may last at most %(years)s years. Choose an earlier end date, or leave it empty (until withdrawn).") % {
            "years": CONSENT_MAX_YEARS
        }
    return errors


@transaction.atomic
def consent_record(
    *,
    user,
    service: Service,
    person,
    purpose: str,
    information: str,
    grantees: list[Service],
    valid_from: datetime.date,
    method: str,
    valid_to: datetime.date | None = None,
    given_by_person: bool = False,
    guardians=(),
    domain: str = "health",
    renews: Consent | None = None,
) -> Consent:
    """Record a consent. Refused if nobody entitled at the person's age gave it, or the dates are
    reversed or out of bounds (CONSENT_START_WITHIN_YEARS, CONSENT_MAX_YEARS). With ``renews``,
    the open re-consent tasks of that consent are closed in the same transaction.

    Who may give a consent is decided by the person's age on the day it is given (today), not on
    its start date: a 15-year-old cannot give their own health consent today by dating it from
    their 16th birthday. It must also still be sufficient on a later start date, or it would never
    be in force.
    """
    require_member(user, service, _("You are not a member of the service recording the consent."))
    today = timezone.localdate()
    text_limits(information=(information, SHORT_TEXT))
    errors = _consent_period_errors(valid_from, valid_to, today)
    if not grantees:
        errors["grantees"] = _("Choose at least one service the information may be shared with.")
    if not (information or "").strip():
        errors["information"] = _("Say which information the consent covers.")
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = _("Choose a purpose.")
    if method not in Consent.Method.values:
        errors["method"] = _("Say how the consent was obtained.")
    registered = set(Guardianship.objects.filter(child=person).values_list("guardian_id", flat=True))
    if any(g.pk not in registered for g in guardians):
        errors["guardians"] = _("Only the person's registered guardians can consent on their behalf.")
    if errors:
        raise ValidationError(errors)
    consent = Consent.objects.create(
        person=person, domain=domain, given_by_person=given_by_person, purpose=purpose, information=information.strip(),
        valid_from=valid_from, valid_to=valid_to, method=method, recorded_by=user, recorded_by_service=service,
    )
    consent.guardians.set(guardians)
    consent.grantees.set(grantees)
    if not consent_givers_sufficient(consent, on=today):
        raise ValidationError(
            {"given_by_person": _("At the person's age this consent must be given by someone else (see the age rules): it was not recorded.")}
        )
    if valid_from > today and not consent_givers_sufficient(consent, on=valid_from):
        raise ValidationError(
            {"given_by_person": _("On its start date the person's age requires the consent from someone else (see the age rules): it was not recorded.")}
        )
    permissions.grant_to_service(perm=permissions.CONSENT_MANAGER, obj=consent, service=service)
    access_log_write(user=user, action="create", obj=consent, person=person, purpose="consent recorded", service=service)
    if renews is not None:
        reconsent_task_done(consent=renews, user=user, new_consent=consent)
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, user, note: str = "") -> list[Disclosure]:
    """Withdraw a consent at once: every grant that rested on it is revoked in this transaction.

    A grant stays only if another live disclosure of the same object to the same service still
    holds it. Returns the disclosures revoked. Pending notifications are dropped at delivery,
    because the recipients no longer hold the permission then.
    """
    text_limits(note=(note, SHORT_TEXT))
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    require_member(user, consent.recorded_by_service, _("Only the service responsible for the consent can record its withdrawal."))
    if consent.withdrawn_at is not None:
        raise ValidationError(_("This consent has already been withdrawn."))
    now = timezone.now()
    consent.withdrawn_at = now
    consent.withdrawn_by = user
    consent.withdrawal_note = (note or "").strip()
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
    revoked = list(Disclosure.objects.select_for_update().filter(consent=consent, revoked_at__isnull=True).select_related("to_service"))
    for d in revoked:
        d.revoked_at = now
        d.save(update_fields=["revoked_at"])
    for d in revoked:
        still_held = Disclosure.objects.filter(
            subject_type=d.subject_type, subject_id=d.subject_id, to_service=d.to_service,
            permission=d.permission, revoked_at__isnull=True, status=Disclosure.Status.IN_FORCE,
        ).exists()
        if not still_held:
            obj = d.subject_type.get_object_for_this_type(pk=d.subject_id)
            permissions.revoke_from_service(perm=d.permission, obj=obj, service=d.to_service)
    access_log_write(user=user, action="update", obj=consent, person=consent.person, purpose="consent withdrawn", service=consent.recorded_by_service)
    return revoked


@transaction.atomic
def reconsent_tasks_create(*, on: datetime.date | None = None) -> list[ReconsentTask]:
    """Create a re-consent task for every guardian-only consent that the person's age made insufficient.

    Idempotent per consent and age; run daily by beat. Each new task notifies the responsible
    service's staff through a reminder row (consent.reminders).
    """
    on = on or timezone.localdate()
    created = []
    for consent in consents_needing_renewal(on=on):
        # One task per threshold crossed (the rule now in force), not per birthday: a consent that
        # stopped being sufficient at 15 or 16 needs no new task at 17, only again at 18.
        age = consent.person.age_on(on)
        rule = age_rule_for(domain=consent.domain, age=age)
        age = rule.from_age if rule is not None else age
        task, was_created = ReconsentTask.objects.get_or_create(
            consent=consent, age=age, defaults={"responsible_service": consent.recorded_by_service}
        )
        if not was_created:
            continue
        created.append(task)
        reminders.remind_staff(
            obligation=f"reconsent:{task.pk}",
            message=_("Consent %(ref)s must be renewed: the person has turned %(age)s.") % {"ref": consent.reference, "age": age},
            service=consent.recorded_by_service, subject=consent,
            required_perm=permissions.CONSENT_MANAGER, url=reverse("consent:detail", args=[consent.code]),
            topic=gettext_noop("Renew the consent"),
        )
    return created


@transaction.atomic
def reconsent_task_done(*, consent: Consent, user, new_consent: Consent) -> list[ReconsentTask]:
    """Close the open re-consent tasks of ``consent`` because ``new_consent`` renews it.

    Only staff of the responsible service may do it, and the new consent must be the same
    person's. Cancels the tasks' unsent reminders. Returns the tasks closed (empty if none were open).
    """
    if new_consent.person_id != consent.person_id or new_consent.pk == consent.pk:
        raise ValidationError(_("The new consent must be another consent from the same person."))
    tasks = list(ReconsentTask.objects.select_for_update().filter(consent=consent, done_at__isnull=True).select_related("responsible_service"))
    for task in tasks:
        require_member(user, task.responsible_service, _("You are not a member of the service responsible for this re-consent task."))
    now = timezone.now()
    for task in tasks:
        task.done_at = now
        task.save(update_fields=["done_at"])
        reminders.reminder_cancel(obligation=f"reconsent:{task.pk}")
    if tasks:
        access_log_write(
            user=user, action="update", obj=consent, person=consent.person,
            purpose="consent renewed", service=tasks[0].responsible_service,
        )
    return tasks
