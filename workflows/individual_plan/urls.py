"""URLs of the individual plan pages. Plans are addressed by their ``code`` UUID only."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from org.models import Service
from workflows.individual_plan import views

# Kinds of service that never take part in a person's plan: the privacy function holds no case, SLT
# sees aggregates only, and the police are no party to a health or welfare plan.
NOT_IN_PLANS = frozenset({Service.Kind.PERSONVERN, Service.Kind.SLT, Service.Kind.POLITI})


class IndividualPlansApp(Application):
    app_name = "individual_plans"
    title = _("Individual plans")
    icon = "diversity_3"
    menu_template_name = "samhandling/menu_individual_plans.html"

    index_path = path("", views.plan_list, name="index")
    detail_path = path("<uuid:code>/", views.plan_detail, name="detail")
    pdf_path = path("<uuid:code>/plan.pdf", views.plan_pdf, name="pdf")
    handover_propose_path = path("<uuid:code>/overforing/", views.handover_propose, name="handover_propose")
    handover_path = path("overforing/<uuid:code>/", views.handover_detail, name="handover")
    # --- the ansvarsgruppe ---
    meeting_new_path = path("<uuid:code>/ansvarsgruppe/nytt-mote/", views.meeting_new, name="meeting_new")
    meeting_path = path("mote/<uuid:code>/", views.meeting_detail, name="meeting")
    meeting_ics_path = path("mote/<uuid:code>/invitasjon.ics", views.meeting_ics, name="meeting_ics")
    meeting_cancel_path = path("mote/<uuid:code>/avlys/", views.meeting_cancel, name="meeting_cancel")
    minutes_path = path("mote/<uuid:code>/referat/", views.minutes_write, name="minutes")


def landing(kinds: set[str]) -> str | None:
    """No service starts its day on the plans: each lands on its own process's page first, and the
    plans are one menu link away."""
    return None


def menu_flags(facts) -> dict[str, bool]:
    """The plans section (``facts``: org.access.MemberFacts): to every service that may take part in a plan."""
    return {"individual_plans": bool(facts.kinds - NOT_IN_PLANS)}
