"""Append-only access log of person data (who, when, which object, what, why)."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLog(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DISCLOSE = "disclose", _("Disclosed")
        EXPORT = "export", _("Exported")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("user"))
    service = models.ForeignKey("referrals.Service", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("acting service"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.PositiveBigIntegerField(_("object id"))
    person = models.ForeignKey("referrals.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="accesslog_object_idx"),
            models.Index(fields=["person", "at"], name="accesslog_person_idx"),
        ]

    def save(self, *args, **kwargs):
        # Append-only: the application never rewrites history.
        if self.pk is not None:
            raise ValueError("AccessLog rows are append-only")
        super().save(*args, **kwargs)
