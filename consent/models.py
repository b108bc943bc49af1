"""Consents and the legal-basis ledger of every disclosure."""
import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _, gettext_noop

from org.models import Service
from people.models import Person


class LegalBasis(models.Model):
    """One statutory basis for sharing without consent, kept as data by the administrators.

    A disclosure on "another statutory basis" must cite one of these rows: the basis says for which
    purposes (Consent.Purpose values), from which kinds of service and to which kinds of service it
    permits sharing, and whether a leader of the sending service must approve each disclosure first.
    The text is bokmål (data cannot be translated by the catalogue); ``title_en`` is optional.
    """

    code = models.SlugField(_("code"), unique=True)
    statute = models.CharField(_("statute"), max_length=120, help_text=_("E.g. “Helsepersonelloven”."))
    paragraph = models.CharField(_("section"), max_length=80, help_text=_("E.g. “§ 45” or “§ 13 b første ledd nr. 5”."))
    title = models.CharField(_("title (Norwegian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description = models.TextField(_("description (Norwegian)"), blank=True)
    purposes = models.JSONField(_("purposes it permits"), default=list, blank=True, help_text=_("Consent purposes, e.g. [\"referral\"]."))
    sender_kinds = models.JSONField(
        _("sending service kinds"), default=list, blank=True, help_text=_("Kinds of service that may share on it; empty: any kind."),
    )
    recipient_kinds = models.JSONField(_("receiving service kinds it permits"), default=list, blank=True)
    requires_approval = models.BooleanField(
        _("requires approval"), default=False, help_text=_("Each disclosure takes effect only after a leader of the sending service approves it."),
    )
    active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        ordering = ["statute", "paragraph", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=models.F("valid_to")),
                name="legalbasis_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.reference} – {self.title}"

    @property
    def reference(self) -> str:
        """The citation as the ledger keeps it, e.g. "Helsepersonelloven § 45"."""
        return f"{self.statute} {self.paragraph}"


class Disclosure(models.Model):
    """One disclosure of a person's data to another service, and why it was lawful."""

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        OPPLYSNINGSPLIKT = "opplysningsplikt", _("Duty to report (opplysningsplikt)")
        STATUTORY = "statutory", _("Other statutory basis")

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("In force")
        PENDING = "pending", _("Awaiting approval")
        REJECTED = "rejected", _("Not approved")
        CANCELLED = "cancelled", _("Cancelled before approval")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures", verbose_name=_("person"))
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind of case"))
    subject_id = models.PositiveBigIntegerField(_("case id"))
    from_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="disclosures_made", verbose_name=_("from"))
    to_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="disclosures_received", verbose_name=_("to"))
    basis = models.CharField(_("legal basis"), max_length=20, choices=Basis.choices)
    legal_reference = models.CharField(_("legal reference"), max_length=200, blank=True)
    legal_basis = models.ForeignKey(
        LegalBasis, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures", verbose_name=_("statutory basis"),
    )
    # Only a basis that requires approval makes a row pending: nothing is granted until a leader of
    # the sending service (not the requester) approves it; a rejected or cancelled row never grants.
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.IN_FORCE)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=200)
    permission = models.CharField(_("permission"), max_length=100, help_text=_("The object permission granted to the recipient service."))
    consent = models.ForeignKey("Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures", verbose_name=_("consent"))
    disclosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("disclosed by"))
    disclosed_at = models.DateTimeField(_("disclosed at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_at", "-id"]
        indexes = [
            models.Index(fields=["person", "disclosed_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["from_service", "status"], name="disclosure_approval_queue_idx"),
        ]

    @property
    def granted(self) -> bool:
        """Whether this row holds its permission now (in force and not revoked)."""
        return self.status == self.Status.IN_FORCE and self.revoked_at is None


class AgeRule(models.Model):
    """Who consents at which age, per domain, as editable data with its legal reference."""

    class Domain(models.TextChoices):
        HEALTH = "health", _("Health and care services")
        BARNEVERN = "barnevern", _("Child welfare")
        GENERAL = "general", _("Other services")

    class Consenter(models.TextChoices):
        GUARDIANS = "guardians", _("The guardians (the child is heard)")
        PERSON_AND_GUARDIANS = "person_and_guardians", _("The young person and the guardians")
        PERSON = "person", _("The person")

    code = models.SlugField(_("code"), unique=True)
    domain = models.CharField(_("domain"), max_length=16, choices=Domain.choices)
    from_age = models.PositiveSmallIntegerField(_("from age"))
    to_age = models.PositiveSmallIntegerField(_("until age (exclusive)"), null=True, blank=True)
    consenter = models.CharField(_("who consents"), max_length=24, choices=Consenter.choices)
    heard_from_age = models.PositiveSmallIntegerField(_("the child is heard from age"), null=True, blank=True)
    great_weight_from_age = models.PositiveSmallIntegerField(_("the child's view has great weight from age"), null=True, blank=True)
    legal_reference = models.CharField(_("legal reference"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("age rule")
        verbose_name_plural = _("age rules")
        ordering = ["domain", "from_age"]
        constraints = [
            models.CheckConstraint(condition=models.Q(to_age__isnull=True) | models.Q(from_age__lt=models.F("to_age")), name="agerule_ages_ordered"),
        ]

    def __str__(self):
        return f"{self.get_domain_display()} {self.from_age}–{self.to_age or ''}: {self.get_consenter_display()}"


class Consent(models.Model):
    """A consent to share a person's information (shaped after FHIR Consent R5)."""

    class Purpose(models.TextChoices):
        REFERRAL = "referral", _("Referral to a service")
        INDIVIDUAL_PLAN = "individual_plan", _("Individual plan")
        ANSVARSGRUPPE = "ansvarsgruppe", _("Sharing in the ansvarsgruppe")
        YOUTH_CONTRACT = "youth_contract", _("Youth contract")
        OTHER = "other", _("Other")

    class Method(models.TextChoices):
        SIGNED = "signed", _("Signed and scanned")
        VERBAL = "verbal", _("Verbal, noted")
        DIGITAL = "digital", _("Digital")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents", verbose_name=_("person"))
    domain = models.CharField(_("domain"), max_length=16, choices=AgeRule.Domain.choices, default=AgeRule.Domain.HEALTH)
    given_by_person = models.BooleanField(_("given by the person"), default=False)
    guardians = models.ManyToManyField(Person, blank=True, related_name="consents_given_as_guardian", verbose_name=_("given by guardians"))
    grantees = models.ManyToManyField(Service, related_name="consents_received", verbose_name=_("may be shared with"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    information = models.TextField(_("what information"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    method = models.CharField(_("how it was obtained"), max_length=10, choices=Method.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_by_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="consents_recorded", verbose_name=_("responsible service"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("withdrawn by"))
    withdrawal_note = models.TextField(_("withdrawal note"), blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        permissions = [("manage_consent", gettext_noop("Can see and withdraw a consent (responsible service)"))]
        indexes = [models.Index(fields=["person", "purpose"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_to__isnull=True) | models.Q(valid_from__lte=models.F("valid_to")), name="consent_period_ordered"),
        ]

    def __str__(self):
        return str(_("Consent %(ref)s") % {"ref": self.reference})

    @property
    def reference(self):
        return str(self.code).split("-")[0].upper()


class ReconsentTask(models.Model):
    """A consent that rested on guardians alone stopped being sufficient (the person turned 16 or 18)."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="reconsent_tasks", verbose_name=_("consent"))
    responsible_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="reconsent_tasks", verbose_name=_("responsible service"))
    age = models.PositiveSmallIntegerField(_("age reached"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-consent task")
        verbose_name_plural = _("re-consent tasks")
        constraints = [models.UniqueConstraint(fields=["consent", "age"], name="uniq_reconsent_per_age")]


class AccessRequest(models.Model):
    """A person's request for access to their data (GDPR art. 15), registered by the privacy function.

    The full transparency report exists only for such a request: it is produced by the privacy
    function, under the request's reference, and answered within one month of receipt
    (GDPR art. 12(3)). Service leaders see only their own service's handling of a person.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")

    class RequestedBy(models.TextChoices):
        PERSON = "person", _("The person")
        GUARDIAN = "guardian", _("A guardian on the child's behalf")
        REPRESENTATIVE = "representative", _("A representative with a power of attorney")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("case reference (archive)"), max_length=60)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="access_requests", verbose_name=_("person"))
    requested_by = models.CharField(_("requested by"), max_length=16, choices=RequestedBy.choices, default=RequestedBy.PERSON)
    received_on = models.DateField(_("received"))
    due_on = models.DateField(_("answer by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by"))
    registered_by_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="access_requests", verbose_name=_("privacy function"))
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("answered by"))

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["registered_by_service", "status", "due_on"], name="accessrequest_queue_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(due_on__gte=models.F("received_on")), name="accessrequest_due_after_received")]

    def __str__(self):
        return self.reference
