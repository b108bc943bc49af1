"""Process models and the statutory clocks (deadline policies) as data."""
import functools
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.managers import TaskQuerySet
from viewflow.workflow.models import Process, Task

from org.models import Service
from referrals.models import Concern


class DeadlinePolicy(models.Model):
    """One statutory or local clock: how long a step may take, counted from which event.

    Municipalities differ and laws change, so these are rows edited in the admin, never constants.
    """

    class Unit(models.TextChoices):
        HOURS = "hours", _("hours")
        DAYS = "days", _("calendar days")
        WORKING_DAYS = "working_days", _("working days")
        WEEKS = "weeks", _("weeks")
        MONTHS = "months", _("months")

    class Notify(models.TextChoices):
        STAFF = "staff", _("The responsible service's staff")
        LEADERS = "leaders", _("The responsible service's leaders")

    class Escalate(models.TextChoices):
        NONE = "none", _("No escalation")
        LEADERS = "leaders", _("The responsible service's leaders")
        BOTH_LEADERS = "both_leaders", _("Leaders of both the responsible and the sending service")

    process = models.CharField(_("process"), max_length=40)
    step = models.CharField(_("step"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    amount = models.PositiveIntegerField(_("duration"))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    counted_from = models.CharField(_("counted from"), max_length=200, help_text=_("The event the clock starts at."))
    legal_reference = models.CharField(_("legal reference"), max_length=200, blank=True)
    remind_before_hours = models.PositiveIntegerField(_("remind this many hours before"), null=True, blank=True)
    remind = models.CharField(_("remind"), max_length=16, choices=Notify.choices, default=Notify.STAFF)
    escalate = models.CharField(_("when overdue, escalate to"), max_length=16, choices=Escalate.choices, default=Escalate.LEADERS)

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [models.UniqueConstraint(fields=["process", "step"], name="uniq_policy_step")]
        ordering = ["process", "id"]

    def __str__(self):
        return f"{self.title} ({self.amount} {self.get_unit_display()})"

    def due_from(self, start):
        """The deadline when the clock starts at ``start`` (an aware datetime)."""
        from workflows.deadlines import add_duration

        return add_duration(start, self.amount, self.unit)

    def remind_at(self, due):
        if self.remind_before_hours is None:
            return None
        return due - timedelta(hours=self.remind_before_hours)


class Deadline(models.Model):
    """An open or met obligation on one object, with its clock."""

    policy = models.ForeignKey(DeadlinePolicy, on_delete=models.PROTECT, related_name="deadlines", verbose_name=_("deadline policy"))
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind of case"))
    subject_id = models.PositiveBigIntegerField(_("case id"))
    responsible_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="deadlines", verbose_name=_("responsible service"))
    starts_at = models.DateTimeField(_("counted from"))
    due_at = models.DateTimeField(_("due"))
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for extension"), blank=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        constraints = [models.UniqueConstraint(fields=["subject_type", "subject_id", "policy"], name="uniq_deadline_per_subject")]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self):
        return f"{self.policy.title}: {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self):
        return self.met_at is None and self.cancelled_at is None


class ConcernProcess(Process):
    """The viewflow process around one concern."""

    # The label viewflow's process page shows for the case (it was the English field name).
    concern = models.OneToOneField(Concern, on_delete=models.PROTECT, related_name="process", verbose_name=_("concern"))

    class Meta:
        verbose_name = _("concern process")
        verbose_name_plural = _("concern processes")


class ReferralProcess(Process):
    """The viewflow process around one referral."""

    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="process", verbose_name=_("referral"))

    class Meta:
        verbose_name = _("referral process")
        verbose_name_plural = _("referral processes")


class YouthContractProcess(Process):
    """The viewflow process around one youth contract."""

    contract = models.OneToOneField("referrals.YouthContract", on_delete=models.PROTECT, related_name="process", verbose_name=_("youth contract"))

    class Meta:
        verbose_name = _("youth contract process")
        verbose_name_plural = _("youth contract processes")


class IndividualPlanProcess(Process):
    """The viewflow process around one proposed hand-over of an individual plan's main responsibility
    (workflows/flows/individual_plan.py says why a process per hand-over)."""

    handover = models.OneToOneField("referrals.PlanHandOver", on_delete=models.PROTECT, related_name="process",
                                    verbose_name=_("hand-over of main responsibility"))

    class Meta:
        verbose_name = _("individual plan hand-over process")
        verbose_name_plural = _("individual plan hand-over processes")


class BrukerPlanProcess(Process):
    """The viewflow process around one BrukerPlan round (workflows/flows/brukerplan.py says why a
    process per round)."""

    round = models.OneToOneField("referrals.BrukerPlanRound", on_delete=models.PROTECT, related_name="process",
                                 verbose_name=_("BrukerPlan round"))

    class Meta:
        verbose_name = _("BrukerPlan round process")
        verbose_name_plural = _("BrukerPlan round processes")


@functools.cache
def process_children() -> tuple[str, ...]:
    """The accessors of Process's own-table children (each registered process's model above)."""
    return tuple(rel.get_accessor_name() for rel in Process._meta.related_objects if rel.one_to_one and rel.parent_link)


class CaseTaskManager(models.Manager.from_queryset(TaskQuerySet)):
    def get_queryset(self):
        return super().get_queryset().select_related("process", "owner", *(f"process__{child}" for child in process_children()))


class CaseTask(Task):
    """viewflow's task, read with its process (as its flow's own process class) and its owner in the
    same query: viewflow's task pages read the task by its flow's ``task_class`` and then its
    process, the process's subclass row (``coerced``) and the owner, one query each. Every flow
    sets ``task_class = CaseTask`` (workflows.checks says so); the table is viewflow's own."""

    objects = CaseTaskManager()

    class Meta:
        proxy = True
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
