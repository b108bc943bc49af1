"""Writes on organisation and persons."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log_write
from referrals import permissions
from referrals.models import Membership, Person, Service
from referrals.validators import parse_national_id


@transaction.atomic
def person_get_or_create(
    *, user, given_name: str, family_name: str = "", national_id: str | None = None, birth_date=None, municipality=None, service: Service | None = None
) -> Person:
    """The person with this identity number, or a new person.

    With a number, the birth date comes from the number (a different one given is an error);
    without one, a birth date is required and a new record is always made (no guessing matches).
    """
    if national_id:
        number, kind, derived = parse_national_id(national_id)
        if birth_date and birth_date != derived:
            raise ValidationError({"birth_date": _("The birth date does not match the identity number.")})
        person = Person.objects.filter(national_id=number).first()
        if person is not None:
            return person
        person = Person.objects.create(
            given_name=given_name.strip(), family_name=family_name.strip(), national_id=number,
            id_kind=kind, birth_date=derived, municipality=municipality,
        )
    else:
        if birth_date is None:
            raise ValidationError({"birth_date": _("Give the birth date when the person has no identity number.")})
        if birth_date > timezone.localdate():
            raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
        person = Person.objects.create(
            given_name=given_name.strip(), family_name=family_name.strip(), id_kind=Person.IdKind.NONE,
            birth_date=birth_date, municipality=municipality,
        )
    access_log_write(user=user, action="create", obj=person, person=person, purpose="registered", service=service)
    return person


@transaction.atomic
def membership_set(*, user, service: Service, role: str = Membership.Role.STAFF, active: bool = True) -> Membership:
    """Add, change or deactivate a user's membership of a service, and its group membership."""
    membership, _created = Membership.objects.update_or_create(
        user=user, service=service, defaults={"role": role, "active": active}
    )
    permissions.membership_sync(membership)
    return membership
