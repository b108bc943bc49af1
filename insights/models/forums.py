"""The SLT forums (issue 11, point 5): politiråd, its working group, the SLT coordination group, TFG,
the youth council meetings. Recurring meetings of several services, owned by an SLT service.

A forum holds no person: its agenda items are de-identified themes or cases (the services refuse
anything that looks like an identity number), its minutes likewise. Changes only through
insights.forums; reads through insights.forum_selectors (``forum_get_for_user``).
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.models import Municipality, Service

__all__ = ["Forum", "ForumMember", "ForumMeeting", "AgendaItem", "ForumMinutes"]


class Forum(models.Model):
    """A standing forum: who runs it (the owner, an SLT service, whose staff change it), which
    services take part (``ForumMember``: their staff read it), and how often it meets."""

    class Kind(models.TextChoices):
        POLITIRAD = "politirad", _("Police council (politiråd)")
        POLITIRAD_WORKING_GROUP = "politirad_au", _("Police council working group")
        SLT_GROUP = "slt_group", _("SLT coordination group")
        TFG = "tfg", _("Interdisciplinary group (TFG)")
        YOUTH_COUNCIL = "youth_council", _("Meeting with the youth council")
        OTHER = "other", _("Other forum")

    class Recurrence(models.TextChoices):
        TWICE_A_YEAR = "twice_a_year", _("Twice a year")
        SIX_WEEKS = "six_weeks", _("Every six weeks")
        MONTHLY = "monthly", _("Monthly")
        EVERY_N_WEEKS = "every_n_weeks", _("Every … weeks")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality"))
    owner = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="forums_owned", verbose_name=_("owning service"),
                              limit_choices_to={"kind": Service.Kind.SLT})
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    recurrence = models.CharField(_("recurrence"), max_length=20, choices=Recurrence.choices)
    every_weeks = models.PositiveSmallIntegerField(_("every … weeks"), null=True, blank=True,
                                                   help_text=_("Only for a forum that meets every given number of weeks."))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("forum")
        verbose_name_plural = _("forums")
        ordering = ["name", "id"]
        permissions = [
            ("take_part_forum", _("Take part in a forum")),
            ("run_forum", _("Run a forum")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recurrence="every_n_weeks", every_weeks__gte=1) | (~models.Q(recurrence="every_n_weeks") & models.Q(every_weeks__isnull=True)),
                name="forum_every_weeks_with_its_recurrence",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def reference(self) -> str:
        """A short, non-identifying reference for notices (the forum's code, not its name)."""
        return self.code.hex[:8].upper()


class ForumMember(models.Model):
    """A service taking part in a forum; ``removed_at`` ends it (the row stays, for the record)."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="members", verbose_name=_("forum"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="forum_memberships", verbose_name=_("service"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("forum member")
        verbose_name_plural = _("forum members")
        ordering = ["service__name", "id"]
        constraints = [models.UniqueConstraint(fields=["forum", "service"], condition=models.Q(removed_at__isnull=True),
                                               name="uniq_live_forum_member")]
        indexes = [models.Index(fields=["service", "forum"], name="forummember_service_idx", condition=models.Q(removed_at__isnull=True))]


class ForumMeeting(models.Model):
    """One meeting of a forum. ``sequence`` is bumped by every change (agenda, cancellation,
    minutes): the forms carry it, so a page left open while someone else changed the meeting is
    refused instead of overwriting what they did."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("forum"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    sequence = models.PositiveIntegerField(_("revision"), default=0)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheduled by"))
    scheduled_at = models.DateTimeField(_("scheduled"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("forum meeting")
        verbose_name_plural = _("forum meetings")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["forum", "starts_at"], name="forummeeting_forum_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="forummeeting_ends_after_start")]

    def __str__(self):
        return f"{self.forum} {self.starts_at:%Y-%m-%d}"

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()


class AgendaItem(models.Model):
    """An item on a meeting's agenda: a theme or a de-identified case, never a person."""

    meeting = models.ForeignKey(ForumMeeting, on_delete=models.CASCADE, related_name="agenda", verbose_name=_("meeting"))
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("description"), blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "id"]


class ForumMinutes(models.Model):
    """The minutes of a held meeting, written once."""

    meeting = models.OneToOneField(ForumMeeting, on_delete=models.CASCADE, related_name="minutes", verbose_name=_("meeting"))
    text = models.TextField(_("minutes"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by"))
    written_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("forum minutes")
        verbose_name_plural = _("forum minutes")
