"""Writes on persons: registration by identity number or birth date, each service's own record of the name,
and the merge of a minimal contact into the person it was identified as."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from django.utils import timezone

from org.access import require_member
from org.models import Service
from org import recording
from people import holders
from people.models import Guardianship, Person, PersonRecord, ServicePeriod
from people.validators import birth_date_problem, parse_national_id


@transaction.atomic
def person_get_or_create(
    *, user, given_name: str, family_name: str = "", national_id: str | None = None, birth_date=None, municipality=None, service: Service | None = None
) -> Person:
    """The person with this identity number, or a new person; and ``service``'s record of the name.

    With a number, the birth date comes from the number (a different one given is an error);
    without one, a birth date is required and a new record is always made (no guessing matches).
    A number that matches a registered person links the service to that person but shows nothing
    of what others registered: the service's record holds the name as typed here. Two transactions
    registering the same new number at once both get the one person (the second waits for the
    first's commit on the number's key), never a duplicate-key error.
    """
    if national_id:
        number, kind, derived = parse_national_id(national_id)
        if birth_date and birth_date != derived:
            raise ValidationError({"birth_date": _("The birth date does not match the identity number.")})
        # Django's get_or_create inserts in a savepoint and, when a concurrent registration of the
        # same number committed first (the insert fails on the unique number), reads that row.
        person, created = Person.objects.get_or_create(
            national_id=number,
            defaults={"given_name": given_name.strip(), "family_name": family_name.strip(), "id_kind": kind,
                      "birth_date": derived, "municipality": municipality},
        )
        if created:
            recording.record(user=user, action="create", obj=person, person=person, purpose="registered", service=service)
        else:
            # Linking to a known person is a change of that person's data (a new service holds it).
            recording.record(user=user, action="update", obj=person, person=person, purpose="registered", service=service)
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
        recording.record(user=user, action="create", obj=person, person=person, purpose="registered", service=service)
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


def _links_held_by_both_drop(model, field: str, *, source: Person, target: Person) -> None:
    """A many-to-many link ``target`` already has (a consent given by both records of one guardian)
    is dropped from ``source`` rather than duplicated: the link rows are unique and hold nothing else."""
    if not model._meta.auto_created:
        return
    (other,) = [f.name for f in model._meta.local_fields if f.is_relation and f.name != field]
    held = model._default_manager.filter(**{field: target}).values(other)
    model._default_manager.filter(**{field: source, f"{other}__in": held}).delete()


def person_merge(*, source: Person, target: Person) -> None:
    """``source`` (a minimal contact) turned out to be ``target``: every row that holds ``source``
    moves to ``target``, and ``source`` points to it (``merged_into``). Call inside the caller's
    transaction with ``source`` locked.

    Every table declared in people.holders is re-pointed, except those kept as written (the
    append-only access log), after the merge hooks registered there have collapsed the rows that
    both records hold where only one may be (a process's own rule); guardianships move on both
    sides, dropping one that ``target`` already has or that would make a person their own guardian.
    """
    if source.pk == target.pk:
        raise ValueError("a person cannot be merged into itself")
    person_records_move(source=source, target=target)
    for hook in holders.merge_hooks():
        hook(source=source, target=target)
    for holding in holders.holdings():
        if holding.merge:
            _links_held_by_both_drop(holding.model_class, holding.person_field, source=source, target=target)
            holding.model_class._default_manager.filter(**{holding.person_field: source}).update(**{holding.person_field: target})
    for side, other in (("child", "guardian"), ("guardian", "child")):
        for row in Guardianship.objects.filter(**{side: source}):
            duplicate = Guardianship.objects.filter(**{side: target, other: getattr(row, f"{other}_id")}).exists()
            if duplicate or getattr(row, f"{other}_id") == target.pk:
                row.delete()
            else:
                Guardianship.objects.filter(pk=row.pk).update(**{side: target})
    source.merged_into = target
    source.save(update_fields=["merged_into"])


@transaction.atomic
def service_period_record(*, user, service: Service, person: Person, started_on, ended_on=None) -> ServicePeriod:
    """Register that ``service`` gave ``person`` a service from ``started_on`` to ``ended_on`` (empty:
    ongoing), by a member of ``service``: the register a BrukerPlan round's cohort is drawn from.
    Refused (a translated ValidationError, nothing saved) for a start in the future or an end before
    the start. Written to the access log (the service now holds a role with the person)."""
    require_member(user, service, _("You are not a member of this service."))
    errors = {}
    if started_on is None or started_on > timezone.localdate():
        errors["started_on"] = _("Give the day the service started; it cannot be in the future.")
    elif ended_on is not None and ended_on < started_on:
        errors["ended_on"] = _("The service cannot end before it started.")
    if person.merged_into_id is not None:
        errors["person"] = _("This person's record has been merged into another; register the period on that one.")
    if errors:
        raise ValidationError(errors)
    period = ServicePeriod.objects.create(person=person, service=service, started_on=started_on, ended_on=ended_on)
    recording.record(user=user, action="create", obj=period, person=person, purpose="service period recorded", service=service)
    return period
