"""The municipality's substance-policy plan (rusmiddelpolitisk handlingsplan) and its measures (tiltak).

A plan belongs to a municipality and is kept by an SLT service (its owner), whose staff write the plan
and its measures. Each measure has a responsible service, whose staff record its yearly evaluation
(reminded ahead of the measure's evaluation day), and co-responsible services that follow it. Those
services hold a per-object permission on the measure (org.permissions), which the reminder sweep
re-checks at delivery. Nothing here holds a person: the services refuse text that looks like an
identity number (insights.measures).
"""
import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from org.models import Municipality, Service

__all__ = ["PolicyPlan", "PolicyMeasure", "MeasureEvaluation"]

# The evaluation day by default: early December, so that every measure is evaluated in time for the
# SLT's annual report (årsrapport), written at the turn of the year.
DEFAULT_EVALUATION_MONTH = 12
DEFAULT_EVALUATION_DAY = 1


class PolicyPlan(models.Model):
    """A substance-policy plan for a period of whole years (Randaberg's 2025–2030)."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality"))
    title = models.CharField(_("title"), max_length=200)
    from_year = models.PositiveSmallIntegerField(_("from year"))
    to_year = models.PositiveSmallIntegerField(_("to year"))
    owner_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner (SLT)"),
                                      limit_choices_to={"kind": Service.Kind.SLT})
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("substance-policy plan")
        verbose_name_plural = _("substance-policy plans")
        ordering = ["-from_year", "title", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(from_year__lte=models.F("to_year")), name="policyplan_period_order"),
        ]
        indexes = [models.Index(fields=["municipality", "-from_year"], name="policyplan_muni_idx")]

    def __str__(self):
        return self.title

    @property
    def period(self) -> str:
        return f"{self.from_year}–{self.to_year}"


class PolicyMeasure(models.Model):
    """One measure (tiltak) of a plan: "Tiltak 2: Styrke samarbeidet mellom barnevernet og barnehagene",
    responsible Barnevernet, in cooperation with the kindergartens."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        ONGOING = "ongoing", _("Continuous")
        DROPPED = "dropped", _("Dropped")

    # A measure in one of these statuses is no longer evaluated: its reminders are cancelled.
    CLOSED = (Status.DONE, Status.DROPPED)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(PolicyPlan, on_delete=models.CASCADE, related_name="measures", verbose_name=_("plan"))
    number = models.CharField(_("number"), max_length=10, help_text=_("As in the plan, for example “1” or “2a”."))
    theme = models.CharField(_("area of effort"), max_length=120, blank=True,
                             help_text=_("The plan's heading the measure stands under, for example “Children and young people”."))
    text = models.TextField(_("measure"))
    responsible_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible service"))
    co_responsible = models.ManyToManyField(Service, blank=True, related_name="+", verbose_name=_("co-responsible services"))
    partners = models.CharField(_("other partners"), max_length=300, blank=True,
                                help_text=_("Partners outside the municipality's services, for example the police or KoRus."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    evaluation_month = models.PositiveSmallIntegerField(_("evaluation month"), default=DEFAULT_EVALUATION_MONTH)
    evaluation_day = models.PositiveSmallIntegerField(_("evaluation day"), default=DEFAULT_EVALUATION_DAY)
    # Raised by every change: a form that shows an older version is refused (insights.measures).
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan measure")
        verbose_name_plural = _("plan measures")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="uniq_policymeasure_number")]
        permissions = [
            ("evaluate_policymeasure", gettext_noop("Evaluate the plan measure (its responsible service)")),
            ("follow_policymeasure", gettext_noop("Follow the plan measure (a co-responsible service)")),
        ]

    def __str__(self):
        return f"{self.number}: {self.text[:60]}"

    @property
    def reference(self) -> str:
        """The measure's number: a notice's heading reads “Plan measure 2a”."""
        return self.number

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED

    def evaluation_date(self, year: int) -> datetime.date:
        return datetime.date(year, self.evaluation_month, self.evaluation_day)

    def sort_key(self):
        """Numbers in the plan's order: 2 before 2a before 10."""
        prefix = ""
        for c in self.number:
            if not c.isdigit():
                break
            prefix += c
        return (int(prefix) if prefix else 10**6, self.number.lower())


class MeasureEvaluation(models.Model):
    """A measure's evaluation for one year: its status then, what was done, by whom and when."""

    measure = models.ForeignKey(PolicyMeasure, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("measure"))
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=16, choices=PolicyMeasure.Status.choices)
    text = models.TextField(_("evaluation"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("evaluated by service"))
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("evaluated by"))
    evaluated_at = models.DateTimeField(_("evaluated"))

    class Meta:
        verbose_name = _("measure evaluation")
        verbose_name_plural = _("measure evaluations")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["measure", "year"], name="uniq_measureevaluation_year")]

    def __str__(self):
        return f"{self.measure.number} {self.year}"
