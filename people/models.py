"""Persons the services work with, each service's own record of a person's name, and guardianships.

A person row links the services that meet the same person; it is never a key by which one service
reads what another holds (see people.access and people.holders).
"""
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from org.models import Municipality, Service


class Person(models.Model):
    """A person the services work with. Identified by fødselsnummer, D-nummer, or only a birth date."""

    class IdKind(models.TextChoices):
        FNR = "fnr", _("National identity number")
        DNR = "dnr", _("D number")
        NONE = "none", _("No number (birth date only)")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    given_name = models.CharField(_("given name"), max_length=120)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    national_id = models.CharField(_("national identity number"), max_length=11, unique=True, null=True, blank=True)
    id_kind = models.CharField(_("kind of number"), max_length=8, choices=IdKind.choices, default=IdKind.NONE)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # A low-threshold contact may start with a first name and an approximate age only.
    approx_age = models.PositiveSmallIntegerField(_("approximate age"), null=True, blank=True)
    # Set when a minimal contact was identified as an already registered person.
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False, verbose_name=_("merged into"))
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="persons", verbose_name=_("municipality"))
    guardians = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="children", through="Guardianship", verbose_name=_("guardians"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        # Never the name: a person printed by accident (the admin's titles and breadcrumbs, a form's
        # choices, an error) shows a reference. Pages name a person through a service's record.
        return str(_("Person %(ref)s") % {"ref": str(self.code).split("-")[0].upper()})

    @property
    def full_name(self):
        """The name first registered: for the privacy function's full report only (see PersonRecord)."""
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def is_identified(self):
        return bool(self.national_id) or self.birth_date is not None

    def age_on(self, day):
        """Age in whole years on ``day``; the approximate age for a minimal contact; None if unknown."""
        if self.birth_date:
            years = day.year - self.birth_date.year
            if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return years
        return self.approx_age


class PersonRecord(models.Model):
    """What one service holds of a person's identity: the name it registered, as it typed it.

    A person row links the services that meet the same person (so a consent, a guardianship or a
    merge reaches the right record), but its name is never shown across services: each service sees
    its own record, and a receiving service sees the record of the service that disclosed the case
    to it. Typing an identity number therefore reveals nothing the user did not type.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="records", verbose_name=_("person"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="person_records", verbose_name=_("service"))
    given_name = models.CharField(_("given name"), max_length=120)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person record")
        verbose_name_plural = _("person records")
        constraints = [models.UniqueConstraint(fields=["person", "service"], name="uniq_person_record")]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.given_name} {self.family_name}".strip()


class Guardianship(models.Model):
    class Kind(models.TextChoices):
        PARENT = "parent", _("Parent with parental responsibility")
        GUARDIAN = "guardian", _("Appointed guardian (verge)")

    child = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardianships", verbose_name=_("child"))
    guardian = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardian_of", verbose_name=_("guardian"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PARENT)

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(fields=["child", "guardian"], name="uniq_guardianship"),
            models.CheckConstraint(condition=~models.Q(child=models.F("guardian")), name="guardian_not_self"),
        ]


class ServicePeriod(models.Model):
    """A period in which a service gave a person a service (a vedtak, a follow-up, a GP list, …):
    the register a BrukerPlan round draws its cohort from (who received at least one service from a
    service in the twelve months before the reference date). ``ended_on`` empty: still ongoing.

    What the service was is not kept here (that is the service's own record); only that it was."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="service_periods", verbose_name=_("person"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="service_periods", verbose_name=_("service"))
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("to"), null=True, blank=True, help_text=_("Empty while the service is ongoing."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        indexes = [
            # The cohort query: one service's periods that end on or after the window's start (or never).
            models.Index(fields=["service", "ended_on", "started_on"], name="serviceperiod_cohort_idx"),
            models.Index(fields=["person", "service"], name="serviceperiod_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("started_on")),
                                   name="serviceperiod_ordered"),
        ]

    def __str__(self):
        return str(_("Service period %(id)s") % {"id": self.pk})
