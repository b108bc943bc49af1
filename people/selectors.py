"""Reads of organisation and persons that encode policy."""
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


def person_name_for(person: Person | None, service: Service | None) -> str:
    record = person_record_for(person, service)
    return record.full_name if record else ""


def guardian_label(guardian: Person, service: Service | None, number: int) -> str:
    """A guardian as ``service`` may see them: its own record's name, else "Registered guardian n"."""
    from django.utils.translation import gettext as _

    return person_name_for(guardian, service) or _("Registered guardian %(n)s") % {"n": number}
