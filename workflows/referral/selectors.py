"""Reads that encode policy for referrals, contacts and the service catalogue.

Which rows a user's lists show, in which order, page by page (keyset, never OFFSET), and the
aggregated statistics (counts only, never identities). Every list is narrowed by the user's
services on an indexed column first, then filtered row by row by the object permission.
"""
import datetime

from django.db import connection
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, ExtractYear
from guardian.models import GroupObjectPermission
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.access import held_roles, member_group_ids, member_service_ids, permitted_ids_subquery, user_services
from org.permissions import CONTACT_HANDLER, REFERRAL_HANDLER, REFERRAL_ROUTER, REFERRAL_SENDER, codename
from org.models import Membership, Service
from people.models import Person
from referrals.models import BreakGlassAccess, CatalogueEntry, Contact, ContactStat, Referral
from workflows.models import ReferralProcess
from workflows.deadlines import add_working_days
from workflows.list_persons import Naming
from org.paging import PAGE_SIZE, KeysetPage, OpaqueCursors
from workflows.referral.services import ROUTING_KINDS

SENDER_PERM = codename(REFERRAL_SENDER)
HANDLER_PERM = codename(REFERRAL_HANDLER)
ROUTER_PERM = codename(REFERRAL_ROUTER)
CONTACT_PERM = codename(CONTACT_HANDLER)

# (key, label, lowest age, highest age or None); "unknown" holds persons without any age.
AGE_BANDS = [
    ("u18", _("Under 18"), 0, 17),
    ("18-25", _("18–25"), 18, 25),
    ("26-40", _("26–40"), 26, 40),
    ("41-64", _("41–64"), 41, 64),
    ("65+", _("65 and older"), 65, None),
]
UNKNOWN_BAND = ("unknown", _("Age unknown"))


def coordinating_services(user):
    """The user's services that run a routing queue (substance service coordinators)."""
    return user_services(user).filter(kind__in=ROUTING_KINDS)


def coordinating_service_ids(user) -> list[int]:
    """Ids of the user's coordinating services: a list, so each coordinator list walks its
    (routing service, sort key, id) index for a constant and stops after a page (see member_service_ids)."""
    return list(coordinating_services(user).order_by().values_list("pk", flat=True))


def _list_qs(*, with_age: bool = False):
    related = ["sender_service", "target_service", "routing_service"] + (["person"] if with_age else [])
    fields = ["code", "kind", "status", "sent_at", "created_at", "closed_at", "next_deadline_at", "forwarded_from_id",
              "sender_service__name", "target_service__name", "routing_service__name"]
    if with_age:
        # Only what the age band needs; names come from the person records (workflows.list_persons).
        fields += ["person__birth_date", "person__approx_age"]
    else:
        fields += ["person"]
    return Referral.objects.select_related(*related).only(*fields)


# --- referral lists ----------------------------------------------------------------------------

# The cursors of the referral, contact and catalogue lists: signed, so a user can neither read nor
# edit a position (a forged one shows the first page). The salt is the one links were signed with
# before the pager moved to org.paging, so links already made keep working.
CURSORS = OpaqueCursors("workflows.referral.paging")


# Every list below returns an org.paging.KeysetPage: its ``rows``, ``next_cursor`` and
# ``previous_cursor``, the cursors opaque (CURSORS). Each is narrowed first by the user's services
# (a list of ids) on the index that gives its order (referrals.models.Referral.Meta.indexes), then
# row by row by the role's object permission: a page reads about one page of index entries.


