"""The aggregate rows every insights page reads: counts by dimension, never a person.

A **materialised rollup refreshed by beat** (insights.services.rollup_refresh), not a table the
services keep in each state change: the counts are recomputed from the case records themselves,
so they cannot drift from them; "at risk" and "breached" depend on the clock, not only on a state
change, so they need a periodic pass anyway; and the write path of every process (issue 14's
100 transitions per second) pays nothing. The price is staleness of at most one refresh interval,
which the pages show ("updated 10:15"). A refresh replaces every row in one transaction: readers
see the previous refresh's rows until it commits, never half of one.

No row holds a person, a name, a number or a free text: only ids of municipalities, services and
areas, codes (process, step, age band, state) and counts.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from org.models import Area, Municipality, Service

__all__ = ["RollupRun", "CaseCount", "OpenedCount", "ClosedCount", "OpenCount", "DeadlineCount", "StepDuration", "AGE_BANDS", "DURATION_BUCKETS"]

# Age bands (years, inclusive lower bound): the person's age when the case opened. "unknown" for a
# case whose person's birth date is not known (an anonymous consultation gives an age, or none).
AGE_BANDS = (
    ("0-5", 0), ("6-12", 6), ("13-15", 13), ("16-17", 16), ("18-24", 18), ("25-39", 25), ("40-66", 40), ("67+", 67),
)
AGE_UNKNOWN = "unknown"
# Upper bounds (days, inclusive) of the step-duration histogram; the last bucket is everything longer.
# Medians and 90th percentiles are read off merged histograms (additive across filters), to a bucket.
DURATION_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 7, 10, 14, 21, 28, 35, 42, 56, 70, 90, 120, 180, 270, 365)


class RollupRun(models.Model):
    """One refresh: when it ran and how much it read. The newest finished run dates the pages."""

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cases = models.PositiveIntegerField(_("cases read"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("insights refresh")
        verbose_name_plural = _("insights refreshes")
        ordering = ["-started_at", "-id"]


class CaseCount(models.Model):
    """How many cases of one process opened in a month (and closed in a month, or are still open),
    by the service holding them, the service they came from, the area and the age band."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    service_kind = models.CharField(_("kind of service"), max_length=32, blank=True)
    from_service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("from"))
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("area"))
    age_band = models.CharField(_("age band"), max_length=8)
    opened_month = models.DateField(_("opened (month)"))
    closed_month = models.DateField(_("closed (month)"), null=True, blank=True)
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("case count")
        verbose_name_plural = _("case counts")
        indexes = [
            models.Index(fields=["municipality", "process", "opened_month"], name="casecount_opened_idx"),
            models.Index(fields=["municipality", "closed_month"], name="casecount_closed_idx"),
        ]


# The narrow rollups: each one query of the overview's, derived by the same refresh from the same
# counts as CaseCount (insights.services.narrow_from_casecounts), so each reads a few thousand rows
# where CaseCount's dimensions (every pair of opened and closed month, sender, area, age band) barely
# aggregate: a few hundred thousand rows for a million cases.


class OpenedCount(models.Model):
    """How many cases of one process opened in a month, by the service holding them and the service
    they came from (the opened trend and the flow matrix)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    from_service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("from"))
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    opened_month = models.DateField(_("opened (month)"))
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("opened case count")
        verbose_name_plural = _("opened case counts")
        indexes = [models.Index(fields=["municipality", "opened_month", "process"], name="openedcount_idx")]


class ClosedCount(models.Model):
    """How many cases of one process closed in a month, by the service holding them (the service is
    what a scope of only the services a user leads filters on)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    closed_month = models.DateField(_("closed (month)"))
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("closed case count")
        verbose_name_plural = _("closed case counts")
        indexes = [models.Index(fields=["municipality", "closed_month", "process"], name="closedcount_idx")]


class OpenCount(models.Model):
    """How many cases of one process were open at the end of ``year``, by the service holding them,
    its kind, the area and the age band. A past year: opened on or before 31 December and not closed
    by then; the refresh's own year: still open at the refresh. A case counts in every year from the
    one it opened in to the one before it closed (to the refresh's year while still open)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    service_kind = models.CharField(_("kind of service"), max_length=32, blank=True)
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("area"))
    age_band = models.CharField(_("age band"), max_length=8)
    year = models.PositiveSmallIntegerField(_("year"))
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("open case count")
        verbose_name_plural = _("open case counts")
        indexes = [models.Index(fields=["municipality", "year", "process"], name="opencount_idx")]


class DeadlineCount(models.Model):
    """How many deadlines of one step (a deadline policy's step) fell due in a month, by the
    responsible service and state: still open and in time, at risk, breached (open past due), met in
    time, met late. "At risk" and "breached" are as of the refresh."""

    class State(models.TextChoices):
        OPEN = "open", _("Open, in time")
        AT_RISK = "at_risk", _("At risk")
        BREACHED = "breached", _("Breached")
        MET = "met", _("Met in time")
        MET_LATE = "met_late", _("Met late")

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    step = models.CharField(_("step"), max_length=64)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    due_month = models.DateField(_("due (month)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("deadline count")
        verbose_name_plural = _("deadline counts")
        indexes = [models.Index(fields=["municipality", "process", "due_month"], name="deadlinecount_idx")]


class StepDuration(models.Model):
    """How many steps (a deadline policy's step, from its clock's start to when it was met) took up to
    ``bucket_days`` days (the histogram of DURATION_BUCKETS; -1 for longer than the last), by the
    month the step was met and the responsible service."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality"))
    process = models.CharField(_("process"), max_length=32)
    step = models.CharField(_("step"), max_length=64)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("service"))
    month = models.DateField(_("met (month)"))
    bucket_days = models.SmallIntegerField(_("up to (days)"))
    n = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("step duration")
        verbose_name_plural = _("step durations")
        indexes = [models.Index(fields=["municipality", "process", "month"], name="stepduration_idx")]
