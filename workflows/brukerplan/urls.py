"""URLs of the BrukerPlan pages. Rounds and mappings are addressed by their ``code`` UUID only."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from workflows.brukerplan import views


class BrukerPlanApp(Application):
    app_name = "brukerplan"
    title = _("BrukerPlan")
    icon = "query_stats"
    # No menu section yet: the round's set-up, worklist and report pages come with it.
    menu_template_name = None

    index_path = path("", views.round_list, name="index")
    round_path = path("runde/<uuid:code>/", views.round_detail, name="round")


def landing(kinds: set[str]) -> str | None:
    """No service starts its day on BrukerPlan: it is a yearly round, one menu link away."""
    return None


def menu_flags(facts) -> dict[str, bool]:
    """The BrukerPlan section (``facts``: org.access.MemberFacts): to every member of a service; the
    rounds page lists only the rounds their services coordinate or take part in."""
    return {"brukerplan": bool(facts.service_ids)}
