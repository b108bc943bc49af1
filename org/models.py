"""The organisation: municipalities, their services (org units) and the staff's memberships.

Every row that may be addressed from a URL has an integer primary key and a random ``code`` UUID
that is the only identifier ever put in a URL or an e-mail. Object permissions are granted to a
service's group (see org.permissions); nothing here knows about cases.
"""
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class Municipality(models.Model):
    name = models.CharField(_("name"), max_length=120)
    number = models.CharField(_("municipality number"), max_length=4, unique=True)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A service or unit (tjeneste/enhet). Its staff act through the service's group."""

    class Kind(models.TextChoices):
        BARNEHAGE = "barnehage", _("Kindergarten")
        SKOLE = "skole", _("School")
        HELSESTASJON = "helsestasjon", _("Child health clinic")
        SKOLEHELSETJENESTE = "skolehelsetjeneste", _("School health service")
        BARNEVERN = "barnevern", _("Child welfare service")
        PPT = "ppt", _("Educational-psychological service (PPT)")
        RUSTJENESTE = "rustjeneste", _("Substance service")
        NAV = "nav", _("NAV")
        FASTLEGE = "fastlege", _("General practitioner")
        POLITI = "politi", _("Police")
        SLT = "slt", _("SLT")
        # The municipality's privacy function (personvernombud / personvernrådgiver): answers
        # access requests (GDPR art. 15) and reviews the access log. It holds no case.
        PERSONVERN = "personvern", _("Privacy function")
        OTHER = "other", _("Other")

    class Owner(models.TextChoices):
        MUNICIPAL = "municipal", _("Municipal")
        PRIVATE = "private", _("Private")
        STATE = "state", _("State")
        COUNTY = "county", _("County")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="services", verbose_name=_("municipality"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    owner = models.CharField(_("owner"), max_length=16, choices=Owner.choices, default=Owner.MUNICIPAL)
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The group through which object permissions are granted to the service's staff.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="service")

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        permissions = [("handle_concerns", "Can handle concern tasks addressed to the service")]

    def __str__(self):
        return self.name

    @property
    def can_report_concerns(self):
        return self.kind in REPORTING_KINDS


# The kinds of service that file concerns to barnevern (one list, read by the model, the concern
# pages and the menu).
REPORTING_KINDS = frozenset({Service.Kind.BARNEHAGE, Service.Kind.SKOLE})


class Membership(models.Model):
    class Role(models.TextChoices):
        STAFF = "staff", _("Staff")
        LEADER = "leader", _("Leader")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("service"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "service"], name="uniq_membership_user_service")]
        indexes = [models.Index(fields=["service", "role"], name="membership_service_role_idx")]

    def __str__(self):
        return f"{self.user} – {self.service} ({self.get_role_display()})"
