"""URLs of the individual plan pages. Plans are addressed by their ``code`` UUID only."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from workflows.individual_plan import views
from workflows.individual_plan.selectors import NOT_IN_PLANS


class IndividualPlansApp(Application):
    app_name = "individual_plans"
    title = _("Individual plans")
    icon = "diversity_3"
    menu_template_name = "samhandling/menu_individual_plans.html"

    index_path = path("", views.plan_list, name="index")
    detail_path = path("<uuid:code>/", views.plan_detail, name="detail")
    history_path = path("<uuid:code>/historikk/", views.plan_history, name="history")
    pdf_path = path("<uuid:code>/plan.pdf", views.plan_pdf, name="pdf")
    handover_propose_path = path("<uuid:code>/overforing/", views.handover_propose, name="handover_propose")
    handover_path = path("overforing/<uuid:code>/", views.handover_detail, name="handover")
    # --- the ansvarsgruppe ---
    meeting_new_path = path("<uuid:code>/ansvarsgruppe/nytt-mote/", views.meeting_new, name="meeting_new")
    meeting_path = path("mote/<uuid:code>/", views.meeting_detail, name="meeting")
    meeting_ics_path = path("mote/<uuid:code>/invitasjon.ics", views.meeting_ics, name="meeting_ics")
    meeting_cancel_path = path("mote/<uuid:code>/avlys/", views.meeting_cancel, name="meeting_cancel")
    minutes_path = path("mote/<uuid:code>/referat/", views.minutes_write, name="minutes")
    handover_cancel_path = path("overforing/<uuid:code>/avbryt/", views.handover_cancel, name="handover_cancel")
    edit_path = path("<uuid:code>/endre/", views.plan_edit, name="edit")
    koordinator_path = path("<uuid:code>/koordinator/", views.koordinator_set, name="koordinator")
    participants_path = path("<uuid:code>/deltakere/", views.participants, name="participants")
    participant_service_path = path("<uuid:code>/deltakere/tjeneste/", views.participant_add_service, name="participant_add_service")
    participant_guardian_path = path("<uuid:code>/deltakere/verge/", views.participant_add_guardian, name="participant_add_guardian")
    participant_kin_path = path("<uuid:code>/deltakere/parorende/", views.participant_add_next_of_kin, name="participant_add_next_of_kin")
    participant_remove_path = path("<uuid:code>/deltakere/<uuid:participant>/fjern/", views.participant_remove, name="participant_remove")
    measure_add_path = path("<uuid:code>/tiltak/ny/", views.measure_add, name="measure_add")
    measure_edit_path = path("tiltak/<uuid:code>/", views.measure_edit, name="measure_edit")
    # The offers: registered by any service taking part in plans, seen by the offering service only.
    offers_path = path("tilbud/", views.offer_list, name="offers")
    offer_register_path = path("tilbud/ny/", views.offer_register, name="offer_register")
    offer_path = path("tilbud/<uuid:code>/", views.offer_detail, name="offer")
    offer_answer_path = path("tilbud/<uuid:code>/svar/", views.offer_answer, name="offer_answer")
    offer_koordinator_path = path("tilbud/<uuid:code>/koordinator/", views.offer_koordinator, name="offer_koordinator")
    plan_create_path = path("tilbud/<uuid:code>/plan/", views.plan_create, name="plan_create")


def landing(kinds: set[str]) -> str | None:
    """No service starts its day on the plans: each lands on its own process's page first, and the
    plans are one menu link away."""
    return None


def menu_flags(facts) -> dict[str, bool]:
    """The plans section (``facts``: org.access.MemberFacts): to every service that may take part in a plan."""
    return {"individual_plans": bool(facts.kinds - NOT_IN_PLANS)}
