from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """SLT and service leaders: de-identified aggregates of every registered process, the SLT
    forums and the substance-policy plan's measures (issue 11)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = _("Insights (SLT)")

    def ready(self):
        from org.access import service_fact_register

        # The menu's facts of the user's services, read with the memberships (no query of their own).
        service_fact_register("forum_member", forum_member_fact)
        service_fact_register("measure_responsible", measure_responsible_fact)


def forum_member_fact():
    """The service is a member of an active forum: its staff read the forum's meetings and minutes."""
    from django.db.models import Exists, OuterRef

    from insights.models import ForumMember

    return Exists(ForumMember.objects.filter(service_id=OuterRef("service_id"), removed_at__isnull=True, forum__active=True))


def measure_responsible_fact():
    """The service is responsible or co-responsible for a measure of a substance-policy plan."""
    from django.db.models import Exists, OuterRef, Q

    from insights.models import PolicyMeasure

    return Exists(PolicyMeasure.objects.filter(Q(responsible_service_id=OuterRef("service_id")) | Q(co_responsible=OuterRef("service_id"))))
