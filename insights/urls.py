"""The insights section: the overview of every process (urls_overview), the SLT forums
(urls_forums) and the plan's measures (urls_measures). Nothing here is addressed by a person."""
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from insights import urls_forums, urls_measures, urls_overview


class InsightsApp(Application):
    app_name = "insights"
    title = _("Insights")
    icon = "insights"
    menu_template_name = "samhandling/menu_insights.html"
    urlpatterns = urls_overview.urlpatterns + urls_forums.urlpatterns + urls_measures.urlpatterns
