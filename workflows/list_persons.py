"""Who a list row is about: the person's name and birth year, for the users whose role allows it.

A list names a row's person by the rule the case page follows (never a second one): through the
record of the service that holds the case's data at its source (a concern's reporting service, a
referral's sender; people.selectors.person_record_for), and only on rows whose case the user holds a
role on through one of their services (a receiving service's role rests on a disclosure in force:
its grant is revoked with the disclosure). Every person a page names is logged as a list read, one
access-log row per person, in one INSERT. The lookup reads the page's rows only: one query for the
records, one statement for the log, whatever the number of rows.
"""
from dataclasses import dataclass

from audit.services import access_log_list_read
from people.selectors import person_records_for


@dataclass(frozen=True)
class Naming:
    """Whom a row may name, and how: its case record (``obj``, for the log), the person, the
    service whose record names them, and the user's service through whose role the list shows it."""

    obj: object
    person_id: int
    named_by_id: int
    acting_service_id: int


@dataclass(frozen=True)
class ListedPerson:
    """What a list shows of a row's person: the name as the naming service holds it, and the year
    of the birth date the person was registered with (None when only an approximate age is known)."""

    name: str
    birth_year: int | None


def list_persons_show(user, rows, *, naming, purpose: str) -> list:
    """Set ``row.listed_person`` on each of ``rows`` (a ListedPerson, or None where the row names no
    one: an anonymous consultation, no role, no record), and log the persons named as a list read
    with ``purpose`` (a declared purpose of the process, see Process.audit_purposes).

    ``naming(row)`` returns the row's Naming or None. Returns ``rows`` (a list).
    """
    rows = list(rows)
    namings = [naming(row) for row in rows]
    records = person_records_for((n.person_id, n.named_by_id) for n in namings if n is not None)
    shown = []
    for row, n in zip(rows, namings):
        record = records.get((n.person_id, n.named_by_id)) if n is not None else None
        if record is None:
            row.listed_person = None
            continue
        birth = record.person.birth_date
        row.listed_person = ListedPerson(name=record.full_name, birth_year=birth.year if birth else None)
        shown.append((n.obj, n.person_id, n.acting_service_id))
    access_log_list_read(user=user, shown=shown, purpose=purpose)
    return rows
