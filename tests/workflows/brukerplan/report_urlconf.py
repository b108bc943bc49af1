"""config.urls with the report's URLs (workflows.brukerplan.report_views.urlpatterns) under the
BrukerPlan app, as the app will include them; for the report tests until the app's urls.py does.
The site is built as config.urls builds it, with the BrukerPlan app carrying the report's patterns."""
from django.urls import path
from viewflow.urls import Site

from config import urls as base
from workflows.brukerplan import report_views
from workflows.brukerplan.urls import BrukerPlanApp
from workflows.processes import processes


class _BrukerPlanAppWithReport(BrukerPlanApp):
    urlpatterns = report_views.urlpatterns


def _app(process):
    app_class = process.app_class()
    return _BrukerPlanAppWithReport() if app_class is BrukerPlanApp else app_class()


site = Site(
    title=base.site.title,
    viewsets=[
        *[_app(process) for process in processes()],
        base.ConsentAppWithWithdrawal(),
        base.ScopedWorkflowAppViewset(
            title=base.site.viewsets[len(processes()) + 1].title, icon="assignment",
            flow_viewsets=[base.ScopedFlowViewset(process.flow_class(), icon=process.flow_icon) for process in processes()],
        ),
        base.NotificationsApp(),
        base.BreakGlassApp(),
    ],
)
urlpatterns = [*base.urlpatterns[:-1], path("", site.urls)]
handler403, handler500 = base.handler403, base.handler500
