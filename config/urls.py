from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, Site
from viewflow.workflow.flow.viewset import FlowViewset, WorkflowAppViewset

from accounts import views as account_views
from audit import urls as audit_urls
from config import idle
from notifications import views as notification_views
from workflows import task_lists, task_views
from consent.urls import ConsentApp
from insights.urls import InsightsApp
from workflows import views_break_glass, views_consent, views_home
from workflows.processes import processes
from workflows.youth_contract import views as youth_contract_views


class BreakGlassApp(Application):
    app_name = "break_glass"
    title = _("Emergency access")
    icon = "emergency"
    menu_template_name = "samhandling/menu_break_glass.html"

    index_path = path("", views_break_glass.break_glass_index, name="index")
    review_path = path("<uuid:code>/gjennomgang/", views_break_glass.break_glass_review, name="review")


class NotificationsApp(Application):
    app_name = "notifications"
    title = _("Notifications")
    icon = "notifications"
    menu_template_name = "samhandling/menu_notifications.html"

    index_path = path("", notification_views.notification_list, name="index")
    read_all_path = path("les/", notification_views.notification_read, name="read_all")
    read_path = path("<int:pk>/les/", notification_views.notification_read, name="read")
    open_path = path("<int:pk>/apne/", notification_views.notification_open, name="open")


class ConsentAppWithWithdrawal(ConsentApp):
    withdraw_path = path("<uuid:code>/trekk-tilbake/", views_consent.consent_withdraw, name="withdraw")
    # The privacy function's review of unusual access (the view lives in audit).
    access_review_path = audit_urls.access_review_path


class ScopedFlowViewset(FlowViewset):
    """A flow's viewflow pages without the unscoped process and task lists (viewflow issue #505);
    the per-process pages are guarded by FlowObjectAccessMiddleware."""

    index_path = path("", RedirectView.as_view(pattern_name="workflow:inbox"), name="index")
    process_list_path = None
    task_list_path = None


class ScopedWorkflowAppViewset(WorkflowAppViewset):
    """Inbox, queue and archive, with bulk actions that see only the user's own tasks."""

    menu_template_name = "samhandling/menu_tasks.html"
    inbox_view_class = task_lists.InboxView
    queue_view_class = task_lists.QueueView
    archive_view_class = task_lists.ArchiveView
    tasks_assign_view_class = task_views.ScopedBulkAssignTasksView
    tasks_unassign_view_class = task_views.ScopedBulkUnassignTasksView

    def has_view_permission(self, user, obj=None):
        # Asked by the site middleware, the page and the menu: each flow's answer once per request.
        if obj is not None:
            return super().has_view_permission(user, obj=obj)
        return task_lists.any_flow_viewable(user, self.flow_classes)

    def get_context_data(self, request):
        # No querysets for viewflow's menu counts: the menu's badges come from task_badge_counts
        # (templates/samhandling/menu_tasks.html), bounded and in one query.
        return {}


site = Site(
    title=_("Samhandling"),
    viewsets=[
        # Each registered process's pages and menu section, in registry order.
        *[process.app_class()() for process in processes()],
        ConsentAppWithWithdrawal(),
        InsightsApp(),
        ScopedWorkflowAppViewset(
            title=_("Tasks"),
            icon="assignment",
            flow_viewsets=[ScopedFlowViewset(process.flow_class(), icon=process.flow_icon) for process in processes()],
        ),
        NotificationsApp(),
        BreakGlassApp(),
    ],
)

urlpatterns = [
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("session/keep-alive/", idle.session_keep_alive, name="session_keep_alive"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # viewflow's script translates its words ("1 of 8 selected") through this catalogue (djangojs).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", views_home.home, name="home"),
    # A calendar client cannot log in: the youth contract feed's secret address is its key (outside the site's login).
    path("kalender/<str:token>.ics", youth_contract_views.feed, name="youth_contract_feed"),
    path("", site.urls),
]


def permission_denied(request, exception=None):
    """Every "not yours" answers like "not there": a 403 (viewflow refuses a user without a
    membership in its site middleware, before any view runs) becomes the uniform 404."""
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


handler403 = permission_denied


def server_error(request):
    """Django's 500 page, except for a database outage noted on the request: its static 503 page
    (config.middleware.DatabaseOutageMiddleware), which needs neither the database nor the static
    files manifest that the 500 page's layout reads."""
    from django.views.defaults import server_error as default_server_error

    from config.middleware import database_outage_response

    if getattr(request, "_database_outage", None) is not None:
        return database_outage_response(request)
    return default_server_error(request)


handler500 = server_error
