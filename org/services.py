"""Writes on the organisation: memberships, which open a service's cases to its staff."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from org import permissions
from org.models import Membership, Service
from org import recording


@transaction.atomic
def membership_set(*, user, service: Service, role: str = Membership.Role.STAFF, active: bool = True, by=None) -> Membership:
    """Add, change or deactivate a user's membership of a service, and its group membership.

    ``by`` is the administrator making the change (the admin passes it): nobody changes their own
    membership — it is what opens a service's cases — and every change is logged under the real
    administrator with ``via="admin"``.
    """
    if by is not None and by.pk == user.pk:
        raise ValidationError(_("You cannot change your own membership of a service; ask another administrator."))
    before = Membership.objects.filter(user=user, service=service).values("role", "active").first()
    membership, _created = Membership.objects.update_or_create(
        user=user, service=service, defaults={"role": role, "active": active}
    )
    permissions.membership_sync(membership)
    if by is not None:
        after = {"role": role, "active": active}
        changes = {f: [before.get(f) if before else None, v] for f, v in after.items() if not before or before[f] != v}
        recording.record(user=by, action="update" if before else "create", obj=membership, purpose="membership changed",
                         service=service, via="admin", changes={"user_id": [None, user.pk], **changes})
    return membership
