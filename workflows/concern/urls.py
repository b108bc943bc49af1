"""The concern pages (the process's URLs and its menu section)."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from org.models import Service, ServiceKindSetting
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
    edit_path = path("<uuid:code>/rediger/", views.concern_edit, name="edit")
    delete_path = path("<uuid:code>/slett/", views.concern_delete, name="delete")
    action_path = path("<uuid:code>/handling/<slug:action>/", views.concern_action, name="action")
    upgrade_path = path("<uuid:code>/oppgrader/", views.concern_upgrade, name="upgrade")
    log_path = path("<uuid:code>/logg/", views.concern_log, name="log")
    intake_path = path("mottak/", views.intake_list, name="intake")



def landing(kinds: set[str]) -> str | None:
    """Where a user of the concern process starts their day: barnevern on its intake list, a
    kindergarten or school on its own concerns."""
    if Service.Kind.BARNEVERN in kinds:
        return "concerns:intake"
    # A kindergarten or school starts on its concerns; a service that also receives referrals (NAV,
    # the health clinic) starts on those: which is data (org.ServiceKindSetting.starts_on_concerns).
    if kinds and kinds & ServiceKindSetting.concern_start_kinds():
        return "concerns:index"
    return None


def menu_flags(facts) -> dict[str, bool]:
    """Which concern sections the menu shows to a user with the membership facts ``facts``
    (org.access.MemberFacts: the settings of their kinds of service are read with them)."""
    return {
        "reports_concerns": bool(facts.reporting_kinds),
        "receives_concerns": Service.Kind.BARNEVERN in facts.kinds,
    }
