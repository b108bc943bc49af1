"""The organisation: municipalities, their services (org units) and the staff's memberships.

Every row that may be addressed from a URL has an integer primary key and a random ``code`` UUID
that is the only identifier ever put in a URL or an e-mail. Object permissions are granted to a
service's group (see org.permissions); nothing here knows about cases.
"""
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _, gettext_noop


class Municipality(models.Model):
    name = models.CharField(_("name"), max_length=120)
    number = models.CharField(_("municipality number"), max_length=4, unique=True)
    # Shown on an acute concern (and its receipt) next to 112: where a reporter calls when a child
    # may be in danger now, outside or inside office hours.
    emergency_phone = models.CharField(
        _("child welfare emergency service (barnevernvakt) phone"), max_length=20, blank=True,
        help_text=_("Shown to reporters when a concern is acute, next to the emergency number 112."),
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Area(models.Model):
    """A part of a municipality that services belong to: a school district (skolekrets), a
    kindergarten area (barnehageområde) or a city district (bydel). The insights count cases by the
    area of the service they came from; no person is placed in an area."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="areas", verbose_name=_("municipality"))
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="uniq_area_name")]

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

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="services", verbose_name=_("municipality"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    owner = models.CharField(_("owner"), max_length=16, choices=Owner.choices, default=Owner.MUNICIPAL)
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    area = models.ForeignKey(Area, on_delete=models.SET_NULL, null=True, blank=True, related_name="services", verbose_name=_("area"),
                             help_text=_("The school district, kindergarten area or city district the service belongs to."))
    # The group through which object permissions are granted to the service's staff.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="service", verbose_name=_("permission group"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        # Marked for makemessages: the admin names permissions through the catalogue (accounts.admin_labels).
        permissions = [("handle_concerns", gettext_noop("Can handle concern tasks addressed to the service"))]

    def __str__(self):
        return self.name

    @property
    def can_report_concerns(self):
        return self.kind in ServiceKindSetting.reporting_kinds()


class ServiceKindSetting(models.Model):
    """What a kind of service does on the platform: data a technical administrator keeps in the admin,
    not a list in code. One row per kind (seeded by org/0002); a kind without a row does nothing here.

    ``may_report_concerns``: its staff file meldinger and anonymous consultations to barnevern (the
    services with opplysningsplikt, barnevernsloven § 13-2). ``concern_legal_basis`` is the legal
    reference a melding from it records. ``starts_on_concerns``: its staff land on their concerns
    after login (a kindergarten, a school) rather than on the referrals that come to them.
    """

    kind = models.CharField(_("kind of service"), max_length=32, choices=Service.Kind.choices, unique=True)
    may_report_concerns = models.BooleanField(
        _("may report concerns to the child welfare service"), default=False,
        help_text=_("Its staff may send meldinger and anonymous consultations (opplysningsplikt, barnevernsloven § 13-2)."),
    )
    concern_legal_basis = models.CharField(
        _("legal basis of its meldinger"), max_length=200, default="barnevernsloven § 13-2",
        help_text=_("Recorded on every melding the service sends."),
    )
    starts_on_concerns = models.BooleanField(
        _("starts on its concerns after login"), default=False,
        help_text=_("Otherwise its staff start on the referrals that come to their service."),
    )

    class Meta:
        verbose_name = _("service kind setting")
        verbose_name_plural = _("service kind settings")
        ordering = ["kind"]

    def __str__(self):
        return str(Service.Kind(self.kind).label) if self.kind in Service.Kind.values else self.kind

    @classmethod
    def reporting_kinds(cls) -> frozenset[str]:
        """The kinds of service that may file concerns (one query)."""
        return frozenset(cls.objects.filter(may_report_concerns=True).values_list("kind", flat=True))

    @classmethod
    def concern_start_kinds(cls) -> frozenset[str]:
        """The kinds whose staff start on their concerns after login (one query)."""
        return frozenset(cls.objects.filter(may_report_concerns=True, starts_on_concerns=True).values_list("kind", flat=True))


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
