"""Writes on organisation and persons."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import access_log_write
from referrals import permissions
from referrals.models import Membership, Person, PersonRecord, Service
from referrals.validators import birth_date_problem, parse_national_id


@transaction.atomic
def person_get_or_create(
    *, user, given_name: str, family_name: str = "", national_id: str | None = None, birth_date=None, municipality=None, service: Service | None = None
) -> Person:
    """The person with this identity number, or a new person; and ``service``'s record of the name.

    With a number, the birth date comes from the number (a different one given is an error);
    without one, a birth date is required and a new record is always made (no guessing matches).
    A number that matches a registered person links the service to that person but shows nothing
    of what others registered: the service's record holds the name as typed here.
    """
    if national_id:
        number, kind, derived = parse_national_id(national_id)
        if birth_date and birth_date != derived:
            raise ValidationError({"birth_date": _("The birth date does not match the identity number.")})
        person = Person.objects.filter(national_id=number).first()
        if person is None:
            person = Person.objects.create(
                given_name=given_name.strip(), family_name=family_name.strip(), national_id=number,
                id_kind=kind, birth_date=derived, municipality=municipality,
            )
            access_log_write(user=user, action="create", obj=person, person=person, purpose="registered", service=service)
        else:
            # Linking to a known person is a change of that person's data (a new service holds it).
            access_log_write(user=user, action="update", obj=person, person=person, purpose="registered", service=service)
    else:
        if birth_date is None:
            raise ValidationError({"birth_date": _("Give the birth date when the person has no identity number.")})
        problem = birth_date_problem(birth_date)
        if problem:
            raise ValidationError({"birth_date": problem})
        person = Person.objects.create(
            given_name=given_name.strip(), family_name=family_name.strip(), id_kind=Person.IdKind.NONE,
            birth_date=birth_date, municipality=municipality,
        )
        access_log_write(user=user, action="create", obj=person, person=person, purpose="registered", service=service)
    if service is not None:
        person_record_set(person=person, service=service, given_name=given_name, family_name=family_name)
    return person


def person_record_set(*, person: Person, service: Service, given_name: str, family_name: str = "") -> PersonRecord:
    """The service's own record of the person's name, set to what its user typed (created if new)."""
    record, _created = PersonRecord.objects.update_or_create(
        person=person, service=service,
        defaults={"given_name": (given_name or "").strip(), "family_name": (family_name or "").strip()},
    )
    return record


def person_records_move(*, source: Person, target: Person) -> None:
    """A minimal person identified as ``target``: each service's record moves along, unless the
    service already holds a record of ``target`` (its own name for the person stays)."""
    held = set(PersonRecord.objects.filter(person=target).values_list("service_id", flat=True))
    PersonRecord.objects.filter(person=source).exclude(service_id__in=held).update(person=target)
    PersonRecord.objects.filter(person=source).delete()


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
        access_log_write(user=by, action="update" if before else "create", obj=membership, purpose="membership changed",
                         service=service, via="admin", changes={"user_id": [None, user.pk], **changes})
    return membership
