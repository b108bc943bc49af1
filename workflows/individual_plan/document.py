"""The plan document: an individual plan as an A4 PDF in the active language (bokmål by default),
for the person and the participants (issue 9, point 7).

It says what the plan's page says, in the order the person reads it: their own goals first, in
their own words, then the resources, the measures, the participants, who holds the main
responsibility and who is koordinator, the plan period and revision date, the person's
participation, and the version. It names the person as the page does (the record of the service
that started the plan) and shows no fødselsnummer and no birth date: the page shows neither. Each
page carries the plan's reference, never the person's name, in its header.
"""
import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from consent import pdf
from referrals.models import IndividualPlan, PlanHolder, PlanVersion
from workflows.individual_plan.selectors import current_holder, participants_named, participants_shown


@dataclass
class PlanDocument:
    plan: IndividualPlan
    person_name: str
    holder: PlanHolder
    version_at: datetime.datetime
    generated_at: datetime.datetime
    measures: list = field(default_factory=list)
    participants: list = field(default_factory=list)


def plan_document(plan: IndividualPlan) -> PlanDocument:
    """What the document shows of ``plan`` (read through the plan access helper by the caller, who
    logs the read): a constant number of queries, whatever the number of measures and participants."""
    version_at = PlanVersion.objects.filter(plan=plan, number=plan.version).values_list("changed_at", flat=True).first()
    named = participants_named(plan)
    return PlanDocument(
        plan=plan, person_name=named.person, holder=current_holder(plan),
        version_at=version_at or plan.updated_at, generated_at=timezone.now(),
        measures=list(plan.measures.select_related("responsible_service").order_by("evaluate_on", "id")),
        participants=participants_shown(plan, named),
    )


def filename(plan: IndividualPlan) -> str:
    """The download's file name: the plan's reference, no person's name."""
    return f"individuell-plan-{plan.reference}.pdf"


def _user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else _("Not named yet")


def plan_document_pdf(document: PlanDocument, *, compress: bool = True) -> bytes:
    """The document as an A4 PDF (consent.pdf's layout). ``compress=False`` leaves the page
    streams readable (tests)."""
    from reportlab.platypus import Spacer

    plan, st = document.plan, pdf.styles()
    day = pdf.date_text

    def fact(label, value):
        return pdf.paragraph(f"{label}: {value}", st.base)

    story = [
        pdf.paragraph(_("Individual plan %(ref)s") % {"ref": plan.reference}, st.h1),
        fact(_("Person"), document.person_name),
        fact(_("Kind of plan"), plan.get_kind_display()),
        fact(_("Status"), plan.get_status_display()),
        Spacer(1, 2 * pdf.MM),
        # The person's own goals first, as they wrote or said them.
        pdf.paragraph(_("The person's own goals"), st.h2),
        pdf.paragraph(plan.goals, st.base),
        pdf.paragraph(_("Resources"), st.h2),
        pdf.paragraph(plan.resources or "–", st.base),
        pdf.paragraph(_("Measures"), st.h2),
    ]
    if document.measures:
        rows = [[m.description, m.responsible_service.name, day(m.starts_on), day(m.evaluate_on), m.get_status_display()]
                for m in document.measures]
        story.append(pdf.table([_("Measure"), _("Responsible service"), _("Starts"), _("Evaluate by"), _("Status")], rows, st))
    else:
        story.append(pdf.paragraph(_("No measures yet."), st.base))

    story.append(pdf.paragraph(_("Participants"), st.h2))
    rows = [[p["role"], p["name"], p["relation"] or "–", day(timezone.localdate(p["since"]))] for p in document.participants]
    story.append(pdf.table([_("Role"), _("Participant"), _("Relation to the person"), _("Since")], rows, st))

    story += [
        pdf.paragraph(_("Main responsibility and koordinator"), st.h2),
        fact(_("Main responsibility"), document.holder.service.name),
        fact(_("Koordinator"), _user_name(document.holder.koordinator)),
        pdf.paragraph(_("Plan period and revision"), st.h2),
        fact(_("Plan period"), f"{day(plan.period_start)} – {day(plan.period_end) if plan.period_end else ''}".rstrip()),
        fact(_("Revise by"), day(plan.revision_due_on)),
        pdf.paragraph(_("The person's participation"), st.h2),
        pdf.paragraph(plan.get_participation_display() + (f": {plan.participation_note}" if plan.participation_note else ""), st.base),
        pdf.paragraph(_("About this document"), st.h2),
        fact(_("Version"), plan.version),
        fact(_("Version date"), pdf.datetime_text(document.version_at)),
        fact(_("Produced"), pdf.datetime_text(document.generated_at)),
    ]
    header = _("Individual plan %(ref)s, version %(number)s") % {"ref": plan.reference, "number": plan.version}
    return pdf.a4_pdf(story, title=_("Individual plan %(ref)s") % {"ref": plan.reference}, header=header, compress=compress)
