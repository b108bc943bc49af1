"""The case records: concerns, referrals, contacts, the service catalogue, emergency accesses.

Every row that may be addressed from a URL has an integer primary key (viewflow needs it)
and a random ``code`` UUID that is the only identifier ever put in a URL or an e-mail.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _, gettext_noop
from django.utils.translation import pgettext_lazy

from org.models import Municipality, Service
from people.models import Person



class CaseReference:
    """What every case record shows of itself: ``reference``, short and non-identifying (never the
    person's name), from its ``code``; and ``is_open``, from its ``OPEN_STATUSES``."""

    OPEN_STATUSES: tuple = ()

    @property
    def reference(self):
        return str(self.code).split("-")[0].upper()

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class Concern(CaseReference, models.Model):
    """A concern about a child: an anonymous consultation or an identified melding to barnevern.

    Status changes only through ``workflows.concern.services``; the receiving service's
    assessments never leave this table for the reporter (the reporter's views show status and
    feedback only).
    """

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Anonymous consultation")
        MELDING = "melding", _("Report of concern (melding)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Sent, awaiting receipt")
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Under investigation")
        CLOSED = "closed", _("Closed after review")
        INVESTIGATED = "investigated", _("Investigation concluded")
        ANSWERED = "answered", _("Advice given")
        UPGRADED = "upgraded", _("Upgraded to a melding")

    class Urgency(models.TextChoices):
        NORMAL = "normal", pgettext_lazy("urgency", "Normal")
        URGENT = "urgent", _("Urgent")
        ACUTE = "acute", _("Acute – the child may be in danger now")

    class ReviewDecision(models.TextChoices):
        INVESTIGATE = "investigate", _("Open an investigation")
        CLOSE = "close", _("Close (henlegge)")

    class Outcome(models.TextChoices):
        CLOSED = "closed", _("Closed (henlagt)")
        MEASURES = "measures", _("Measures (tiltak)")

    class Category(models.TextChoices):
        CHILD_SUBSTANCE_USE = "child_substance_use", _("The child's own substance use")
        PARENTAL_SUBSTANCE_USE = "parental_substance_use", _("Parental substance use")
        PARENT_INTOXICATED = "parent_intoxicated", _("Parent intoxicated at drop-off or pick-up")
        NEGLECT = "neglect", _("Suspected neglect")
        VIOLENCE = "violence", _("Violence")
        OTHER = "other", _("Other")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    reporting_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="concerns_sent", verbose_name=_("reporting service"))
    receiving_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="concerns_received", verbose_name=_("child welfare service"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="concerns", verbose_name=_("child"))
    child_age = models.PositiveSmallIntegerField(_("child's age"), null=True, blank=True)
    observations = models.TextField(_("what was observed"))
    categories = models.JSONField(_("categories"), default=list)
    parents_informed = models.BooleanField(_("parents have been told"), null=True)
    child_informed = models.BooleanField(_("the child has been told"), null=True)
    not_informed_reason = models.TextField(_("why not told"), blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("received by"))

    # Anonymous consultation
    advice = models.TextField(_("advice"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    upgraded_from = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="upgraded_to", verbose_name=_("upgraded from"))

    # Barnevern's handling (never shown to the reporter)
    review_decision = models.CharField(_("review decision"), max_length=16, choices=ReviewDecision.choices, blank=True)
    review_justification = models.TextField(_("justification"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    investigation_extension_reason = models.TextField(_("reason for extension"), blank=True)
    investigation_outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    investigation_summary = models.TextField(_("summary"), blank=True)
    investigation_ended_at = models.DateTimeField(_("investigation ended"), null=True, blank=True)

    # Denormalised next deadline, kept by the services, so lists sort and page on an index.
    next_deadline_at = models.DateTimeField(_("next deadline"), null=True, blank=True)

    class Meta:
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        permissions = [
            ("view_concern_status", gettext_noop("Can see the status and feedback of a concern (reporter)")),
            ("handle_concern", gettext_noop("Can read and handle a concern (receiving service)")),
        ]
        indexes = [
            models.Index(fields=["receiving_service", "next_deadline_at", "id"], name="concern_intake_idx"),
            models.Index(fields=["receiving_service", "submitted_at", "id"], name="concern_received_idx"),
            models.Index(fields=["reporting_service", "created_at", "id"], name="concern_sent_idx"),
        ]

    def __str__(self):
        return str(_("Concern %(ref)s") % {"ref": self.reference})


    @property
    def is_open(self):
        return self.status in (self.Status.SUBMITTED, self.Status.RECEIVED, self.Status.INVESTIGATING)

    def get_category_labels(self):
        labels = dict(self.Category.choices)
        return [labels.get(c, c) for c in self.categories]


class ConcernFeedback(models.Model):
    """Feedback barnevern gives the reporter (barnevernsloven § 13-2 tredje ledd)."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Feedback after receipt")
        FINAL = "final", _("Feedback after the investigation")

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="feedbacks", verbose_name=_("concern"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    message = models.TextField(_("message"))
    investigation_opened = models.BooleanField(_("investigation opened"), null=True)
    sent_at = models.DateTimeField(_("sent"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by"))

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [models.UniqueConstraint(fields=["concern", "kind"], name="uniq_feedback_kind")]
        ordering = ["sent_at"]


class ReferralKind(models.TextChoices):
    """What a referral asks for; catalogue entries say which kinds a service accepts."""

    SUBSTANCE = "substance", _("Substance use follow-up")
    MENTAL_HEALTH = "mental_health", _("Mental health help")
    DRUG_TESTING = "drug_testing", _("Drug testing")
    HOUSING = "housing", _("Housing and practical help (vedtak)")
    WORK = "work", _("Work, activity and income")
    SPECIALIST = "specialist", _("Specialist treatment (TSB/DPS/LAR)")
    HEALTH = "health", _("Health services")
    FAMILY = "family", _("Family and parenting support")
    OTHER = "other", _("Other")


class CatalogueEntry(models.Model):
    """What a service receives and for whom (after Open Referral HSDS): “Hvor kan jeg henvise?”."""

    class Capacity(models.TextChoices):
        OPEN = "open", _("Open")
        WAITING_LIST = "waiting_list", _("Waiting list")
        CLOSED = "closed", _("Closed for referrals")

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="catalogue", verbose_name=_("service"))
    description = models.TextField(_("description"))
    accepts = models.JSONField(_("accepts referrals of kind"), default=list)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    areas = models.ManyToManyField(Municipality, blank=True, related_name="catalogue_entries", verbose_name=_("area (municipalities served)"))
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    intake_notes = models.TextField(_("intake notes"), blank=True)
    referral_required = models.BooleanField(_("referral required"), default=True)
    capacity = models.CharField(_("capacity"), max_length=16, choices=Capacity.choices, default=Capacity.OPEN)
    last_verified_at = models.DateField(_("last verified"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("verified by"))

    class Meta:
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("service catalogue")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True) | models.Q(max_age__isnull=True) | models.Q(min_age__lte=models.F("max_age")),
                name="catalogue_age_range_ordered",
            )
        ]

    def __str__(self):
        return self.service.name

    def get_accepts_labels(self):
        labels = dict(ReferralKind.choices)
        return [labels.get(k, k) for k in self.accepts]

    def age_range_label(self):
        if self.min_age is None and self.max_age is None:
            return _("All ages")
        if self.max_age is None:
            return _("%(min)s years and older") % {"min": self.min_age}
        if self.min_age is None:
            return _("Up to %(max)s years") % {"max": self.max_age}
        return _("%(min)s–%(max)s years") % {"min": self.min_age, "max": self.max_age}


class Contact(CaseReference, models.Model):
    """An enquiry registered by a service (often low-threshold: no referral needed, minimal identity)."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("service"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("person"))
    summary = models.TextField(_("what the contact is about (internal)"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [("handle_contact", gettext_noop("Can read and handle a contact (registering service)"))]
        # The contact list pages by (created_at, id) within the user's services.
        indexes = [models.Index(fields=["service", "created_at", "id"], name="contact_list_idx")]



class ContactStat(models.Model):
    """The contact statistics, counted as contacts and referrals are written (in their transaction,
    by workflows.referral.stats), so the statistics page and its CSV read a few rows per registering
    service and year instead of counting the services' contacts and their referrals on every
    request: per registering service and year of registration, the contacts registered, those
    referred on (at least one referral), and per destination the contacts referred there (a
    contact referred twice to one service counts once; no destination: still in a coordinator's
    routing queue). Counts only, never a person."""

    class Measure(models.IntegerChoices):
        REGISTERED = 0, _("contacts registered")
        REFERRED = 1, _("contacts referred on")
        DESTINATION = 2, _("contacts referred to a destination")

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("registering service"))
    year = models.PositiveSmallIntegerField(_("year"))
    measure = models.PositiveSmallIntegerField(_("what is counted"), choices=Measure.choices)
    destination = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("destination"))
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("contact statistic")
        verbose_name_plural = _("contact statistics")
        constraints = [
            # One row per key; a NULL destination (the totals, and the routing queue) keyed without it.
            models.UniqueConstraint(fields=["service", "year", "measure", "destination"], condition=models.Q(destination__isnull=False),
                                    name="uniq_contactstat_destination"),
            models.UniqueConstraint(fields=["service", "year", "measure"], condition=models.Q(destination__isnull=True),
                                    name="uniq_contactstat_total"),
        ]


class Referral(CaseReference, models.Model):
    """A referral from one service to another, with a closed loop back to the sender.

    Statuses follow the FHIR Task vocabulary. The sender sees statuses, reasons and the outcome;
    ``receiver_notes`` never leave the receiving service.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Sent")
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Declined")
        IN_PROGRESS = "in-progress", _("In progress")
        ON_HOLD = "on-hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    OPEN_STATUSES = (Status.REQUESTED, Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("person"))
    sender_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals_sent", verbose_name=_("from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    kind = models.CharField(_("kind"), max_length=20, choices=ReferralKind.choices)
    reason = models.TextField(_("what the referral is about"))
    routing_service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_routed", verbose_name=_("routed by"))
    target_service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_received", verbose_name=_("to"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    status_reason = models.TextField(_("reason"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    receiver_notes = models.TextField(_("internal notes (receiving service only)"), blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals", verbose_name=_("contact"))
    forwarded_from = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="forwarded_to", verbose_name=_("forwarded from"))
    consent = models.ForeignKey("consent.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals", verbose_name=_("consent"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    next_deadline_at = models.DateTimeField(_("next deadline"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        permissions = [
            ("view_referral_status", gettext_noop("Can follow the status and outcome of a referral (sender)")),
            ("handle_referral", gettext_noop("Can read and handle a referral (receiving service)")),
            ("route_referral", gettext_noop("Can triage and route a referral (coordinator)")),
        ]
        # Each list walks one of these in its order within the user's services and stops after a
        # page (workflows.referral.selectors); the partial ones hold only the rows their list shows,
        # so a list of open referrals never steps over the closed ones of the years before.
        indexes = [
            models.Index(fields=["target_service", "status", "sent_at"], name="referral_target_idx"),
            models.Index(fields=["routing_service", "status", "sent_at", "id"], name="referral_routing_status_idx"),
            models.Index(fields=["sender_service", "created_at", "id"], name="referral_sent_list_idx"),
            models.Index(fields=["target_service", "sent_at", "id"], name="referral_incoming_idx"),
            models.Index(
                fields=["target_service", "sent_at", "id"], name="referral_incoming_open_idx",
                # Referral.OPEN_STATUSES (a nested Meta cannot name it; a test checks they agree).
                condition=models.Q(status__in=["requested", "received", "accepted", "in-progress", "on-hold"]),
            ),
            models.Index(fields=["routing_service", "sent_at", "id"], name="referral_routed_idx"),
            models.Index(
                fields=["routing_service", "sent_at", "id"], name="referral_routing_queue_idx",
                condition=models.Q(status="requested", target_service__isnull=True),
            ),
            models.Index(
                fields=["routing_service", "next_deadline_at", "id"], name="referral_routing_deadline_idx",
                condition=models.Q(next_deadline_at__isnull=False),
            ),
            # The statistics count a service's referrals per year, destination and status, once
            # per role: each from its index alone (an index-only scan), never from the table.
            models.Index(fields=["sender_service", "sent_at"], include=["target_service", "status"], name="referral_stats_sender_idx"),
            # Also the coordinator's counts by status and age band: each row's person and id from the index alone.
            models.Index(fields=["routing_service", "sent_at"], include=["target_service", "status", "sender_service", "person", "id"],
                         name="referral_routing_counts_idx"),
            # With the id: whether a referral reached its target (its process started) is asked of
            # the id, so the receiving service's statistics stay an index-only scan.
            models.Index(fields=["target_service", "sent_at"], include=["status", "sender_service", "routing_service", "id"],
                         name="referral_stats_target_idx"),
            # Where a contact was referred to (the contact statistics), from the index alone.
            models.Index(fields=["contact"], include=["target_service"], condition=models.Q(contact__isnull=False),
                         name="referral_contact_targets_idx"),
        ]

    def __str__(self):
        return str(_("Referral %(ref)s") % {"ref": self.reference})



class ReferralEvent(models.Model):
    """Each status a referral passed through, shown to the sender as the closed loop."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("referral"))
    status = models.CharField(_("status"), max_length=16, choices=Referral.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["at", "id"]


class BreakGlassAccess(CaseReference, models.Model):
    """An emergency read of one case by a user who holds no role in it ("break the glass").

    Time-limited and read-only; the owning service's leaders and the privacy function are notified
    when it opens, every read through it is logged with ``via="break_glass"``, and it is reviewed
    afterwards. Superuser status gives no other way into a case.
    """

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_accesses", verbose_name=_("user"))
    subject_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+", verbose_name=_("kind of case"))
    subject_id = models.PositiveBigIntegerField(_("case id"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("person"))
    owner_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="break_glass_accesses", verbose_name=_("service holding the case"))
    justification = models.TextField(_("justification"))
    started_at = models.DateTimeField(_("opened"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("reviewed by"))
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-started_at", "-id"]
        permissions = [("review_break_glass", gettext_noop("Can review an emergency access (leader of the case's service, privacy function)"))]
        indexes = [
            models.Index(fields=["user", "subject_type", "subject_id", "expires_at"], name="breakglass_user_idx"),
            models.Index(fields=["owner_service", "started_at"], name="breakglass_owner_idx"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("started_at")), name="breakglass_expires_after_start")]



# --- Ungdomskontrakt (youth contract, domain P3) -------------------------------------------------


class ContractTemplate(models.Model):
    """A kind of youth contract as the municipality runs it: who may have one, for how long, how
    often tests and conversations fall, what it demands and who must sign. Rows edited in the admin
    (municipalities differ and laws change); two standard templates come with the installation.

    Ages are whole years on the eligibility day (the police decision for the police variant, the
    contract's start for the voluntary one): eligible when ``min_age <= age <= max_age``.
    """

    class Variant(models.TextChoices):
        POLICE = "police", _("Police variant (conditional waiver of prosecution)")
        VOLUNTARY = "voluntary", _("Voluntary contract")

    class Condition(models.TextChoices):
        DRUG_FREE = "drug_free", _("Drug-free, with urine tests")
        CONVERSATIONS = "conversations", _("Conversations with the follow-up service")
        SCHOOL_OR_WORK = "school_or_work", _("School or work attendance")
        PROGRAMME = "programme", _("Programme participation (HAP, CPU)")
        PARENT_EVENINGS = "parent_evenings", _("Guardians attend theme evenings")

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    variant = models.CharField(_("variant"), max_length=16, choices=Variant.choices)
    min_age = models.PositiveSmallIntegerField(_("from age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("up to and including age"))
    default_months = models.PositiveSmallIntegerField(_("default duration (months)"))
    max_months = models.PositiveSmallIntegerField(_("maximum duration (months)"))
    test_interval_days = models.PositiveSmallIntegerField(_("days between tests"), null=True, blank=True,
                                                          help_text=_("Empty: no scheduled tests."))
    conversation_interval_days = models.PositiveSmallIntegerField(_("days between conversations"), null=True, blank=True,
                                                                  help_text=_("Empty: no scheduled conversations."))
    default_conditions = models.JSONField(_("default conditions"), default=list, blank=True)
    guardians_sign_under_age = models.PositiveSmallIntegerField(
        _("guardians sign while the young person is under"), default=18,
    )
    police_signs = models.BooleanField(_("the police sign"), default=False)
    followup_signs = models.BooleanField(_("the follow-up service signs"), default=True)
    legal_reference = models.CharField(_("legal reference"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        ordering = ["variant", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_age__isnull=True) | models.Q(min_age__lte=models.F("max_age")),
                                   name="contracttemplate_ages_ordered"),
            models.CheckConstraint(condition=models.Q(default_months__lte=models.F("max_months")) & models.Q(default_months__gt=0),
                                   name="contracttemplate_duration_ordered"),
            models.CheckConstraint(condition=~models.Q(test_interval_days=0) & ~models.Q(conversation_interval_days=0),
                                   name="contracttemplate_intervals_positive"),
        ]

    def __str__(self):
        return self.name


class YouthContract(CaseReference, models.Model):
    """One ungdomskontrakt: a young person, the services that are parties, its period and conditions.

    Status changes only through ``workflows.youth_contract.services``. The follow-up service holds
    everything; the police (and an initiating service that does not follow up) see status, dates,
    whether there were breaches, and the outcome; the police also see the tests' and conversations'
    dates and results when the contract's consent says so (``police_see_results``).
    """

    class Status(models.TextChoices):
        AWAITING_SIGNATURES = "awaiting_signatures", _("Awaiting signatures")
        ACTIVE = "active", _("Active")
        BREACH_ASSESSMENT = "breach_assessment", _("Breach assessment")
        COMPLETED = "completed", _("Completed")
        BROKEN = "broken", _("Broken")
        ENDED = "ended", _("Ended")
        SUSPENDED = "suspended", _("Suspended (consent withdrawn)")

    OPEN_STATUSES = (Status.AWAITING_SIGNATURES, Status.ACTIVE, Status.BREACH_ASSESSMENT)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    template = models.ForeignKey(ContractTemplate, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("contract template"))
    variant = models.CharField(_("variant"), max_length=16, choices=ContractTemplate.Variant.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="youth_contracts", verbose_name=_("young person"))
    initiating_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="youth_contracts_initiated", verbose_name=_("initiated by"))
    followup_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="youth_contracts_followed", verbose_name=_("follow-up service"))
    police_service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="youth_contracts_police",
                                       verbose_name=_("police"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    consent = models.ForeignKey("consent.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="youth_contracts",
                                verbose_name=_("consent"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_SIGNATURES)
    # The choice recorded with the consent, at initiation only (contract_register / contract_initiate):
    # whether the young person (and guardians) consented to the police seeing the test results and
    # whether conversations were held. Effective only while that consent is in force for the police
    # (workflows.youth_contract.selectors.police_sees_results); never the notes.
    police_see_results = models.BooleanField(
        _("the consent covers test results and conversations to the police"), default=False, editable=False,
        help_text=_("Dates and results of tests and conversations, never the follow-up service's notes."),
    )
    police_decision_on = models.DateField(_("date of the police decision"), null=True, blank=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    # What the police and the initiator see when the contract is over.
    outcome = models.TextField(_("outcome"), blank=True)
    outcome_reported_at = models.DateTimeField(_("outcome reported to the police"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    next_deadline_at = models.DateTimeField(_("next deadline"), null=True, blank=True)

    class Meta:
        verbose_name = _("youth contract")
        verbose_name_plural = _("youth contracts")
        permissions = [
            ("handle_youthcontract", gettext_noop("Can read and follow up a youth contract (follow-up service)")),
            ("view_youthcontract_status", gettext_noop("Can follow a youth contract's status and outcome (police, initiating service)")),
        ]
        indexes = [
            models.Index(fields=["followup_service", "status", "starts_on", "id"], name="youthcontract_followup_idx"),
            models.Index(fields=["police_service", "starts_on", "id"], name="youthcontract_police_idx"),
            models.Index(fields=["initiating_service", "starts_on", "id"], name="youthcontract_initiator_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="youthcontract_period_ordered"),
        ]

    def __str__(self):
        return str(_("Youth contract %(ref)s") % {"ref": self.reference})



class ContractParty(models.Model):
    """A party to a contract: the young person, a guardian (persons), the police or the follow-up
    service (services). ``required``: the contract cannot start until this party has signed."""

    class Role(models.TextChoices):
        YOUNG_PERSON = "young_person", _("Young person")
        GUARDIAN = "guardian", pgettext_lazy("a role in a case", "Guardian")
        POLICE = "police", _("Police")
        FOLLOWUP = "followup", _("Follow-up service")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(YouthContract, on_delete=models.CASCADE, related_name="parties", verbose_name=_("youth contract"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="youth_contract_parties", verbose_name=_("person"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("service"))
    required = models.BooleanField(_("must sign"), default=True)

    class Meta:
        verbose_name = _("contract party")
        verbose_name_plural = _("contract parties")
        ordering = ["contract", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(person__isnull=True) | models.Q(service__isnull=True), name="contractparty_person_or_service"),
            models.UniqueConstraint(fields=["contract", "person"], condition=models.Q(person__isnull=False), name="uniq_contractparty_person"),
            models.UniqueConstraint(fields=["contract", "role", "service"], condition=models.Q(service__isnull=False),
                                    name="uniq_contractparty_service"),
        ]


class ContractSignature(models.Model):
    """A party's signature on the contract: how it was obtained, who recorded it and when."""

    party = models.OneToOneField(ContractParty, on_delete=models.CASCADE, related_name="signature", verbose_name=_("party"))
    signed_on = models.DateField(_("signed on"))
    method = models.CharField(_("how it was obtained"), max_length=10, choices=[
        ("signed", _("Signed and scanned")), ("verbal", _("Verbal, noted")), ("digital", _("Digital")),
    ])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract signature")
        verbose_name_plural = _("contract signatures")


class ContractAppointment(models.Model):
    """A scheduled test or conversation. ``planned_on`` is the interval's day; ``on`` the working
    day it falls on (a weekend or public holiday moves it to the next working day)."""

    class Kind(models.TextChoices):
        TEST = "test", _("Urine test")
        CONVERSATION = "conversation", _("Conversation")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(YouthContract, on_delete=models.CASCADE, related_name="appointments", verbose_name=_("youth contract"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    planned_on = models.DateField(_("planned for"))
    on = models.DateField(_("date"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The SMS-ready reminder for the young person: stored with the appointment, never sent by the
    # platform (no SMS gateway); it names no one and no service.
    sms_text = models.CharField(_("SMS text for the young person"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["on", "kind", "id"]
        indexes = [models.Index(fields=["contract", "on"], name="contractappointment_day_idx")]
        constraints = [models.UniqueConstraint(fields=["contract", "kind", "on"], name="uniq_contractappointment_day")]


class ContractResult(models.Model):
    """A test result or a held (or missed) conversation, logged by the follow-up service. Health
    data: every read is audited. The police see the date, kind and result only when the contract's
    consent covers it (YouthContract.police_see_results), and never ``note``."""

    class Outcome(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        MISSED = "missed", _("Missed")
        INVALID = "invalid", _("Invalid")
        HELD = "held", _("Held")

    # A positive test, and a missed test or conversation (the young person did not come), open a
    # breach assessment (domain P3: "a missed test or positive result opens a breach assessment";
    # a missed conversation is the same failure to turn up).
    BREACHES = (Outcome.POSITIVE, Outcome.MISSED)

    @classmethod
    def opens_breach(cls, kind: str, outcome: str) -> bool:
        """Whether a result of ``kind`` with ``outcome`` opens a breach assessment. (A positive
        conversation is no result at all: the service refuses it.)"""
        return outcome in cls.BREACHES and kind in ContractAppointment.Kind.values

    contract = models.ForeignKey(YouthContract, on_delete=models.CASCADE, related_name="results", verbose_name=_("youth contract"))
    appointment = models.OneToOneField(ContractAppointment, on_delete=models.PROTECT, null=True, blank=True, related_name="result",
                                       verbose_name=_("appointment"))
    kind = models.CharField(_("kind"), max_length=16, choices=ContractAppointment.Kind.choices)
    taken_on = models.DateField(_("date"))
    outcome = models.CharField(_("result"), max_length=10, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["taken_on", "id"]


class ContractBreach(models.Model):
    """A breach assessment opened by a positive or missed test or a missed conversation, and its decision."""

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("Talk and continue")
        NEW_CONDITIONS = "new_conditions", _("Continue on new conditions")
        BROKEN = "broken", _("End the contract as broken")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(YouthContract, on_delete=models.CASCADE, related_name="breaches", verbose_name=_("youth contract"))
    result = models.OneToOneField(ContractResult, on_delete=models.PROTECT, related_name="breach", verbose_name=_("result"))
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, blank=True)
    note = models.TextField(_("assessment"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))

    class Meta:
        verbose_name = _("breach assessment")
        verbose_name_plural = _("breach assessments")
        ordering = ["opened_at", "id"]


class ContractMeasure(models.Model):
    """A measure of a contract: the young person in a programme (HAP, CPU) or the guardians at a
    theme evening, with the sessions attended."""

    class Kind(models.TextChoices):
        HAP = "hap", _("Cannabis cessation programme (HAP)")
        CPU = "cpu", _("Cannabis programme for youth (CPU)")
        PARENT_EVENING = "parent_evening", _("Theme evening for parents")
        OTHER = "other", _("Other measure")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(YouthContract, on_delete=models.CASCADE, related_name="measures", verbose_name=_("youth contract"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    enrolled_on = models.DateField(_("enrolled"))
    sessions_attended = models.PositiveSmallIntegerField(_("sessions attended"), default=0)
    sessions_missed = models.PositiveSmallIntegerField(_("sessions missed"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["enrolled_on", "id"]


class CalendarFeed(models.Model):
    """A follow-up worker's secret address of an iCalendar (.ics) feed of their youth contract
    appointments, for Outlook to subscribe to. Only the token's SHA-256 is stored: the address is
    shown once, when made; making a new one or revoking it ends the old one. The feed names no one
    (each appointment carries its contract's reference only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("user"))
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(revoked_at__isnull=True), name="uniq_live_calendar_feed")]


# --- Individuell plan, koordinator and main responsibility (domain P4) ------------------------------


class PlanOffer(CaseReference, models.Model):
    """The offer of an individual plan (and a koordinator) to a person who qualifies, and the answer.

    Any service may register that a person qualifies; the answer is recorded with its date and who
    gave it: the person, the guardians, or both, as the consent app's age rules (consent.AgeRule, the
    health domain) require at the person's age on that day. ``answer_consenter`` keeps the rule that
    applied. Changes only through ``workflows.individual_plan.services``.
    """

    class Answer(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted: an individual plan and a koordinator")
        DECLINED = "declined", _("Declined")
        COORDINATOR_ONLY = "coordinator_only", _("A koordinator only, no plan")

    OPEN_STATUSES = ("",)  # an offer is open until answered (``answer`` empty)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="plan_offers", verbose_name=_("person"))
    offered_by_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="plan_offers", verbose_name=_("offered by"))
    reason = models.TextField(_("why the person qualifies"))
    offered_on = models.DateField(_("offered on"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by"))
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    answer = models.CharField(_("answer"), max_length=20, choices=Answer.choices, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by_person = models.BooleanField(_("answered by the person"), default=False)
    answered_by_guardians = models.ManyToManyField(Person, blank=True, related_name="plan_offers_answered_as_guardian",
                                                   verbose_name=_("answered by guardians"))
    answer_consenter = models.CharField(_("who had to answer (age rule)"), max_length=24, blank=True)
    answer_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                           verbose_name=_("answer recorded by"))
    # A koordinator may be offered even when the plan is declined (answer "koordinator only"): the
    # service and its member who coordinates, named through offer_koordinator_set.
    koordinator_service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                            verbose_name=_("koordinator's service"))
    koordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("koordinator"))
    koordinator_named_at = models.DateTimeField(_("koordinator named"), null=True, blank=True)

    class Meta:
        verbose_name = _("individual plan offer")
        verbose_name_plural = _("individual plan offers")
        indexes = [models.Index(fields=["offered_by_service", "offered_on", "id"], name="planoffer_service_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(answer="") | models.Q(answered_on__gte=models.F("offered_on")),
                                   name="planoffer_answer_after_offer"),
            # Only an offer answered "koordinator only" names a koordinator on the offer (a plan's
            # koordinator is its holder's), and then a service and its member together.
            models.CheckConstraint(
                condition=models.Q(koordinator_service__isnull=True, koordinator__isnull=True)
                | models.Q(answer="coordinator_only", koordinator_service__isnull=False, koordinator__isnull=False),
                name="planoffer_koordinator_only",
            ),
        ]

    @property
    def status(self):
        return self.answer

    def __str__(self):
        return str(_("Individual plan offer %(ref)s") % {"ref": self.reference})


class IndividualPlan(CaseReference, models.Model):
    """One person's individual plan (IP), kriseplan or tiltaksplan.

    Exists only with the person's consent (``consent``, purpose individual plan); a participating
    service (the holder of the main responsibility too) sees its content only while that consent is
    in force for it (workflows.individual_plan.selectors). Withdrawing the consent pauses the plan.
    Exactly one service holds the main responsibility at a time (``PlanHolder``). Every change
    bumps ``version`` and writes a ``PlanVersion`` row (who, when, what).
    """

    class Kind(models.TextChoices):
        IP = "ip", _("Individual plan (IP)")
        CRISIS = "crisis", _("Crisis plan (kriseplan)")
        MEASURES = "measures", _("Measures plan (tiltaksplan)")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused (consent withdrawn)")
        CLOSED = "closed", _("Closed")

    class Participation(models.TextChoices):
        WROTE = "wrote", _("The person took part in writing the plan")
        CONSULTED = "consulted", _("The person was consulted and agreed")
        NOT_YET = "not_yet", _("Not yet: the person will be involved")

    OPEN_STATUSES = (Status.ACTIVE,)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind of plan"), max_length=12, choices=Kind.choices, default=Kind.IP)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="individual_plans", verbose_name=_("person"))
    offer = models.OneToOneField(PlanOffer, on_delete=models.PROTECT, related_name="plan", verbose_name=_("offer"))
    consent = models.ForeignKey("consent.Consent", on_delete=models.PROTECT, related_name="individual_plans", verbose_name=_("consent"))
    registered_by_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="individual_plans_started",
                                              verbose_name=_("started by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    goals = models.TextField(_("the person's own goals, in their own words"))
    resources = models.TextField(_("resources"), blank=True)
    period_start = models.DateField(_("plan period from"))
    period_end = models.DateField(_("plan period to"), null=True, blank=True)
    revision_due_on = models.DateField(_("revise by"))
    participation = models.CharField(_("the person's participation"), max_length=12, choices=Participation.choices)
    participation_note = models.TextField(_("about the person's participation"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    # When the plan was closed: set with status "closed" by the service that closes it (the database
    # refuses one without the other), so the insights count a plan as open until then.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("individual plan")
        verbose_name_plural = _("individual plans")
        permissions = [("take_part_individualplan", gettext_noop("Can take part in an individual plan (participating service, on the person's consent)"))]
        indexes = [models.Index(fields=["consent", "status"], name="individualplan_consent_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_end__isnull=True) | models.Q(period_end__gte=models.F("period_start")),
                                   name="individualplan_period_ordered"),
            models.CheckConstraint(condition=models.Q(revision_due_on__gte=models.F("period_start")),
                                   name="individualplan_revision_in_period"),
            models.CheckConstraint(condition=models.Q(status="closed", closed_at__isnull=False) | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                                   name="individualplan_closed_at_when_closed"),
        ]

    def __str__(self):
        return str(_("Individual plan %(ref)s") % {"ref": self.reference})


class PlanParticipant(models.Model):
    """A participant in a plan: a service, or a next of kin (a person). A service's participation is
    disclosed to it through the ledger, on the plan's consent; ``removed_at`` ends it."""

    class Role(models.TextChoices):
        SERVICE = "service", _("Participating service")
        NEXT_OF_KIN = "next_of_kin", _("Next of kin")
        GUARDIAN = "guardian", pgettext_lazy("a role in a case", "Guardian")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="participants", verbose_name=_("individual plan"))
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_participations",
                                verbose_name=_("service"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_participations",
                               verbose_name=_("next of kin"))
    relation = models.CharField(_("relation to the person"), max_length=80, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan participant")
        verbose_name_plural = _("plan participants")
        ordering = ["plan", "id"]
        indexes = [models.Index(fields=["service", "plan"], name="planparticipant_service_idx", condition=models.Q(removed_at__isnull=True))]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role="service", service__isnull=False, person__isnull=True)
                           | (~models.Q(role="service") & models.Q(service__isnull=True, person__isnull=False))),
                name="planparticipant_service_or_person",
            ),
            models.UniqueConstraint(fields=["plan", "service"], condition=models.Q(service__isnull=False, removed_at__isnull=True),
                                    name="uniq_planparticipant_service"),
            models.UniqueConstraint(fields=["plan", "person"], condition=models.Q(person__isnull=False, removed_at__isnull=True),
                                    name="uniq_planparticipant_person"),
        ]


class PlanMeasure(models.Model):
    """A measure (tiltak) of a plan: what, which participating service is responsible, from when,
    when it is evaluated, and how it stands."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ONGOING = "ongoing", _("Ongoing")
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="measures", verbose_name=_("individual plan"))
    description = models.TextField(_("measure"))
    responsible_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="plan_measures", verbose_name=_("responsible service"))
    starts_on = models.DateField(_("starts"))
    evaluate_on = models.DateField(_("evaluate by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan measure")
        verbose_name_plural = _("plan measures")
        ordering = ["evaluate_on", "id"]
        indexes = [models.Index(fields=["responsible_service", "status", "evaluate_on"], name="planmeasure_due_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(evaluate_on__gte=models.F("starts_on")), name="planmeasure_evaluation_after_start"),
        ]


class PlanHolder(models.Model):
    """Who held the plan's main responsibility, and its koordinator, when: the history of the baton.

    The row with ``ended_at`` empty is the current holder. The database admits at most one such row
    per plan (``uniq_current_plan_holder``); the services create the first with the plan and replace
    it only by ending it and creating the next in one transaction, under the plan's row lock."""

    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="holders", verbose_name=_("individual plan"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="plans_held", verbose_name=_("main responsibility"))
    koordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("koordinator"))
    handover = models.OneToOneField("PlanHandOver", on_delete=models.PROTECT, null=True, blank=True, related_name="holder",
                                    verbose_name=_("by hand-over"))
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("main responsibility")
        verbose_name_plural = _("main responsibilities")
        ordering = ["plan", "started_at", "id"]
        indexes = [models.Index(fields=["service", "plan"], name="planholder_current_idx", condition=models.Q(ended_at__isnull=True))]
        constraints = [
            models.UniqueConstraint(fields=["plan"], condition=models.Q(ended_at__isnull=True), name="uniq_current_plan_holder"),
            models.CheckConstraint(condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                                   name="planholder_period_ordered"),
        ]


class PlanHandOver(models.Model):
    """A proposal to hand the main responsibility (and the koordinator role) to another service.

    The current holder proposes; the receiving service accepts or declines. Until it accepts the old
    holder keeps it. Accepting one proposal supersedes every other open one of the plan."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded by another hand-over")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="handovers", verbose_name=_("individual plan"))
    from_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("from"))
    to_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="plan_handovers_received", verbose_name=_("to"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    # The step skeleton's (workflows.steps): the answer is the hand-over process's step.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    next_deadline_at = models.DateTimeField(_("next deadline"), null=True, blank=True)

    class Meta:
        verbose_name = _("hand-over of main responsibility")
        verbose_name_plural = _("hand-overs of main responsibility")
        ordering = ["plan", "proposed_at", "id"]
        indexes = [models.Index(fields=["to_service", "status"], name="planhandover_inbox_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_service=models.F("to_service")), name="planhandover_to_another_service"),
            models.UniqueConstraint(fields=["plan", "to_service"], condition=models.Q(status="proposed"), name="uniq_open_plan_handover"),
        ]

    @property
    def person(self):
        """The person whose plan is handed over (the access log's person for the hand-over's step)."""
        return self.plan.person


class PlanVersion(models.Model):
    """One change of a plan: its version number after the change, who made it (and for which
    service), when, what kind of change, and what changed (``changes``: {field: [old, new]})."""

    class Change(models.TextChoices):
        CREATED = "created", _("Plan created")
        CONTENT = "content", _("Plan content changed")
        PARTICIPANT_ADDED = "participant_added", _("Participant added")
        PARTICIPANT_REMOVED = "participant_removed", _("Participant removed")
        MEASURE_ADDED = "measure_added", _("Measure added")
        MEASURE_CHANGED = "measure_changed", _("Measure changed")
        HOLDER_CHANGED = "holder_changed", _("Main responsibility handed over")
        KOORDINATOR_CHANGED = "koordinator_changed", _("Koordinator changed")
        PAUSED = "paused", _("Plan paused (consent withdrawn)")

    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="versions", verbose_name=_("individual plan"))
    number = models.PositiveIntegerField(_("version"))
    change = models.CharField(_("change"), max_length=20, choices=Change.choices)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("changed by"))
    changed_by_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("for service"))
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="uniq_plan_version")]


# --- the ansvarsgruppe: its meetings, attendance, minutes and decisions (issue 9, point 5) ---------
#
# The group's members are the plan's live participants (services, next of kin, guardians) and the
# person: no member list of its own. A service can sit in the group only if it receives the plan
# (participant_add discloses it through the ledger, on the consent), so a separate list would have
# to repeat that gate and follow every removal; reading the participants keeps one truth, and a
# participant removed leaves the group at once. Attendance is kept per meeting and member.


class PlanMeetingSeries(models.Model):
    """Recurring meetings of a plan's ansvarsgruppe: every ``every_weeks`` weeks from the first
    meeting up to ``until`` (at most the plan period's end); the meetings are made at once, each
    its own ``PlanMeeting``."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="meeting_series", verbose_name=_("individual plan"))
    every_weeks = models.PositiveSmallIntegerField(_("every (weeks)"))
    until = models.DateField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        constraints = [models.CheckConstraint(condition=models.Q(every_weeks__gte=1), name="planmeetingseries_interval_positive")]


class PlanMeeting(models.Model):
    """A meeting of the plan's ansvarsgruppe. ``sequence`` is the iCalendar SEQUENCE, bumped by every
    change (a cancellation), and the minutes form's guard against a stale page. Changes only through
    ``workflows.individual_plan.meetings``."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(IndividualPlan, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("individual plan"))
    series = models.ForeignKey(PlanMeetingSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings",
                               verbose_name=_("meeting series"))
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
        verbose_name = _("ansvarsgruppe meeting")
        verbose_name_plural = _("ansvarsgruppe meetings")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["plan", "starts_at"], name="planmeeting_plan_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="planmeeting_ends_after_start")]

    @property
    def reference(self):
        return self.plan.reference


class PlanMeetingAttendance(models.Model):
    """Whether a member of the group came to a held meeting: a participant of the plan, or (with
    ``participant`` empty) the person the plan is for."""

    meeting = models.ForeignKey(PlanMeeting, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("meeting"))
    participant = models.ForeignKey(PlanParticipant, on_delete=models.PROTECT, null=True, blank=True, related_name="attendance",
                                    verbose_name=_("participant"))
    present = models.BooleanField(_("present"))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "participant"], name="uniq_planmeeting_attendance"),
            models.UniqueConstraint(fields=["meeting"], condition=models.Q(participant__isnull=True), name="uniq_planmeeting_person_attendance"),
        ]


class PlanMeetingMinutes(models.Model):
    """The minutes of a held meeting: written once, by the holder's staff."""

    meeting = models.OneToOneField(PlanMeeting, on_delete=models.CASCADE, related_name="minutes", verbose_name=_("meeting"))
    text = models.TextField(_("minutes"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by"))
    written_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")


class PlanMeetingDecision(models.Model):
    """A decision of a meeting, and the measure of the plan it became (owner, start, evaluation)."""

    meeting = models.ForeignKey(PlanMeeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting"))
    text = models.TextField(_("decision"))
    measure = models.OneToOneField(PlanMeasure, on_delete=models.PROTECT, related_name="decision", verbose_name=_("measure"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["meeting", "id"]


# --- BrukerPlan rounds (domain P5, issue 10) -------------------------------------------------------
#
# A round is run by a coordinator service; each participating service maps the persons of its cohort
# (workflows.brukerplan.selectors.cohort_for_service) on the life areas, each on the round's scale.
# A mapping is person data held by the mapping service alone: the coordinator sees counts and the
# de-identified report, never a mapping (workflows.brukerplan.selectors.mapping_get_for_user).


class LifeArea(models.TextChoices):
    """The life areas every mapping grades, each on the round's scale (``BrukerPlanScaleLevel``).
    A mapping keeps one small-int column per area: ``BrukerPlanMapping.level_<value>``."""

    HOUSING = "housing", _("Housing")
    ACTIVITY = "activity", _("Meaningful activity")
    FINANCES = "finances", _("Finances")
    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    SOCIAL_FUNCTIONING = "social_functioning", _("Social functioning")
    SOCIAL_NETWORK = "social_network", _("Social network")
    VIOLENCE = "violence", _("Violence")


def level_field(area: str) -> str:
    """The mapping's column holding ``area``'s level."""
    return f"level_{area}"


class HelpKind(models.TextChoices):
    """Services used in the last year and expected need next year, kept on a mapping as a bit set
    (``BrukerPlanMapping.services_used``/``expected_need``): bit ``i`` is the ``i``-th value below.
    The order is stored data: append new kinds at the end, never reorder or remove one."""

    GP = "gp", _("General practitioner")
    HOME_SERVICES = "home_services", _("Home-based services")
    HOUSING_SERVICES = "housing_services", _("Housing with staff or follow-up")
    DAY_ACTIVITY = "day_activity", _("Day and activity services")
    WORK = "work", _("Work-oriented measures (NAV)")
    SOCIAL_ASSISTANCE = "social_assistance", _("Financial assistance")
    MUNICIPAL_MENTAL_HEALTH = "municipal_mental_health", _("Municipal mental-health service")
    MUNICIPAL_SUBSTANCE = "municipal_substance", _("Municipal substance service")
    TSB_OUTPATIENT = "tsb_outpatient", _("Specialist substance treatment, outpatient")
    TSB_INPATIENT = "tsb_inpatient", _("Specialist substance treatment, inpatient")
    MENTAL_HEALTH_OUTPATIENT = "mental_health_outpatient", _("Specialist mental-health care, outpatient")
    MENTAL_HEALTH_INPATIENT = "mental_health_inpatient", _("Specialist mental-health care, inpatient")
    LAR = "lar", _("Opioid substitution treatment (LAR)")
    CHILD_WELFARE = "child_welfare", _("Child welfare service")


def help_kinds_encode(kinds) -> int:
    """The bit set of ``kinds`` (HelpKind values); ValueError for a value that is no kind."""
    order = HelpKind.values
    mask = 0
    for kind in kinds:
        mask |= 1 << order.index(kind)
    return mask


def help_kinds_decode(mask: int) -> tuple[str, ...]:
    """The HelpKind values of the bit set ``mask``, in HelpKind's order."""
    return tuple(kind for i, kind in enumerate(HelpKind.values) if mask >> i & 1)


class BrukerPlanRound(CaseReference, models.Model):
    """One BrukerPlan round of a municipality: its period and reference date, its deadline, its age
    threshold, its participating services (``BrukerPlanParticipation``) and its scales
    (``BrukerPlanScaleLevel``). Status changes only through ``workflows.brukerplan.services``."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        OPEN = "open", _("Open for mapping")
        CLOSED = "closed", _("Closed")

    class AgeThreshold(models.IntegerChoices):
        SIXTEEN = 16, _("16 years and older")
        EIGHTEEN = 18, _("18 years and older")

    OPEN_STATUSES = (Status.DRAFT, Status.OPEN)

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="brukerplan_rounds", verbose_name=_("municipality"))
    title = models.CharField(_("title"), max_length=120)
    coordinator_service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="brukerplan_rounds_coordinated",
                                            verbose_name=_("coordinating service"))
    period_start = models.DateField(_("mapping period from"))
    period_end = models.DateField(_("mapping period to"))
    reference_date = models.DateField(_("reference date"), help_text=_("Ages and the last twelve months are counted at this date."))
    deadline = models.DateField(_("deadline"))
    age_threshold = models.PositiveSmallIntegerField(_("age threshold"), choices=AgeThreshold.choices, default=AgeThreshold.SIXTEEN)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The round this one is compared with in the report (the previous round of the municipality).
    previous_round = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name=_("previous round"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("closed by"))

    class Meta:
        verbose_name = _("BrukerPlan round")
        verbose_name_plural = _("BrukerPlan rounds")
        ordering = ["-reference_date", "-id"]
        indexes = [models.Index(fields=["coordinator_service", "status"], name="bpround_coordinator_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="bpround_period_ordered"),
            models.CheckConstraint(condition=models.Q(reference_date__gte=models.F("period_start"), reference_date__lte=models.F("period_end")),
                                   name="bpround_reference_in_period"),
            models.CheckConstraint(condition=models.Q(deadline__gt=models.F("reference_date")), name="bpround_deadline_after_reference"),
            models.CheckConstraint(condition=models.Q(age_threshold__in=[16, 18]), name="bpround_age_threshold"),
        ]

    def __str__(self):
        return str(_("BrukerPlan round %(ref)s") % {"ref": self.reference})


class BrukerPlanParticipation(models.Model):
    """A service taking part in a round: it maps its cohort and marks its mapping done
    (``completed_at``). Its deadline and reminders (workflows.brukerplan.clocks) are about this row:
    the service's group holds the mapping permission on it, the coordinator's group the follow one."""

    round = models.ForeignKey(BrukerPlanRound, on_delete=models.CASCADE, related_name="participations", verbose_name=_("round"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="brukerplan_participations", verbose_name=_("service"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    completed_at = models.DateTimeField(_("mapping completed"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("completed by"))

    class Meta:
        verbose_name = _("participating service")
        verbose_name_plural = _("participating services")
        ordering = ["round", "service__name", "id"]
        permissions = [
            ("map_brukerplanparticipation", gettext_noop("Can map the service's users in a BrukerPlan round")),
            ("follow_brukerplanparticipation", gettext_noop("Can follow a service's progress in a BrukerPlan round (coordinator)")),
        ]
        constraints = [models.UniqueConstraint(fields=["round", "service"], name="uniq_bp_participation")]

    @property
    def reference(self):
        return self.round.reference


class BrukerPlanScaleLevel(models.Model):
    """One level of a life area's scale: its number (what a mapping stores), its colour in the
    living-conditions index and what it means. Rows without a round are the defaults (seeded by a
    migration, edited in the admin); a round copies them when it is created, so changing the
    defaults never changes a round already set up."""

    class Colour(models.TextChoices):
        GREEN = "green", _("Green")
        YELLOW = "yellow", _("Yellow")
        RED = "red", _("Red")

    round = models.ForeignKey(BrukerPlanRound, on_delete=models.CASCADE, null=True, blank=True, related_name="scale_levels",
                              verbose_name=_("round"))
    area = models.CharField(_("life area"), max_length=24, choices=LifeArea.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices)
    description = models.CharField(_("description"), max_length=300)

    class Meta:
        verbose_name = _("scale level")
        verbose_name_plural = _("scale levels")
        ordering = ["round", "area", "level"]
        constraints = [
            models.UniqueConstraint(fields=["round", "area", "level"], condition=models.Q(round__isnull=False), name="uniq_bp_scale_level"),
            models.UniqueConstraint(fields=["area", "level"], condition=models.Q(round__isnull=True), name="uniq_bp_default_scale_level"),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="bp_scale_level_positive"),
        ]

    def __str__(self):
        return f"{self.get_area_display()} {self.level} ({self.get_colour_display()})"


class BrukerPlanMapping(models.Model):
    """One person on one service's worklist in a round: whether they are in scope (a substance
    and/or mental-health problem, as the professional judges it) and, when in scope, the mapping.
    Person data held by the mapping service alone (its group holds ``handle_brukerplanmapping``);
    changes only through ``workflows.brukerplan.services``; ``version`` guards a stale form."""

    class Status(models.TextChoices):
        IN_SCOPE = "in_scope", _("In scope, not yet mapped")
        OUT_OF_SCOPE = "out_of_scope", _("Not in scope")
        MAPPED = "mapped", _("Mapped")

    class ScopeReason(models.TextChoices):
        SUBSTANCE = "substance", _("Substance problem")
        MENTAL_HEALTH = "mental_health", _("Mental-health problem")
        BOTH = "both", _("Both substance and mental-health problems")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other or not stated")

    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNKNOWN = "unknown", _("Not known")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(BrukerPlanRound, on_delete=models.PROTECT, related_name="mappings", verbose_name=_("round"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="brukerplan_mappings", verbose_name=_("mapping service"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="brukerplan_mappings", verbose_name=_("person"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    scope_reason = models.CharField(_("why in scope"), max_length=16, choices=ScopeReason.choices, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    age = models.PositiveSmallIntegerField(_("age on the reference date"), null=True, blank=True)
    has_children = models.BooleanField(_("cares for children under 18"), null=True, blank=True)
    level_housing = models.PositiveSmallIntegerField(_("housing"), null=True, blank=True)
    level_activity = models.PositiveSmallIntegerField(_("meaningful activity"), null=True, blank=True)
    level_finances = models.PositiveSmallIntegerField(_("finances"), null=True, blank=True)
    level_physical_health = models.PositiveSmallIntegerField(_("physical health"), null=True, blank=True)
    level_mental_health = models.PositiveSmallIntegerField(_("mental health"), null=True, blank=True)
    level_substance_use = models.PositiveSmallIntegerField(_("substance use"), null=True, blank=True)
    level_social_functioning = models.PositiveSmallIntegerField(_("social functioning"), null=True, blank=True)
    level_social_network = models.PositiveSmallIntegerField(_("social network"), null=True, blank=True)
    level_violence = models.PositiveSmallIntegerField(_("violence"), null=True, blank=True)
    services_used = models.PositiveIntegerField(_("services used in the last year"), default=0, help_text=_("A bit set of HelpKind."))
    expected_need = models.PositiveIntegerField(_("expected need next year"), default=0, help_text=_("A bit set of HelpKind."))
    lar = models.BooleanField(_("in opioid substitution treatment (LAR)"), null=True, blank=True)
    tsb = models.BooleanField(_("in specialist substance treatment (TSB)"), null=True, blank=True)
    ansvarsgruppe = models.CharField(_("has an ansvarsgruppe"), max_length=8, choices=Answer.choices, blank=True)
    individual_plan = models.CharField(_("has an individual plan"), max_length=8, choices=Answer.choices, blank=True)
    # True when the two answers above were read from an individual plan the service takes part in.
    plan_from_record = models.BooleanField(_("read from the individual plan"), default=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    marked_at = models.DateTimeField(_("scope marked"))
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("scope marked by"))
    mapped_at = models.DateTimeField(_("mapped"), null=True, blank=True)
    mapped_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("mapped by"))

    class Meta:
        verbose_name = _("BrukerPlan mapping")
        verbose_name_plural = _("BrukerPlan mappings")
        permissions = [("handle_brukerplanmapping", gettext_noop("Can map a person in a BrukerPlan round (the mapping service)"))]
        indexes = [
            # The report's one pass over a round's mapped persons, one per person (mappings_for_report).
            models.Index(fields=["round", "person", "-mapped_at", "service"], name="bpmapping_report_idx",
                         condition=models.Q(status="mapped")),
            # Completion per service.
            models.Index(fields=["round", "service", "status"], name="bpmapping_service_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["round", "service", "person"], name="uniq_bp_mapping"),
            models.CheckConstraint(condition=models.Q(status="out_of_scope", scope_reason="") | (~models.Q(status="out_of_scope") & ~models.Q(scope_reason="")),
                                   name="bpmapping_reason_iff_in_scope"),
            models.CheckConstraint(condition=~models.Q(status="mapped") | models.Q(mapped_at__isnull=False), name="bpmapping_mapped_at"),
        ]

    @property
    def reference(self):
        return str(self.code).split("-")[0].upper()

    def levels(self) -> dict[str, int | None]:
        return {area: getattr(self, level_field(area)) for area in LifeArea.values}

    def __str__(self):
        return str(_("BrukerPlan mapping %(ref)s") % {"ref": self.reference})


class BrukerPlanReport(models.Model):
    """A closed round's de-identified report, stored so that reading it is instant: ``data`` is
    workflows.brukerplan.report.report_compute's output (counts after small-cell suppression, the
    comparison with the previous round's report), never a person. ``done``/``total`` is the
    computation's progress (persons read); ``progress_at`` its last heartbeat, by which a
    computation whose worker died is told from one still running. ``error`` says why a computation
    failed, in words that name no person. ``data`` and ``computed_at`` are the last done
    computation's: kept, and served to the readers, while a new one is pending, running or has
    failed. Written only by workflows.brukerplan.services."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be computed")
        RUNNING = "running", _("Being computed")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    round = models.OneToOneField(BrukerPlanRound, on_delete=models.CASCADE, related_name="report", verbose_name=_("round"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(_("persons counted"), default=0)
    total = models.PositiveIntegerField(_("persons to count"), default=0)
    data = models.JSONField(_("report"), null=True, blank=True)
    started_at = models.DateTimeField(_("computation started"), null=True, blank=True)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("BrukerPlan report")
        verbose_name_plural = _("BrukerPlan reports")
        constraints = [
            models.CheckConstraint(condition=~models.Q(status="done") | models.Q(data__isnull=False, computed_at__isnull=False),
                                   name="bpreport_done_has_data"),
        ]

    def __str__(self):
        return str(_("BrukerPlan report %(ref)s") % {"ref": self.round.reference})

    @property
    def percent(self) -> int:
        """The progress in whole per cent (100 when done)."""
        if self.status == self.Status.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0
