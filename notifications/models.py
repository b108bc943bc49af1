"""Reminders as rows, and the in-app notifications they produce.

A reminder is written in the same transaction as the state change that creates the obligation
and cancelled by the service that fulfils it. The sweep claims due rows, re-checks them and
writes one notification per recipient under a unique key, so delivery is idempotent.
"""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.models import Service


class Reminder(models.Model):
    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        ESCALATION = "escalation", _("Escalation")
        ALARM = "alarm", _("Alarm")
        INFO = "info", _("Information")

    class Audience(models.TextChoices):
        STAFF = "staff", _("All staff")
        LEADERS = "leaders", _("Leaders")

    key = models.CharField(_("key"), max_length=200, unique=True, help_text=_("One row per obligation, recipient group and channel."))
    obligation = models.CharField(_("obligation"), max_length=120, db_index=True, help_text=_("Reference of the obligation, for cancelling."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    message = models.CharField(
        _("message"), max_length=300, help_text=_("Non-identifying text, shown in-app and as the e-mail body's first line.")
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service"))
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    # The object the reminder is about; recipients must still hold required_perm on it at delivery.
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("subject type"))
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    required_perm = models.CharField(_("required permission"), max_length=100)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # What the notice is about, shown as its heading: the case's short reference (never a name), the
    # step (an English msgid shown translated, or a deadline policy's title) and its deadline.
    reference = models.CharField(_("reference"), max_length=20, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"))
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [
            models.Index(
                fields=["due_at"], name="reminder_pending_idx",
                condition=models.Q(sent_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.key


class Notification(models.Model):
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="notifications", null=True, verbose_name=_("reminder"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=16, choices=Reminder.Kind.choices)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # Copied from the reminder when delivered (see Reminder): the heading's case, step and deadline.
    reference = models.CharField(_("reference"), max_length=20, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["reminder", "user"], name="uniq_notification_per_reminder_user")]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx"),
            # The notifications page: the user's newest first, a page at a time (keyset).
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_new_idx"),
        ]
        ordering = ["-created_at", "-id"]

    def case_label(self) -> str:
        """“Concern 3F2A9C1B”: the kind of case (the subject's model name, in the active language)
        and its reference; "" when the notice names no case."""
        if not self.reference:
            return ""
        model = self.reminder.subject_type.model_class() if self.reminder_id else None
        if model is None:
            return self.reference
        return f"{capfirst(model._meta.verbose_name)} {self.reference}"

    def topic_label(self) -> str:
        """The step, in the active language (a deadline policy's title is data, shown as written)."""
        return gettext(self.topic) if self.topic else ""

    @property
    def overdue_notice(self) -> bool:
        return self.kind in (Reminder.Kind.ESCALATION, Reminder.Kind.ALARM)


class Email(models.Model):
    """The outbox: one row per e-mail of a notification, written in the notification's transaction.

    Its state is the e-mail's whole truth (design: "Reminders and deadlines"): QUEUED until an
    attempt claims it, SENDING once an attempt has committed that it begins to talk to the mail
    server, SENT when the server has accepted it; DROPPED when the recipient no longer may see what
    it is about (or has no address) at sending time, FAILED after too many attempts. ``message_id``
    is the idempotency key: every attempt sends the same Message-ID header, so an attempt that
    follows one interrupted after the server's reply carries the key a deduplicating relay drops.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DROPPED = "dropped", _("Dropped")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        NO_ACCESS = "no_access", _("The recipient no longer has access")
        NO_ADDRESS = "no_address", _("The recipient has no e-mail address")
        REFUSED = "refused", _("The mail server refused it")

    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, related_name="email", verbose_name=_("notification")
    )
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sending_at = models.DateTimeField(_("last attempt began"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        indexes = [
            # The requeue's scan: only the rows still to send are indexed.
            models.Index(
                fields=["created_at"], name="email_unsent_idx",
                condition=models.Q(state__in=["queued", "sending"]),
            ),
        ]

    def __str__(self):
        return self.message_id
