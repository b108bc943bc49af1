"""URLs of the BrukerPlan pages. Rounds, services and mappings are addressed by their ``code`` UUID
only; a worklist row's person is named by their code in a form's body, never in an address."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from workflows.brukerplan import report_views, views


class BrukerPlanApp(Application):
    app_name = "brukerplan"
    title = _("BrukerPlan")
    icon = "query_stats"
    menu_template_name = "samhandling/menu_brukerplan.html"
    # The stored report's pages: its status and progress, the report, CSV, PDF, recompute.
    urlpatterns = report_views.urlpatterns

    index_path = path("", views.round_list, name="index")
    round_new_path = path("ny/", views.round_create, name="round_new")
    round_path = path("runde/<uuid:code>/", views.round_detail, name="round")
    round_open_path = path("runde/<uuid:code>/apne/", views.round_open, name="round_open")
    round_close_path = path("runde/<uuid:code>/lukk/", views.round_close, name="round_close")
    # A participating service's worklist: the round's and the service's codes.
    worklist_path = path("runde/<uuid:code>/arbeidsliste/<uuid:service>/", views.worklist, name="worklist")
    scope_mark_path = path("runde/<uuid:code>/arbeidsliste/<uuid:service>/vurdering/", views.scope_mark, name="scope_mark")
    service_complete_path = path("runde/<uuid:code>/arbeidsliste/<uuid:service>/ferdig/", views.service_complete, name="service_complete")
    mapping_path = path("kartlegging/<uuid:code>/", views.mapping_detail, name="mapping")
    children_done_path = path("kartlegging/<uuid:code>/barn-fulgt-opp/", views.children_done, name="children_done")


def landing(kinds: set[str]) -> str | None:
    """No kind of service starts its day on BrukerPlan: it is a yearly round, one menu link away.
    A coordinating service does (``home``: by what the service does, not its kind)."""
    return None


def home(facts) -> str | None:
    """The rounds list for a user whose every service coordinates BrukerPlan rounds (the round's
    coordinator, ``facts``: org.access.MemberFacts); None for everyone else."""
    from workflows.brukerplan.selectors import coordinates_rounds

    return "brukerplan:index" if coordinates_rounds(facts.service_ids) else None


def menu_flags(facts) -> dict[str, bool]:
    """The BrukerPlan section (``facts``: org.access.MemberFacts): to the members of a service that
    coordinates a round, takes part in an open one, or whose municipality has a report to read
    (selectors.rounds_in_menu_fact, read with the memberships)."""
    return {"brukerplan": bool(facts.services_where("brukerplan_rounds"))}
