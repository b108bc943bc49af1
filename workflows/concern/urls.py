"""The concern pages (the process's URLs and its menu section)."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from org.models import REPORTING_KINDS, Service
from workflows.concern import views


class ConcernsApp(Application):
    app_name = "concerns"
    title = _("Concerns")
    icon = "report"
    menu_template_name = "samhandling/menu_concerns.html"

    index_path = path("", views.concern_list, name="index")
    create_path = path("ny/", views.concern_create, name="create")
    detail_path = path("<uuid:code>/", views.concern_detail, name="detail")
    send_path = path("<uuid:code>/send/", views.concern_send, name="send")
    action_path = path("<uuid:code>/handling/<slug:action>/", views.concern_action, name="action")
    upgrade_path = path("<uuid:code>/oppgrader/", views.concern_upgrade, name="upgrade")
    log_path = path("<uuid:code>/logg/", views.concern_log, name="log")
    intake_path = path("mottak/", views.intake_list, name="intake")



def landing(kinds: set[str]) -> str | None:
    """Where a user of the concern process starts their day: barnevern on its intake list, a
    reporting service on its own concerns."""
    if Service.Kind.BARNEVERN in kinds:
        return "concerns:intake"
    if kinds & REPORTING_KINDS:
        return "concerns:index"
    return None


def menu_flags(kinds: set[str]) -> dict[str, bool]:
    """Which concern sections the menu shows to a user whose services are of ``kinds``."""
    return {
        "reports_concerns": bool(kinds & REPORTING_KINDS),
        "receives_concerns": Service.Kind.BARNEVERN in kinds,
    }
