from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """SLT and service leaders: de-identified aggregates of every registered process, the SLT
    forums and the substance-policy plan's measures (issue 11)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = _("Insights (SLT)")
