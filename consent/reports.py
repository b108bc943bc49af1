"""The person's transparency report (GDPR art. 15): what was disclosed to whom on which basis, who
read or changed the person's data, and the person's consents. As data, and as an A4 PDF."""
import datetime
from dataclasses import dataclass, field

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


def _user_label(user) -> str:
    if user is None:
        return _("The system")
    return user.get_full_name() or user.get_username()


def transparency_report(person: Person, *, service=None, municipality=None, access_limit: int | None = None) -> TransparencyReport:
    """Everything the person is entitled to see about the handling of their data, newest first.

    Without ``service``: the full report, for the privacy function answering a registered access
    request. With ``service``: only what that service itself did — the disclosures it made or
    received, its own reads and changes, the consents it recorded — never another service's
    handling of the person.

    Includes records of minimal contacts later identified as this person (``merged_into``).
    ``access_limit`` caps the access-log rows (for the page; the PDF has them all) and sets
    ``access_truncated`` when more exist. ``municipality`` (a Municipality or its id) limits the
    full report to that municipality's services. Runs a constant number of queries (five: the
    disclosures, the access-log rows, the consents judged in their query, their grantees, and for
    a service its record of the person's name).
    """
    from django.db.models import Q

    from people.selectors import person_name_for

    # The person and the records merged into them, as a subquery of each read (not a query of its own).
    person_ids = Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person)).values("pk")
    disclosures_qs = Disclosure.objects.filter(person_id__in=person_ids)
    entries_qs = AccessLog.objects.filter(person_id__in=person_ids)
    consents_qs = Consent.objects.filter(person_id__in=person_ids)
    if municipality is not None:
        # A privacy function answers for its own municipality's services (one installation may
        # serve several municipalities); rows without a service (the system, emergency reads) stay.
        disclosures_qs = disclosures_qs.filter(Q(from_service__municipality=municipality) | Q(to_service__municipality=municipality))
        entries_qs = entries_qs.filter(Q(service__municipality=municipality) | Q(service__isnull=True))
        consents_qs = consents_qs.filter(recorded_by_service__municipality=municipality)
    if service is not None:
        # What it disclosed (with any still awaiting approval), and what reached it (in force only:
        # a pending or refused row never reached the recipient).
        disclosures_qs = disclosures_qs.filter(Q(from_service=service) | Q(to_service=service, status=Disclosure.Status.IN_FORCE))
        entries_qs = entries_qs.filter(service=service)
        consents_qs = consents_qs.filter(recorded_by_service=service)
    disclosures = list(
        disclosures_qs.select_related("from_service", "to_service", "subject_type", "consent").order_by("-disclosed_at", "-id")
    )
    for d in disclosures:
        model = d.subject_type.model_class()
        d.subject_label = str(model._meta.verbose_name) if model else d.subject_type.model
        d.purpose_label = purpose_label(d.purpose)
    entries_qs = entries_qs.select_related("user", "service").order_by("-at", "-id")
    if access_limit is not None:
        entries = list(entries_qs[: access_limit + 1])
        truncated = len(entries) > access_limit
        entries = entries[:access_limit]
    else:
        entries, truncated = list(entries_qs), False
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
        consents=consents, access_truncated=truncated, service=service,
        name=person.full_name if service is None else person_name_for(person, service),
    )


def transparency_report_pdf(report: TransparencyReport, *, compress: bool = True) -> bytes:
    """The report as an A4 PDF (reportlab), in the active language. ``compress=False`` leaves the
    page streams readable (tests)."""
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
    if report.access_entries:
        rows = [
            [when(e.at), e.user_label, e.service.name if e.service else "–", e.get_action_display(), e.purpose_label or "–"]
            for e in report.access_entries
        ]
        story.append(pdf.table([_("Time"), _("User"), _("Service"), _("Action"), _("Purpose")], rows, st))
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
