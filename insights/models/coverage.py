from django.db import models
from django.utils.translation import gettext_lazy as _

from org.models import Municipality, Service

__all__ = ["Coverage"]


class Coverage(models.Model):
    """A municipality an SLT service monitors beyond its own (Balsfjord's coordinator serves three
    municipalities). An SLT service always covers its own municipality, with or without a row."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="insight_coverage", verbose_name=_("SLT service"),
                                limit_choices_to={"kind": Service.Kind.SLT})
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))

    class Meta:
        verbose_name = _("municipality covered by SLT")
        verbose_name_plural = _("municipalities covered by SLT")
        constraints = [models.UniqueConstraint(fields=["service", "municipality"], name="uniq_insight_coverage")]

    def __str__(self):
        return f"{self.service} → {self.municipality}"
