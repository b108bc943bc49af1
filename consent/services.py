"""The one path by which a person's data reaches another service, and the consent lifecycle."""
import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log_write
from consent.models import Consent, Disclosure, ReconsentTask
from consent.selectors import age_rule_for, consent_givers_sufficient, consent_is_active, consents_needing_renewal
from referrals import permissions
from referrals.models import Guardianship, Membership, Service

OPPLYSNINGSPLIKT_RECIPIENTS = {Service.Kind.BARNEVERN}


class NoLegalBasis(ValidationError):
    """Raised when a disclosure has no lawful basis; nothing has been shared."""


@transaction.atomic
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
    consent: Consent | None = None,
    consent_purpose: str | None = None,
) -> Disclosure:
    """Record why sharing ``obj`` with ``to_service`` is lawful, and grant ``perm`` on it.

    ``purpose`` is the ledger's free-text purpose; ``consent_purpose`` the Consent.Purpose a consent
    must cover. The ledger row, the object permission and the audit row are written in one
    transaction. Raises NoLegalBasis (a translated ValidationError) and shares nothing when the
    basis does not hold.
    """
    if basis == Disclosure.Basis.OPPLYSNINGSPLIKT:
        if to_service.kind not in OPPLYSNINGSPLIKT_RECIPIENTS:
            raise NoLegalBasis(_("The duty to report (opplysningsplikt) only covers reports to the child welfare service."))
    elif basis == Disclosure.Basis.STATUTORY:
        if not legal_reference.strip():
            raise NoLegalBasis(_("Cite the statutory basis (law and section) for this disclosure."))
    elif basis == Disclosure.Basis.CONSENT:
        if consent is not None:
            # Decide on the stored row, locked as consent_withdraw locks it: a withdrawal committed
            # meanwhile (or a stale instance in the caller) must not let the data through.
            consent = Consent.objects.select_for_update().filter(pk=consent.pk).first()
        if consent is None or consent.person_id != getattr(person, "pk", None):
            raise NoLegalBasis(_("There is no consent from this person for sharing with %(service)s.") % {"service": to_service.name})
        if not consent_is_active(consent, service=to_service, purpose=consent_purpose):
            raise NoLegalBasis(
                _("The consent does not cover sharing with %(service)s for this purpose, or it is no longer valid.")
                % {"service": to_service.name}
            )
    else:
        raise NoLegalBasis(_("Choose the legal basis for sharing this information."))

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
        disclosed_by=user,
    )
    permissions.grant_to_service(perm=perm, obj=obj, service=to_service)
    access_log_write(user=user, action="disclose", obj=obj, person=person, purpose=purpose, service=from_service)
    return disclosure


def _require_member(user, service, message):
    if not Membership.objects.filter(user=user, service=service, active=True).exists():
        raise ValidationError(message)


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
) -> Consent:
    """Record a consent. Refused if nobody entitled at the person's age gave it, or dates are reversed."""
    _require_member(user, service, _("You are not a member of the service recording the consent."))
    errors = {}
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = _("The end date must be on or after the start date.")
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
    if not consent_givers_sufficient(consent, on=max(valid_from, timezone.localdate())):
        raise ValidationError(
            {"given_by_person": _("At the person's age this consent must be given by someone else (see the age rules): it was not recorded.")}
        )
    permissions.grant_to_service(perm="consent.manage_consent", obj=consent, service=service)
    access_log_write(user=user, action="create", obj=consent, person=person, purpose="consent recorded", service=service)
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, user, note: str = "") -> list[Disclosure]:
    """Withdraw a consent at once: every grant that rested on it is revoked in this transaction.

    A grant stays only if another live disclosure of the same object to the same service still
    holds it. Returns the disclosures revoked. Pending notifications are dropped at delivery,
    because the recipients no longer hold the permission then.
    """
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    _require_member(user, consent.recorded_by_service, _("Only the service responsible for the consent can record its withdrawal."))
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
            permission=d.permission, revoked_at__isnull=True,
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
    service's staff through a reminder row.
    """
    from notifications.models import Reminder
    from notifications.services import reminder_schedule

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
        reminder_schedule(
            key=f"reconsent:{task.pk}", obligation=f"reconsent:{task.pk}", kind=Reminder.Kind.REMINDER,
            message=_("Consent %(ref)s must be renewed: the person has turned %(age)s.") % {"ref": consent.reference, "age": age},
            service=consent.recorded_by_service, audience=Reminder.Audience.STAFF, subject=consent,
            required_perm="consent.manage_consent", due_at=timezone.now(), url=reverse("consent:detail", args=[consent.code]),
        )
    return created


@transaction.atomic
def reconsent_task_done(*, consent: Consent, user, new_consent: Consent) -> list[ReconsentTask]:
    """Close the open re-consent tasks of ``consent`` because ``new_consent`` renews it.

    Only staff of the responsible service may do it, and the new consent must be the same
    person's. Cancels the tasks' unsent reminders. Returns the tasks closed (empty if none were open).
    """
    from notifications.services import reminder_cancel

    if new_consent.person_id != consent.person_id or new_consent.pk == consent.pk:
        raise ValidationError(_("The new consent must be another consent from the same person."))
    tasks = list(ReconsentTask.objects.select_for_update().filter(consent=consent, done_at__isnull=True).select_related("responsible_service"))
    for task in tasks:
        _require_member(user, task.responsible_service, _("You are not a member of the service responsible for this re-consent task."))
    now = timezone.now()
    for task in tasks:
        task.done_at = now
        task.save(update_fields=["done_at"])
        reminder_cancel(obligation=f"reconsent:{task.pk}")
    if tasks:
        access_log_write(
            user=user, action="update", obj=consent, person=consent.person,
            purpose="consent renewed", service=tasks[0].responsible_service,
        )
    return tasks
