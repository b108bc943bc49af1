"""Reads of organisation and persons that encode policy."""
from django.db.models import OuterRef, Subquery

from org.models import Service
from people.models import Person, PersonRecord


def person_record_for(person: Person | None, service: Service | None) -> PersonRecord | None:
    """``service``'s own record of ``person`` (the name as that service registered it), or None.

    The only way a page names a person: a service sees its own record, and the receiver of a case
    sees the record of the service that disclosed it (pass that service). Never the shared
    ``Person`` name, which another service may have typed.
    """
    if person is None or service is None:
        return None
    return PersonRecord.objects.filter(person=person, service=service).first()


def with_record_name(qs, person_ref: str, service):
    """``qs`` annotated with the name ``service`` (an id, or an OuterRef to one) registered for the
    person its rows name in ``person_ref`` (``record_given``, ``record_family``: None without a
    record), in the rows' own query: person_record_for for a whole list at no query of its own.
    ``record_name(row)`` names a row."""
    record = PersonRecord.objects.filter(person_id=OuterRef(person_ref), service_id=service)
    return qs.annotate(record_given=Subquery(record.values("given_name")[:1]), record_family=Subquery(record.values("family_name")[:1]))


def record_name(row, default: str = "–") -> str:
    """The name of a row of ``with_record_name``; ``default`` without a record."""
    return f"{row.record_given or ''} {row.record_family or ''}".strip() or default


def person_records_for(pairs) -> dict[tuple[int, int], PersonRecord]:
    """person_record_for for many rows at once: ``pairs`` of ``(person_id, service_id)`` → that
    service's own record of that person, with the person's birth date loaded; one query, whatever
    the number of pairs (a list page names its rows with it). Pairs without a record are missing."""
    pairs = {(p, s) for p, s in pairs if p is not None and s is not None}
    if not pairs:
        return {}
    records = (
        PersonRecord.objects.filter(person_id__in={p for p, _s in pairs}, service_id__in={s for _p, s in pairs})
        .select_related("person")
        .only("person_id", "service_id", "given_name", "family_name", "person__birth_date")
    )
    return {(r.person_id, r.service_id): r for r in records if (r.person_id, r.service_id) in pairs}


def person_name_for(person: Person | None, service: Service | None) -> str:
    record = person_record_for(person, service)
    return record.full_name if record else ""


def guardian_label(guardian: Person, service: Service | None, number: int) -> str:
    """A guardian as ``service`` may see them: its own record's name, else "Registered guardian n"."""
    return guardian_named(person_name_for(guardian, service), number)


def guardian_named(name: str, number: int) -> str:
    """guardian_label from a name already read (a page that reads many records at once): the
    service's record's name, else "Registered guardian n" (the n-th guardian of the consent)."""
    from django.utils.translation import gettext as _

    return name or _("Registered guardian %(n)s") % {"n": number}
