"""Consents and the legal-basis ledger of every disclosure."""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from referrals.models import Person, Service


class Disclosure(models.Model):
    """One disclosure of a person's data to another service, and why it was lawful."""

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        OPPLYSNINGSPLIKT = "opplysningsplikt", _("Duty to report (opplysningsplikt)")
        STATUTORY = "statutory", _("Other statutory basis")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures")
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.PositiveBigIntegerField()
    from_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="disclosures_made", verbose_name=_("from"))
    to_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="disclosures_received", verbose_name=_("to"))
    basis = models.CharField(_("legal basis"), max_length=20, choices=Basis.choices)
    legal_reference = models.CharField(_("legal reference"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=200)
    permission = models.CharField(max_length=100, help_text="The object permission granted to the recipient service.")
    disclosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField(_("disclosed at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_at", "-id"]
        indexes = [
            models.Index(fields=["person", "disclosed_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]
