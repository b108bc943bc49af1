"""The contact statistics' counters (referrals.models.ContactStat), kept as contacts and referrals are
written, in the writing transaction: the statistics page and its CSV then read a few rows per
registering service and year, whatever the number of contacts.

- A contact registered: its service's and year's REGISTERED count + 1.
- A referral of a contact: REFERRED + 1 if it is the contact's first referral; DESTINATION of its
  target (none: a coordinator's routing queue) + 1 if no other referral of the contact went there.
- A queued referral routed: the queue's DESTINATION − 1 if no other referral of the contact waits
  there, the target's + 1 if no other referral of the contact went there.

Counting a referral locks its contact's row, so two referrals of one contact written at once
are counted one after the other (the second sees the first). ``counted_from_rows`` counts the same
from the contacts and referrals themselves: the migration fills the table with it, and the tests
hold the counters to it.
"""
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import ExtractYear
from django.utils import timezone

from referrals.models import Contact, ContactStat, Referral

REGISTERED, REFERRED, DESTINATION = ContactStat.Measure.REGISTERED, ContactStat.Measure.REFERRED, ContactStat.Measure.DESTINATION


def _table(stat_model) -> str:
    return connection.ops.quote_name(stat_model._meta.db_table)


def add(stat_model, rows) -> None:
    """Add ``rows`` of (service id, year, measure, destination id or None, delta) to the counters:
    one upsert per kind of key (with and without a destination)."""
    table = _table(stat_model)
    for with_destination in (True, False):
        part = [r for r in rows if (r[3] is not None) == with_destination]
        if not part:
            continue
        key = '"service_id", "year", "measure"' + (', "destination_id"' if with_destination else "")
        where = '"destination_id" IS NOT NULL' if with_destination else '"destination_id" IS NULL'
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(part))
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} ("service_id", "year", "measure", "destination_id", "count") VALUES {values} '
                f'ON CONFLICT ({key}) WHERE {where} DO UPDATE SET "count" = {table}."count" + excluded."count"',
                [v for r in part for v in r],
            )


def _year(moment) -> int:
    return timezone.localtime(moment).year


def contact_registered(contact) -> None:
    add(ContactStat, [(contact.service_id, _year(contact.created_at), REGISTERED, None, 1)])


def _contact_and_other_targets(referral):
    """The referral's contact, locked, and the targets (None: still queued) of its other referrals."""
    # FOR NO KEY UPDATE: the referral's insert holds KEY SHARE on the contact (its foreign key); a
    # FOR UPDATE would wait on the other sender's KEY SHARE while it waits on ours (a deadlock).
    contact = Contact.objects.select_for_update(no_key=True).only("service_id", "created_at").get(pk=referral.contact_id)
    others = set(Referral.objects.filter(contact_id=contact.pk).exclude(pk=referral.pk).values_list("target_service_id", flat=True))
    return contact, others


def referral_added(referral) -> None:
    """Count a new referral of a contact (none: nothing to count)."""
    _count(referral, lambda others: [
        (REFERRED, None, 1, not others),
        (DESTINATION, referral.target_service_id, 1, referral.target_service_id not in others),
    ])


def referral_routed(referral) -> None:
    """Move a contact's referral, routed from a coordinator's queue to ``referral.target_service``."""
    _count(referral, lambda others: [
        (DESTINATION, None, -1, None not in others),
        (DESTINATION, referral.target_service_id, 1, referral.target_service_id not in others),
    ])


def _count(referral, changes) -> None:
    """Add, for the referral's contact (locked), the (measure, destination, delta, whether it
    applies) rows ``changes`` gives for the targets of the contact's other referrals."""
    if referral.contact_id is None:
        return
    contact, others = _contact_and_other_targets(referral)
    key = (contact.service_id, _year(contact.created_at))
    add(ContactStat, [(*key, measure, destination, delta) for measure, destination, delta, applies in changes(others) if applies])


def counted_from_rows(contact_model, referral_model) -> dict:
    """The counters as the contacts and referrals say they are: {(service id, year, measure,
    destination id or None): count}, without zeros. Three aggregate queries over the whole tables
    (the migration and the tests; never a page)."""
    years = ExtractYear("created_at")
    found = {}
    for row in contact_model.objects.annotate(y=years).values("service_id", "y").annotate(n=Count("pk")).order_by():
        found[(row["service_id"], row["y"], REGISTERED, None)] = row["n"]
    referred = (
        contact_model.objects.filter(Exists(referral_model.objects.filter(contact=OuterRef("pk"))))
        .annotate(y=years).values("service_id", "y").annotate(n=Count("pk")).order_by()
    )
    for row in referred:
        found[(row["service_id"], row["y"], REFERRED, None)] = row["n"]
    destinations = (
        referral_model.objects.filter(contact__isnull=False).annotate(y=ExtractYear("contact__created_at"))
        .values("contact__service_id", "y", "target_service_id").annotate(n=Count("contact_id", distinct=True)).order_by()
    )
    for row in destinations:
        found[(row["contact__service_id"], row["y"], DESTINATION, row["target_service_id"])] = row["n"]
    return found


def rebuild(contact_model, referral_model, stat_model) -> int:
    """Replace the counters with ``counted_from_rows``; the number of rows written. In one
    transaction; on PostgreSQL the counters are locked against writers first (EXCLUSIVE: reads go
    on), so a referral counted while the rebuild runs is either in its count or added after it."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {_table(stat_model)} IN EXCLUSIVE MODE")
        return _rebuild(contact_model, referral_model, stat_model)


def _rebuild(contact_model, referral_model, stat_model) -> int:
    stat_model.objects.all().delete()
    rows = [
        stat_model(service_id=service, year=year, measure=measure, destination_id=destination, count=n)
        for (service, year, measure, destination), n in counted_from_rows(contact_model, referral_model).items()
    ]
    stat_model.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
