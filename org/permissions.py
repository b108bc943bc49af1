"""The only place that grants or revokes object permissions (django-guardian).

Permissions are granted to a service's group, never to individuals and never at model level:
viewflow falls back to a model-level check when no object is given, which would open every
process to anyone holding it.

A permission on person data rests on one of two reasons, and ``grant_to_service`` refuses any
other: the service owns the object (it made it: the reporter of a concern, the sender of a
referral, the service that registered a contact or recorded a consent — ``OWNERSHIP``), or a live
row of the disclosure ledger gives it (``disclosure=``, passed only by
``consent.services.disclosure_record``). An object without a person (an anonymous consultation)
is no person data. ``manage.py access_grants_check`` finds any grant that has neither reason.
"""
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from org.models import Membership, Service

HANDLE_TASKS_PERM = "org.handle_concerns"


def service_group(service: Service) -> Group:
    """The group through which the service's staff hold permissions; created on first use."""
    if service.group_id:
        return service.group
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.group_id is None:
            locked.group = Group.objects.create(name=f"service:{service.code}")
            locked.save(update_fields=["group"])
        service.group = locked.group
    # Staff of a service may work that service's viewflow tasks.
    assign_perm(HANDLE_TASKS_PERM, service.group, service)
    return service.group


# (model label, permission codename) → the field naming the service that owns the object.
OWNERSHIP = {
    ("referrals.concern", "view_concern_status"): "reporting_service_id",
    ("referrals.referral", "view_referral_status"): "sender_service_id",
    ("referrals.contact", "handle_contact"): "service_id",
    ("consent.consent", "manage_consent"): "recorded_by_service_id",
}
# Models whose rows are a person's data: every grant on them needs a reason (see above).
PERSON_DATA_MODELS = ("referrals.concern", "referrals.referral", "referrals.contact", "consent.consent")


class GrantRefused(Exception):
    """A grant on person data without an ownership reason or a ledger row: a programming error."""


def _codename(perm: str) -> str:
    return perm.split(".", 1)[-1]


def grant_reason(*, perm: str, obj, service: Service, disclosure=None) -> str | None:
    """Why ``service`` may hold ``perm`` on ``obj``: "owner", "ledger", "anonymous", "not person data",
    or None when nothing justifies it."""
    label = obj._meta.label_lower
    if label not in PERSON_DATA_MODELS:
        return "not person data"
    codename = _codename(perm)
    owner_field = OWNERSHIP.get((label, codename))
    if owner_field is not None and getattr(obj, owner_field) == service.pk:
        return "owner"
    if disclosure is not None:
        from django.contrib.contenttypes.models import ContentType

        if (
            disclosure.pk is not None and disclosure.revoked_at is None and getattr(disclosure, "granted", True)
            and disclosure.to_service_id == service.pk and _codename(disclosure.permission) == codename
            and disclosure.subject_type_id == ContentType.objects.get_for_model(obj).pk and disclosure.subject_id == obj.pk
        ):
            return "ledger"
        return None
    if label == "referrals.concern" and obj.person_id is None:
        return "anonymous"
    return None


def grant_to_service(*, perm: str, obj, service: Service, disclosure=None) -> None:
    """Grant ``perm`` on ``obj`` to the service's group, for an ownership reason or a ledger row.

    Raises GrantRefused (and grants nothing) when neither holds: a service never gets access to a
    person's data that the ledger does not show.
    """
    if grant_reason(perm=perm, obj=obj, service=service, disclosure=disclosure) is None:
        raise GrantRefused(f"no ownership reason or ledger row for {perm} on {obj._meta.label_lower}:{obj.pk} to service {service.pk}")
    assign_perm(perm, service_group(service), obj)


def revoke_from_service(*, perm: str, obj, service: Service) -> None:
    remove_perm(perm, service_group(service), obj)


def revoke_all_on_object(*, obj) -> int:
    """Drop every group permission on ``obj`` (used when an object is deleted or purged)."""
    ct = ContentType.objects.get_for_model(obj)
    deleted, _ = GroupObjectPermission.objects.filter(content_type=ct, object_pk=str(obj.pk)).delete()
    return deleted


def membership_sync(membership: Membership) -> None:
    """Make the user's group membership match an (in)active membership row."""
    group = service_group(membership.service)
    if membership.active:
        membership.user.groups.add(group)
    else:
        membership.user.groups.remove(group)