def referral_sent_list(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """“Sent referrals”: referrals of the user's services as sender, newest first."""
    qs = _list_qs().filter(sender_service__in=member_service_ids(user)).filter(permitted_ids_subquery(user, Referral, SENDER_PERM))
    return CURSORS.browse(qs, "created_at", cursor, descending=True, page_size=page_size)


def referral_incoming_list(user, *, cursor: str | None = None, open_only: bool = True, page_size: int = PAGE_SIZE) -> KeysetPage:
    """“Incoming referrals”: referrals addressed to the user's services that they may handle.

    Open ones (default) come oldest first, so the longest-waiting is on top (the partial index of
    open referrals); all of them newest first.
    """
    qs = _list_qs().filter(target_service__in=member_service_ids(user)).filter(permitted_ids_subquery(user, Referral, HANDLER_PERM))
    if open_only:
        return CURSORS.browse(qs.filter(status__in=Referral.OPEN_STATUSES), "sent_at", cursor, descending=False, page_size=page_size)
    return CURSORS.browse(qs, "sent_at", cursor, descending=True, page_size=page_size)


def routing_queue(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE, services: list[int] | None = None) -> KeysetPage:
    """The coordinator's routing queue: not yet routed referrals of the user's coordinating services
    (``services``, their ids, when the caller has them), oldest first."""
    ids = coordinating_service_ids(user) if services is None else services
    qs = (
        _list_qs()
        .filter(routing_service__in=ids, target_service__isnull=True, status=Referral.Status.REQUESTED)
        .filter(permitted_ids_subquery(user, Referral, ROUTER_PERM))
    )
    return CURSORS.browse(qs, "sent_at", cursor, descending=False, page_size=page_size)


def at_risk_threshold(now: datetime.datetime | None = None) -> datetime.datetime:
    """A deadline before this instant is at risk: within one working day from now, or already passed."""
    return add_working_days(now or timezone.now(), 1)


def referral_at_risk_list(user, *, cursor: str | None = None, now=None, page_size: int = PAGE_SIZE,
                          services: list[int] | None = None) -> KeysetPage:
    """Referrals the user's coordinating services routed whose next deadline is within one working
    day or overdue, the most urgent first (the partial index of referrals with an open deadline)."""
    ids = coordinating_service_ids(user) if services is None else services
    qs = (
        _list_qs()
        .filter(routing_service__in=ids, next_deadline_at__lt=at_risk_threshold(now))
        .filter(permitted_ids_subquery(user, Referral, ROUTER_PERM))
    )
    return CURSORS.browse(qs, "next_deadline_at", cursor, descending=False, page_size=page_size)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def age_band_q(key: str, *, on: datetime.date | None = None, prefix: str = "person__") -> Q:
    """Rows whose person is in the age band ``key`` on ``on`` (today): by birth date, else by the
    approximate age of a minimal contact."""
    on = on or timezone.localdate()
    if key == UNKNOWN_BAND[0]:
        return Q(**{f"{prefix}birth_date__isnull": True, f"{prefix}approx_age__isnull": True})
    for band_key, _label, low, high in AGE_BANDS:
        if band_key != key:
            continue
        born = Q(**{f"{prefix}birth_date__lte": _years_before(on, low)})
        approx = Q(**{f"{prefix}birth_date__isnull": True, f"{prefix}approx_age__gte": low})
        if high is not None:
            born &= Q(**{f"{prefix}birth_date__gt": _years_before(on, high + 1)})
            approx &= Q(**{f"{prefix}approx_age__lte": high})
        return born | approx
    raise ValueError(f"unknown age band {key!r}")


def age_band_choices():
    return [(key, label) for key, label, _low, _high in AGE_BANDS] + [UNKNOWN_BAND]


def age_band_of(person, *, on: datetime.date | None = None) -> str:
    """The label of the person's age band (for one row on a page)."""
    age = person.age_on(on or timezone.localdate())
    if age is None:
        return UNKNOWN_BAND[1]
    for _key, label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return UNKNOWN_BAND[1]


def _coordinator_qs(user, qs=None, *, services: list[int] | None = None):
    qs = Referral.objects.all() if qs is None else qs
    ids = coordinating_service_ids(user) if services is None else services
    return qs.filter(routing_service__in=ids).filter(permitted_ids_subquery(user, Referral, ROUTER_PERM))


def coordinator_list(user, *, status: str | None = None, band: str | None = None, year: int | None = None,
                     cursor: str | None = None, page_size: int = PAGE_SIZE, services: list[int] | None = None) -> KeysetPage:
    """Referrals the user's coordinating services route, filtered by status, age band and year, newest first."""
    qs = _coordinator_qs(user, _list_qs(with_age=True), services=services)
    if year:
        qs = qs.filter(sent_at__year=year)
    if status:
        qs = qs.filter(status=status)
    if band:
        qs = qs.filter(age_band_q(band))
    return CURSORS.browse(qs, "sent_at", cursor, descending=True, page_size=page_size)


def coordinator_counts(user, *, year: int | None = None, services: list[int] | None = None):
    """Counts of the coordinating services' referrals by status × age band (one query).

    Returns ``{"bands": [(key, label)], "rows": [(status, label, {band: n}, total)], "totals": {band: n}, "total": n}``.

    Statistics, counted as the statistics page counts a routing service's referrals: those the
    services route that reached them (their process started; one whose legal basis still awaits a
    leader's approval was never shared with the coordinator and is not counted), without a
    permission lookup per row. Each row is read from the routing index alone
    (``referral_routing_counts_idx`` holds its status, person and id), and its band from its person
    by primary key (the bands are disjoint; a row in none counts in the total only), so the count
    reads the services' rows of the year and never joins, or scans, the whole person table.
    """
    bands = age_band_choices()
    ids = coordinating_service_ids(user) if services is None else services
    qs = Referral.objects.filter(routing_service__in=ids)
    if year:
        qs = qs.filter(sent_at__year=year)
    # A scalar subquery (an index-only lookup on the process's unique referral index per row), not
    # EXISTS, which PostgreSQL may turn into a join over every process (org.access.permitted_ids_subquery).
    delivered = ReferralProcess.objects.filter(referral=OuterRef("pk")).order_by().values("referral_id")[:1]
    qs = qs.filter(IsNull(Subquery(delivered), False))
    today = timezone.localdate()
    band = Case(*[When(age_band_q(key, on=today, prefix=""), then=Value(key)) for key, _label in bands], default=None,
                output_field=CharField())
    qs = qs.annotate(band=Subquery(Person.objects.filter(pk=OuterRef("person_id")).annotate(band=band).values("band")[:1]))
    found = {}  # status → {band or None: n}, grouped once by (status, band): one lookup per row
    for row in qs.values("status", "band").annotate(n=Count("pk")).order_by():
        found.setdefault(row["status"], {})[row["band"]] = row["n"]
    rows, totals = [], {key: 0 for key, _label in bands}
    for status, label in Referral.Status.choices:
        by_band = found.get(status, {})
        counts = {key: by_band.get(key, 0) for key, _label in bands}
        for key, n in counts.items():
            totals[key] += n
        rows.append((status, label, counts, sum(by_band.values())))
    return {"bands": bands, "rows": rows, "totals": totals, "total": sum(r[3] for r in rows)}


# The links of a forwarding chain, by id: up through ``forwarded_from`` to the first, and down
# through the referral forwarded from each (``forwarded_from`` is one-to-one: one next link at most).
_CHAIN_IDS = """
    WITH RECURSIVE up(id, forwarded_from_id) AS (
        SELECT id, forwarded_from_id FROM {table} WHERE id = %s
        UNION ALL
        SELECT r.id, r.forwarded_from_id FROM {table} r INNER JOIN up ON r.id = up.forwarded_from_id
    ), down(id) AS (
        SELECT id FROM {table} WHERE id = %s
        UNION ALL
        SELECT r.id FROM {table} r INNER JOIN down ON r.forwarded_from_id = down.id
    )
    SELECT id FROM up UNION SELECT id FROM down
"""


def referral_chain(referral: Referral, user) -> list[dict]:
    """The forwarding chain the referral is part of, first to last, each with whether ``user`` may open it.

    One query whatever the chain's length (none for a referral that is neither forwarded nor
    declined): the links, each with whether the user holds a role on it — a referral permission
    through one of their groups, or an unexpired emergency access (the rule of
    ``referrals.access.referral_roles``). Caches on ``referral`` the link forwarded from it
    (``forwarded_to``, or none), which the forward step's guard asks.
    """
    forwarded_to = Referral._meta.get_field("forwarded_to")
    if referral.forwarded_from_id is None and referral.status != Referral.Status.REJECTED:
        # Only a declined referral is forwarded (services.FORWARD), and it stays declined: no chain.
        forwarded_to.set_cached_value(referral, None)
        return []
    ct = ContentType.objects.get_for_model(Referral)
    granted = GroupObjectPermission.objects.filter(
        content_type=ct, group_id__in=member_group_ids(user), object_pk=Cast(OuterRef("pk"), CharField()),
        permission__content_type=ct, permission__codename__in=[codename(p) for p in (REFERRAL_SENDER, REFERRAL_HANDLER, REFERRAL_ROUTER)],
    ).order_by().values("pk")[:1]
    emergency = BreakGlassAccess.objects.filter(
        user_id=user.pk, user__is_active=True, subject_type=ct, subject_id=OuterRef("pk"), expires_at__gt=timezone.now(), ended_at__isnull=True,
    ).order_by().values("pk")[:1]
    rows = {
        r.pk: r for r in Referral.objects.filter(pk__in=RawSQL(_CHAIN_IDS.format(table=Referral._meta.db_table), [referral.pk, referral.pk]))
        .select_related("target_service")
        .annotate(granted=IsNull(Subquery(granted), False), emergency=IsNull(Subquery(emergency), False))
    }
    visible = {pk for pk, r in rows.items() if r.granted or r.emergency}
    rows[referral.pk] = referral
    following = {r.forwarded_from_id: r for r in rows.values() if r.forwarded_from_id is not None}
    forwarded_to.set_cached_value(referral, following.get(referral.pk))
    links = [next(r for r in rows.values() if r.forwarded_from_id not in rows)]
    while links[-1].pk in following:
        links.append(following[links[-1].pk])
    if len(links) == 1:
        return []
    return [{"referral": r, "current": r.pk == referral.pk, "visible": r.pk == referral.pk or r.pk in visible} for r in links]


# --- contacts ----------------------------------------------------------------------------------


def contact_list(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """Contacts registered by the user's services, newest first, with whether each was referred on."""
    qs = (
        Contact.objects.filter(service__in=member_service_ids(user))
        .filter(permitted_ids_subquery(user, Contact, CONTACT_PERM))
        .select_related("service", "created_by")
        .annotate(referred=Exists(Referral.objects.filter(contact=OuterRef("pk"))))
    )
    return CURSORS.browse(qs, "created_at", cursor, descending=True, page_size=page_size)


# --- the service catalogue ---------------------------------------------------------------------


def catalogue_search(*, kind: str = "", age: int | None = None, text: str = "", open_only: bool = False,
                     cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """“Where can I refer?”: active services in the catalogue, by name, filtered by what they take,
    the person's age and free text. A KeysetPage."""
    qs = CatalogueEntry.objects.filter(service__active=True).select_related("service", "service__municipality").prefetch_related("areas")
    if kind:
        # accepts is a JSON list of kind codes; its text holds each code in quotes (both SQLite and PostgreSQL).
        qs = qs.filter(accepts__icontains=f'"{kind}"')
    if age is not None:
        qs = qs.filter(Q(min_age__isnull=True) | Q(min_age__lte=age)).filter(Q(max_age__isnull=True) | Q(max_age__gte=age))
    for word in (text or "").split()[:5]:
        qs = qs.filter(
            Q(service__name__icontains=word) | Q(description__icontains=word) | Q(intake_notes__icontains=word) | Q(address__icontains=word)
        )
    if open_only:
        qs = qs.exclude(capacity=CatalogueEntry.Capacity.CLOSED)
    return CURSORS.browse(qs, "service__name", cursor, descending=False, page_size=page_size)


def catalogue_services(*, exclude=()):
    """Services that take referrals through the catalogue (for the “to which service” choices).

    ``exclude`` is a service or an iterable of services (None entries are ignored).
    """
    qs = Service.objects.filter(catalogue__isnull=False, active=True).order_by("name")
    excluded = [exclude] if isinstance(exclude, Service) else list(exclude or ())
    ids = [s.pk for s in excluded if s is not None]
    return qs.exclude(pk__in=ids) if ids else qs


def referral_targets(*, person, kind: str | None, exclude=(), on: datetime.date | None = None):
    """The catalogue services that would take a referral of ``kind`` for ``person`` now (a queryset
    for the send, route and forward choices): active, accepting ``kind`` (any kind when None: a
    service that takes no referral at all, such as a barnehage or the police, is never offered),
    the person's age within the entry's range (an unknown age only where the entry sets none),
    serving the person's municipality, and not closed for referrals. The same rules by which
    ``services.eligibility_errors`` refuses a choice, so a page offers exactly what the service takes.
    """
    on = on or timezone.localdate()
    qs = catalogue_services(exclude=exclude).exclude(catalogue__capacity=CatalogueEntry.Capacity.CLOSED)
    # accepts is a JSON list of kind codes; its text holds each code in quotes (SQLite and PostgreSQL).
    qs = qs.filter(catalogue__accepts__icontains=f'"{kind}"' if kind else '"')
    age = person.age_on(on)
    if age is None:
        qs = qs.filter(catalogue__min_age__isnull=True, catalogue__max_age__isnull=True)
    else:
        qs = qs.filter(Q(catalogue__min_age__isnull=True) | Q(catalogue__min_age__lte=age)).filter(
            Q(catalogue__max_age__isnull=True) | Q(catalogue__max_age__gte=age)
        )
    if person.municipality_id:
        served = CatalogueEntry.areas.through.objects.filter(catalogueentry_id=OuterRef("catalogue"))
        qs = qs.filter(~Exists(served) | Exists(served.filter(municipality_id=person.municipality_id)))
    return qs


def routing_services():
    return Service.objects.filter(kind__in=ROUTING_KINDS, active=True).order_by("name")


# --- statistics (counts only) ------------------------------------------------------------------

STATUS_COLUMNS = [(s.value, s.value.replace("-", "_"), s.label) for s in Referral.Status]


def stats_services(user):
    """The services whose statistics the user may see: the ones the user is a member of."""
    return Service.objects.filter(pk__in=member_service_ids(user)).order_by("name")


STATS_CHUNK = 2000


def _destination_branches(ids: list[int]):
    """The referrals the statistics of services ``ids`` count, as three disjoint querysets, each
    read on its own index (sender, routing service, target): the ones they sent; routed and not
    sent; received (delivered: their process started) and neither sent nor routed. One OR over the
    three columns and the process join would read the whole table instead."""
    # Delivered: its process started. Only a referral still awaiting a leader's approval of its
    # legal basis (requested), or cancelled before it was approved, has none; the others are asked
    # no further (a probe of the process table per referral read the whole table instead).
    delivered = ~Q(status__in=[Referral.Status.REQUESTED, Referral.Status.CANCELLED]) | Exists(ReferralProcess.objects.filter(referral=OuterRef("pk")))
    routed_elsewhere = Q(routing_service__isnull=True) | ~Q(routing_service__in=ids)
    return (
        Referral.objects.filter(sender_service__in=ids),
        Referral.objects.filter(routing_service__in=ids).exclude(sender_service__in=ids),
        Referral.objects.filter(delivered, target_service__in=ids).exclude(sender_service__in=ids).filter(routed_elsewhere),
    )


def stats_referrals_by_destination_rows(user, *, year: int | None = None):
    """Referrals per destination service and year, with a count per status, for referrals the user's
    services sent, routed or received, newest year first, then by service name: a generator of
    ``{"year", "service", "total", "statuses"}`` over one query read in chunks through a server-side
    cursor (constant memory, for the CSV export). The query adds up three aggregates on the services'
    indexes, one per role (_destination_branches); no identities."""
    ids = member_service_ids(user)
    if not ids:
        return
    # A receiving service counts only referrals that reached it (delivered: their process started);
    # one still awaiting a leader's approval of its legal basis is the sender's alone.
    branches = []
    for qs in _destination_branches(ids):
        qs = qs.filter(target_service__isnull=False)
        if year:
            qs = qs.filter(sent_at__year=year)
        # By the destination's id only, counting statuses (never null), not ids: each branch is an
        # index-only scan of its service's index (referral_stats_*_idx); with the name joined in or
        # the id counted, PostgreSQL read every one of the service's referrals from the table.
        branches.append(
            qs.annotate(year=ExtractYear("sent_at"))
            .values("year", "target_service_id")
            .annotate(total=Count("status"), **{alias: Count("status", filter=Q(status=value)) for value, alias, _label in STATUS_COLUMNS})
            .order_by()
        )
    union_sql, params = branches[0].union(*branches[1:], all=True).query.sql_with_params()
    sums = ", ".join(f'SUM(u."{alias}")' for alias in ["total", *(alias for _value, alias, _label in STATUS_COLUMNS)])
    service = connection.ops.quote_name(Service._meta.db_table)
    # Newest year first (a referral without a sending time first, as PostgreSQL sorts NULL), then by name.
    sql = (f'SELECT u."year", s."name", {sums} FROM ({union_sql}) u JOIN {service} s ON s."id" = u."target_service_id" '
           f'GROUP BY u."year", u."target_service_id", s."name" '
           f'ORDER BY u."year" DESC NULLS FIRST, s."name", u."target_service_id"')
    for year_, name, total, *statuses in _chunked_rows(sql, params):
        yield {"year": int(year_) if year_ is not None else None, "service": name, "total": int(total),
               "statuses": [int(n) for n in statuses]}


def stats_referrals_by_destination(user, *, year: int | None = None) -> list[dict]:
    """The rows of stats_referrals_by_destination_rows, as a list (for the statistics page): a row
    per year and destination service, whatever the number of referrals."""
    return list(stats_referrals_by_destination_rows(user, year=year))


def _chunked_rows(sql: str, params):
    """The rows of ``sql``, fetched STATS_CHUNK at a time through a server-side cursor, as
    QuerySet.iterator() reads them (a plain cursor where the settings turn those off)."""
    server_side = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    with (connection.chunked_cursor() if server_side else connection.cursor()) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(STATS_CHUNK):
            yield from rows


def stats_contacts_referred_rows(user, *, year: int | None = None):
    """Contacts registered per service and year, how many were referred on, and to which services
    (the 476 contacts / 167 referred / 48 to tildelingskontoret shape), newest year first, then by
    service name; a service's destinations by most contacts first, then by name (the routing queue
    after the services with as many). A generator over the counters kept as contacts and referrals are written
    (referrals.contact_stats): a few rows per service and year, read in chunks (constant memory, for
    the CSV export), never the contacts themselves."""
    ids = member_service_ids(user)
    if not ids:
        return
    counters = ContactStat.objects.filter(service__in=ids, count__gt=0)
    if year:
        counters = counters.filter(year=year)
    rows = (
        counters.values_list("year", "service_id", "service__name", "measure", "destination__name", "count")
        .order_by("-year", "service__name", "service_id", "measure", "-count", F("destination__name").asc(nulls_last=True))
        .iterator(chunk_size=STATS_CHUNK)
    )
    current = None
    for year_, service_id, name, measure, destination, count in rows:
        if current is None or (current["year"], current["service_id"]) != (year_, service_id):
            if current is not None:
                yield _contacts_row(current)
            current = {"year": year_, "service_id": service_id, "service": name, "contacts": 0, "referred": 0, "destinations": []}
        if measure == ContactStat.Measure.REGISTERED:
            current["contacts"] = count
        elif measure == ContactStat.Measure.REFERRED:
            current["referred"] = count
        else:
            current["destinations"].append({"service": destination or str(_("A coordinator's routing queue (not yet routed)")), "contacts": count})
    if current is not None:
        yield _contacts_row(current)


def _contacts_row(current: dict) -> dict:
    return {k: current[k] for k in ("year", "service", "contacts", "referred", "destinations")}


def stats_contacts_referred(user, *, year: int | None = None) -> list[dict]:
    """The rows of stats_contacts_referred_rows, as a list (for the statistics page)."""
    return list(stats_contacts_referred_rows(user, year=year))


def open_referrals_on_consent(consent) -> int:
    """How many open referrals rest on ``consent``: recorded on it, or disclosed on it and not revoked."""
    # One union of two index lookups: as "recorded on it OR disclosed on it" PostgreSQL scanned every
    # referral (80 ms at 300,000 referrals on the consent page).
    disclosed = consent.disclosures.filter(revoked_at__isnull=True, subject_type__model="referral").values("subject_id").order_by()
    recorded = Referral.objects.filter(consent=consent).values("pk").order_by()
    return Referral.objects.filter(pk__in=recorded.union(disclosed), status__in=Referral.OPEN_STATUSES).count()


# --- who a list row names (workflows.list_persons) ---------------------------------------------

# The service of the referral through which a user holding each role acts.
ROLE_SERVICE = {"sender": "sender_service_id", "handler": "target_service_id", "router": "routing_service_id"}


def referral_naming(*, as_role: str):
    """The Naming of a referral row on a list the user sees as ``as_role`` ("sender", "handler" or
    "router"): the person, named by the sender's record (as the referral page names them), for
    the user's service in that role.

    Only for lists already narrowed to the referrals the user holds that role on (the sent,
    incoming and coordinator lists filter by the role's object permission; a receiver's and a
    coordinator's permission rests on a disclosure in force and is revoked with it).
    """
    service_field = ROLE_SERVICE[as_role]

    def naming(referral):
        acting = getattr(referral, service_field)
        if referral.person_id is None or acting is None:
            return None
        return Naming(obj=referral, person_id=referral.person_id, named_by_id=referral.sender_service_id, acting_service_id=acting)

    return naming


def contact_naming(contact):
    """The Naming of a contact row (the contact list holds the contacts of the user's services, by
    their permission): the person, named by the registering service's record, as on its page."""
    if contact.person_id is None:
        return None
    return Naming(obj=contact, person_id=contact.person_id, named_by_id=contact.service_id, acting_service_id=contact.service_id)


def referral_list_namings(user, referrals) -> dict:
    """For lists not narrowed by the role (the task lists): ``{referral pk: Naming}`` for the
    ``referrals`` the user holds a role on now, through a service group (referral_roles, asked for
    all of them in one query); handler before router before sender. Emergency access names no one."""
    roles = held_roles(user, Referral, [r.pk for r in referrals], {"handler": HANDLER_PERM, "router": ROUTER_PERM, "sender": SENDER_PERM})
    namings = {r.pk: referral_naming(as_role=roles[r.pk])(r) for r in referrals if r.pk in roles}
    return {pk: n for pk, n in namings.items() if n is not None}


def insight_cases():
    """The referrals for the insights rollup (workflows.processes.Process.insight_cases): every sent
    referral, held by its target service (or the routing service while it waits to be routed), from
    the sender. A minimal contact's person has an approximate age instead of a birth date."""
    return (
        Referral.objects.filter(sent_at__isnull=False).order_by()
        .values_list(
            Coalesce("target_service__municipality_id", "routing_service__municipality_id"),
            Coalesce("target_service_id", "routing_service_id"),
            Coalesce("target_service__kind", "routing_service__kind"),
            "sender_service_id",
            Coalesce("sender_service__area_id", "target_service__area_id", "routing_service__area_id"),
            "sent_at", "closed_at", "person__birth_date",
            Case(When(person__birth_date__isnull=True, then=F("person__approx_age")), default=None),
        )
    )
