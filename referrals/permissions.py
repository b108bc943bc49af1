"""The only place that grants or revokes object permissions (django-guardian).

Permissions are granted to a service's group, never to individuals and never at model level:
viewflow falls back to a model-level check when no object is given, which would open every
process to anyone holding it.
"""
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from referrals.models import Membership, Service

HANDLE_TASKS_PERM = "referrals.handle_concerns"


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


def grant_to_service(*, perm: str, obj, service: Service) -> None:
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
