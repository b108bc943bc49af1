"""The person's transparency report (GDPR art. 15): what was disclosed to whom on which basis, who
read or changed the person's data, and the person's consents. As data, as an A4 PDF (the access log
summed up by day), and every single access-log entry as CSV rows."""
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.labels import purpose_label
from audit.models import AccessLog
from consent import pdf
from consent.models import Consent, Disclosure
from consent.selectors import consents_judged
from people.models import Person

STATUS_LABELS = {
    "active": gettext_lazy("Active"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "expired": gettext_lazy("Expired"),
    "pending": gettext_lazy("Not yet valid"),
    "insufficient": gettext_lazy("Must be renewed (the person’s age changed who may consent)"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# The access log stores each purpose as a stable English key, shown translated in the person's
# report. The keys are marked for the translation catalogue where they are declared: here the ones
# of the kernel, consent and audit; each process's own in its registry entry (audit_purposes in
# workflows/processes.py). A key not (yet) marked is shown as stored.
AUDIT_PURPOSES = [
    gettext_noop("registered"), gettext_noop("admin"), gettext_noop("membership changed"),
    gettext_noop("consent recorded"), gettext_noop("consent withdrawn"), gettext_noop("consent renewed"),
    gettext_noop("consent page"), gettext_noop("consent form"), gettext_noop("consents of the person"),
    gettext_noop("consents exported (FHIR)"), gettext_noop("transparency report (GDPR art. 15)"),
    gettext_noop("access request registered"), gettext_noop("access request answered"),
    gettext_noop("emergency access opened"), gettext_noop("emergency access"), gettext_noop("emergency access reviewed"),
    gettext_noop("access log read"), gettext_noop("access review"),
]


@dataclass
class TransparencyReport:
    person: Person
    generated_at: datetime.datetime
    # None: the full report (the privacy function, on a registered request); a service: only that
    # service's own handling of the person (a leader's view).
    service: object = None
    name: str = ""
    disclosures: list = field(default_factory=list)
    access_entries: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    access_truncated: bool = False
    # The access log summed up by day (AccessDay rows, the newest ACCESS_DAYS_IN_PDF), and by user
    # and service (AccessSummary rows), when the report was made with access_by_day.
    access_days: list | None = None
    access_days_truncated: bool = False
    access_by_user: list | None = None
    # The municipality (or its id) the full report is limited to, if any.
    municipality: object = None


@dataclass(frozen=True)
class AccessDay:
    """The access-log entries of one local calendar day by one user for one service, action and
    purpose: how many, and the first and last time (the PDF's row)."""

    day: datetime.date
    first: datetime.datetime
    last: datetime.datetime
    entries: int
    user_label: str
    service_name: str  # "" for none (the system, an emergency read)
    action_label: str
    purpose_label: str


@dataclass(frozen=True)
class AccessSummary:
    """All the access-log entries of one user for one service: how many, the first and the last."""

    first: datetime.datetime
    last: datetime.datetime
    entries: int
    user_label: str
    service_name: str  # "" for none (the system, an emergency read)


# The access-log rows the CSV reads per round trip through its server-side cursor.
CSV_CHUNK_ROWS = 2000
# The day rows (AccessDay) the PDF lists, newest first: laying out a table row costs reportlab about
# 0.2 ms, and a person's log has no end; the older days are in the summary by user and in the CSV.
ACCESS_DAYS_IN_PDF = 300


def _user_label(user) -> str:
    if user is None:
        return _named_user_label(None, "", "", "")
    return _named_user_label(user.pk, user.first_name, user.last_name, user.get_username())


def _named_user_label(user_id, first_name, last_name, username) -> str:
    """``_user_label`` from the user's columns (read with the log's rows: no query per user)."""
    if user_id is None:
        return _("The system")
    return f"{first_name or ''} {last_name or ''}".strip() or username


ACTION_LABELS = dict(AccessLog.Action.choices)


def _action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _person_ids(person: Person):
    """The person and the records merged into them, as a subquery of each read (not a query of its own)."""
    return Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person)).values("pk")


def _access_log_rows(person: Person, *, service=None, municipality=None):
    """The person's access-log rows a report covers (unordered): the person's and those of records
    merged into them (``merged_into``); with ``municipality`` only that municipality's services'
    rows and those without a service (the system, emergency reads); with ``service`` only that
    service's own."""
    rows = AccessLog.objects.filter(person_id__in=_person_ids(person))
    if municipality is not None:
        rows = rows.filter(Q(service__municipality=municipality) | Q(service__isnull=True))
    if service is not None:
        rows = rows.filter(service=service)
    return rows


def access_by_user(person: Person, *, service=None, municipality=None) -> list[AccessSummary]:
    """The access-log rows ``transparency_report`` covers, summed up per user and service: the
    number of entries and the first and last time, the most recent first. One GROUP BY query; its
    length is the number of people who handled the person's data, whatever the log's length."""
    groups = (
        _access_log_rows(person, service=service, municipality=municipality)
        .values("user_id", "user__first_name", "user__last_name", "user__username", "service_id", "service__name")
        .annotate(entries=Count("id"), first=Min("at"), last=Max("at"))
        .order_by("-last", "user_id", "service_id")
    )
    return [
        AccessSummary(
            first=g["first"], last=g["last"], entries=g["entries"], service_name=g["service__name"] or "",
            user_label=_named_user_label(g["user_id"], g["user__first_name"], g["user__last_name"], g["user__username"]),
        )
        for g in groups
    ]


def access_days(person: Person, *, service=None, municipality=None, limit: int | None = None) -> list[AccessDay]:
    """The access-log rows ``transparency_report`` covers (the same ``service`` and ``municipality``),
    summed up per local calendar day (the active time zone), user, service, action and purpose:
    newest first (by day, then by the group's last entry). One GROUP BY query over the person's rows
    (index accesslog_person_idx), the user's and service's names joined in: its length grows with
    the days the person's data was handled, not with the entries."""
    groups = (
        _access_log_rows(person, service=service, municipality=municipality)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values(
            "day", "user_id", "user__first_name", "user__last_name", "user__username", "service_id", "service__name",
            "action", "purpose",
        )
        .annotate(entries=Count("id"), first=Min("at"), last=Max("at"))
        .order_by("-day", "-last", "user_id", "service_id", "action", "purpose")
    )
    if limit is not None:
        groups = groups[:limit]
    return [
        AccessDay(
            day=g["day"], first=g["first"], last=g["last"], entries=g["entries"],
            user_label=_named_user_label(g["user_id"], g["user__first_name"], g["user__last_name"], g["user__username"]),
            service_name=g["service__name"] or "", action_label=_action_label(g["action"]), purpose_label=purpose_label(g["purpose"]),
        )
        for g in groups
    ]


def access_log_csv_rows(person: Person, *, service=None, municipality=None):
    """Every access-log entry ``transparency_report`` covers (the same ``service`` and
    ``municipality``), newest first, as CSV rows for ``consent.pdf.csv_download``: a header, then
    the time (local, ISO), the user, the service, the action and the purpose of each.

    A generator, read when the response streams: one query, its rows fetched ``CSV_CHUNK_ROWS`` at a
    time through a server-side cursor (PostgreSQL) with the user's and service's names joined in,
    so memory stays constant however long the person's log is."""
    yield [_("Time"), _("User"), _("Service"), _("Action"), _("Purpose")]
    rows = (
        _access_log_rows(person, service=service, municipality=municipality)
        .order_by("-at", "-id")
        .values_list("at", "user_id", "user__first_name", "user__last_name", "user__username", "service__name", "action", "purpose")
    )
    for at, user_id, first_name, last_name, username, service_name, action, purpose in rows.iterator(chunk_size=CSV_CHUNK_ROWS):
        yield [
            timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"),
            _named_user_label(user_id, first_name, last_name, username),
            service_name or "", _action_label(action), purpose_label(purpose),
        ]


def _access_for_pdf(person: Person, *, service=None, municipality=None):
    """(the newest ACCESS_DAYS_IN_PDF day rows, whether there were more, the summary by user): the
    PDF's access log, two GROUP BY queries whose rows are bounded whatever the log's length."""
    days = access_days(person, service=service, municipality=municipality, limit=ACCESS_DAYS_IN_PDF + 1)
    return days[:ACCESS_DAYS_IN_PDF], len(days) > ACCESS_DAYS_IN_PDF, access_by_user(person, service=service, municipality=municipality)


def transparency_report(
    person: Person, *, service=None, municipality=None, access_limit: int | None = None, access_by_day: bool = False,
) -> TransparencyReport:
    """Everything the person is entitled to see about the handling of their data, newest first.

    Without ``service``: the full report, for the privacy function answering a registered access
    request. With ``service``: only what that service itself did — the disclosures it made or
    received, its own reads and changes, the consents it recorded — never another service's
    handling of the person.

    Includes records of minimal contacts later identified as this person (``merged_into``).
    ``access_limit`` caps the access-log entries (for the page) and sets ``access_truncated`` when
    more exist. ``access_by_day`` reads the access log summed up by day instead (``access_days``,
    for the PDF; ``access_entries`` stays empty): a person's log grows without bound, its days
    much more slowly. ``municipality`` (a Municipality or its id) limits the full report to that
    municipality's services. Runs a constant number of queries (five: the disclosures, the
    access-log rows or days, the consents judged in their query, their grantees, and for a service
    its record of the person's name).
    """
    from people.selectors import person_name_for

    person_ids = _person_ids(person)
    disclosures_qs = Disclosure.objects.filter(person_id__in=person_ids)
    consents_qs = Consent.objects.filter(person_id__in=person_ids)
    if municipality is not None:
        # A privacy function answers for its own municipality's services (one installation may
        # serve several municipalities); access-log rows without a service (the system, emergency
        # reads) stay (_access_log_rows).
        disclosures_qs = disclosures_qs.filter(Q(from_service__municipality=municipality) | Q(to_service__municipality=municipality))
        consents_qs = consents_qs.filter(recorded_by_service__municipality=municipality)
    if service is not None:
        # What it disclosed (with any still awaiting approval), and what reached it (in force only:
        # a pending or refused row never reached the recipient).
        disclosures_qs = disclosures_qs.filter(Q(from_service=service) | Q(to_service=service, status=Disclosure.Status.IN_FORCE))
        consents_qs = consents_qs.filter(recorded_by_service=service)
    disclosures = list(
        disclosures_qs.select_related("from_service", "to_service", "subject_type", "consent").order_by("-disclosed_at", "-id")
    )
    for d in disclosures:
        model = d.subject_type.model_class()
        d.subject_label = str(model._meta.verbose_name) if model else d.subject_type.model
        d.purpose_label = purpose_label(d.purpose)
    days, by_user, days_truncated, entries, truncated = None, None, False, [], False
    if access_by_day:
        days, days_truncated, by_user = _access_for_pdf(person, service=service, municipality=municipality)
    else:
        entries_qs = (
            _access_log_rows(person, service=service, municipality=municipality).select_related("user", "service").order_by("-at", "-id")
        )
        entries = list(entries_qs if access_limit is None else entries_qs[: access_limit + 1])
        if access_limit is not None:
            truncated = len(entries) > access_limit
            entries = entries[:access_limit]
    for e in entries:
        e.user_label = _user_label(e.user)
        e.purpose_label = purpose_label(e.purpose)
    # Judged in their own query (consents_judged): no age rule or guardians asked per consent.
    consents = consents_judged(
        consents_qs.select_related("recorded_by_service", "person").prefetch_related("grantees").order_by("-recorded_at", "-id")
    )
    for c in consents:
        c.status_label = status_label(c.status)
    return TransparencyReport(
        person=person, generated_at=timezone.now(), disclosures=disclosures, access_entries=entries,
        consents=consents, access_truncated=truncated, service=service, access_days=days, municipality=municipality,
        access_days_truncated=days_truncated, access_by_user=by_user,
        name=person.full_name if service is None else person_name_for(person, service),
    )


def _time_span(day: AccessDay) -> str:
    """The first and last time of a day's entries ("09:14–09:52"), one time for a single entry."""
    first, last = pdf.time_text(day.first), pdf.time_text(day.last)
    return first if day.entries == 1 or first == last else f"{first}–{last}"


def transparency_report_pdf(report: TransparencyReport, *, compress: bool = True) -> bytes:
    """The report as an A4 PDF (reportlab), in the active language, the access log summed up by day
    (``access_days``: read here, in one query, for a report made without ``access_by_day``; every
    single entry is in the CSV, ``access_log_csv_rows``). ``compress=False`` leaves the page
    streams readable (tests)."""
    from reportlab.platypus import Spacer

    st = pdf.styles()

    def p(text, style=st.cell):
        return pdf.paragraph(text, style)

    when, day = pdf.datetime_text, pdf.date_text
    person = report.person
    story = [
        p(_("Transparency report (GDPR article 15)"), st.h1),
        p("%s: %s" % (_("Person"), report.name or "–"), st.base),
    ]
    if report.service is not None:
        story.append(p(_("Only %(service)s's own handling of the person.") % {"service": report.service.name}, st.base))
    if person.birth_date:
        story.append(p("%s: %s" % (_("Birth date"), day(person.birth_date)), st.base))
    story += [p("%s: %s" % (_("Produced"), when(report.generated_at)), st.base), Spacer(1, 4 * pdf.MM)]

    story.append(p(_("Disclosures to other services"), st.h2))
    if report.disclosures:
        rows = [
            [
                when(d.disclosed_at), d.from_service.name, d.to_service.name, d.subject_label,
                d.get_basis_display() + (f" ({d.legal_reference})" if d.legal_reference else "")
                + (f" – {_('consent')} {d.consent.reference}" if d.consent_id else "")
                + (f" ({d.get_status_display()})" if d.status != Disclosure.Status.IN_FORCE else ""),
                d.purpose_label, when(d.revoked_at) if d.revoked_at else "–",
            ]
            for d in report.disclosures
        ]
        story.append(pdf.table([_("Time"), _("From"), _("To"), _("What"), _("Legal basis"), _("Purpose"), _("Revoked")], rows, st))
    else:
        story.append(p(_("No disclosures recorded."), st.base))

    story.append(p(_("Who read or changed the data"), st.h2))
    days, days_truncated, by_user = report.access_days, report.access_days_truncated, report.access_by_user
    if days is None:
        days, days_truncated, by_user = _access_for_pdf(person, service=report.service, municipality=report.municipality)
    if days:
        story.append(p(_("Each user and service: the number of entries, the first and the last."), st.base))
        rows = [[u.user_label, u.service_name or "–", str(u.entries), when(u.first), when(u.last)] for u in by_user]
        story.append(pdf.table([_("User"), _("Service"), _("Entries"), _("First"), _("Last")], rows, st))
        story.append(Spacer(1, 3 * pdf.MM))
        story.append(p(_(
            "Entries of the same day by the same user, service, action and purpose are shown together, with their "
            "number and the first and last time. Every single entry is in the report's CSV file."
        ), st.base))
        if days_truncated:
            story.append(p(_("Only the newest %(n)s of these rows are listed here; the older ones are in the summary above and in the CSV file.")
                           % {"n": ACCESS_DAYS_IN_PDF}, st.base))
        rows = [
            [day(d.day), _time_span(d), d.user_label, d.service_name or "–", d.action_label, d.purpose_label or "–", str(d.entries)]
            for d in days
        ]
        story.append(pdf.table([_("Day"), _("Time"), _("User"), _("Service"), _("Action"), _("Purpose"), _("Entries")], rows, st))
    else:
        story.append(p(_("No access recorded."), st.base))

    story.append(p(_("Consents"), st.h2))
    if report.consents:
        rows = [
            [
                c.reference, c.get_purpose_display(), ", ".join(s.name for s in c.grantees.all()),
                f"{day(c.valid_from)} – {day(c.valid_to)}", c.status_label, c.recorded_by_service.name,
            ]
            for c in report.consents
        ]
        story.append(pdf.table([_("Reference"), _("Purpose"), _("May be shared with"), _("Period"), _("Status"), _("Responsible service")],
                               rows, st))
    else:
        story.append(p(_("No consents recorded."), st.base))

    return pdf.a4_pdf(story, title=_("Transparency report"), compress=compress)
