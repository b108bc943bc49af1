"""Forms of the referral, contact and catalogue pages. Validation of rules lives in the services;
forms only say which fields a page asks for and that the obvious ones are filled in."""
from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin
from consent.models import AgeRule, Consent, LegalBasis
from consent.selectors import legal_bases_for
from consent.forms import GuardiansField
from org.models import Service
from org.widgets import CheckboxList
from people.models import Person
from referrals.models import Referral, ReferralKind
from people.validators import LONG_TEXT, MEDIUM_TEXT, NAME_LENGTH, SHORT_TEXT, parse_national_id
from workflows.referral.selectors import referral_targets


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ServiceMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ConsentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        grantees = ", ".join(s.name for s in obj.grantees.all())
        until = formats.date_format(obj.valid_to, "SHORT_DATE_FORMAT") if obj.valid_to else "–"
        return _("Consent %(ref)s: may be shared with %(grantees)s (valid until %(until)s)") % {
            "ref": obj.reference, "grantees": grantees, "until": until,
        }


class LegalBasisChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.reference}: {obj.title}"
        if obj.requires_approval:
            label += " " + str(_("(a leader of your service must approve)"))
        return label


BASIS_CHOICES = [
    ("consent", _("The person's consent (or the guardians')")),
    ("statutory", _("Another statutory basis (choose it from the list)")),
]


class BasisMixin(forms.Form):
    """The legal basis for sharing the referral with its recipient: a consent, or a statutory basis
    from the catalogue (consent.LegalBasis) that permits a referral from the sending service."""

    basis = forms.ChoiceField(label=_("Legal basis for sharing"), choices=BASIS_CHOICES, initial="consent", widget=forms.RadioSelect)
    legal_basis = LegalBasisChoiceField(
        label=_("Statutory basis"), queryset=LegalBasis.objects.none(), required=False, empty_label=_("Choose a statutory basis"),
        help_text=_("Only with another statutory basis. The list holds the bases that permit a referral from your service; "
                    "each also names the kinds of service it may go to."),
    )

    def legal_bases_offer(self, *, from_service, to_service=None, approval=None):
        """Offer the bases in force that permit a referral from ``from_service`` (to ``to_service`` if known)."""
        self.fields["legal_basis"].queryset = legal_bases_for(
            purpose=Consent.Purpose.REFERRAL, from_service=from_service, to_service=to_service, approval=approval,
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("basis") == "statutory" and not cleaned.get("legal_basis"):
            self.add_error("legal_basis", _("Choose the statutory basis for this disclosure from the list of legal bases."))
        if cleaned.get("basis") != "statutory":
            cleaned["legal_basis"] = None
        return cleaned


# --- the viewflow task steps and the referral page's actions ----------------------------------


NOT_A_TARGET = _("Choose one of the services listed: only a service in the catalogue that takes this kind of referral, "
                 "at the person's age, can receive it.")


class RouteForm(BasisMixin):
    target_service = ServiceChoiceField(label=_("Route to"), queryset=Service.objects.none(), error_messages={"invalid_choice": NOT_A_TARGET})
    field_order = ["target_service", "basis", "legal_basis"]

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        if referral is not None:
            # Only the services that take this referral's kind at the person's age (a forged choice is refused).
            self.fields["target_service"].queryset = referral_targets(
                person=referral.person, kind=referral.kind, exclude=[referral.sender_service],
            )
            # Routing completes the coordinator's task at once: no basis that waits for a leader.
            self.legal_bases_offer(from_service=referral.routing_service, approval=False)
        self.fields["basis"].help_text = _("With consent, the consent the sender chose is used; it must cover the service.")


class ReceiveForm(forms.Form):
    pass


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for declining (the sender sees it)"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT)


class CloseForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=[("completed", _("Completed")), ("failed", _("Failed"))], widget=forms.RadioSelect)
    outcome = forms.CharField(label=_("Outcome (the sender sees it)"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=MEDIUM_TEXT)


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"), widget=forms.RadioSelect,
        choices=[(Referral.Status.IN_PROGRESS, Referral.Status.IN_PROGRESS.label), (Referral.Status.ON_HOLD, Referral.Status.ON_HOLD.label)],
    )
    reason = forms.CharField(
        label=_("Reason (required when on hold; the sender sees it)"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        max_length=SHORT_TEXT,
    )

    def __init__(self, *args, statuses=None, **kwargs):
        """``statuses``: the ones on offer (the page asks the steps which); by default both."""
        super().__init__(*args, **kwargs)
        if statuses is not None:
            self.fields["status"].choices = [c for c in self.fields["status"].choices if c[0] in statuses]
            if len(self.fields["status"].choices) == 1:
                self.fields["status"].initial = self.fields["status"].choices[0][0]


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Internal notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=LONG_TEXT,
        help_text=_("Only your service sees these notes; the sender and the coordinator never do."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is the referral cancelled? (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=SHORT_TEXT)


class ForwardForm(BasisMixin):
    target_service = ServiceChoiceField(label=_("Forward to"), queryset=Service.objects.none(), error_messages={"invalid_choice": NOT_A_TARGET})
    consent = ConsentChoiceField(
        label=_("Consent"), queryset=Consent.objects.none(), required=False, empty_label=_("The consent of the declined referral"),
    )
    field_order = ["target_service", "basis", "consent", "legal_basis"]

    def __init__(self, *args, referral, consents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_service"].queryset = referral_targets(
            person=referral.person, kind=referral.kind, exclude=[referral.sender_service, referral.target_service],
        )
        if consents is None:
            # The coordinator chooses no consent: the one the sender chose travels with the referral.
            del self.fields["consent"]
            self.legal_bases_offer(from_service=referral.routing_service or referral.sender_service)
        else:
            self.fields["consent"].queryset = consents
            self.legal_bases_offer(from_service=referral.sender_service)


# --- contacts ----------------------------------------------------------------------------------


class ContactForm(SubmissionFormMixin, forms.Form):
    service = ServiceChoiceField(label=_("Registered by"), queryset=Service.objects.none(), empty_label=None)
    given_name = forms.CharField(label=_("First name (or the name the person wants to use)"), max_length=NAME_LENGTH)
    approx_age = forms.IntegerField(
        label=_("Age (approximately)"), required=False, min_value=0, max_value=120,
        help_text=_("Required unless you give an identity number."),
    )
    national_id = forms.CharField(
        label=_("National identity number or D number (optional)"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Only if the person wants to be identified now. You can add it later."),
    )
    family_name = forms.CharField(label=_("Family name (with an identity number)"), required=False, max_length=NAME_LENGTH)
    summary = forms.CharField(
        label=_("What the contact is about (internal)"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=MEDIUM_TEXT,
        help_text=_("Only your service sees this. It is not sent with a referral."),
    )

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services

    def clean_national_id(self):
        number = (self.cleaned_data.get("national_id") or "").strip()
        if number:
            number, _kind, _birth = parse_national_id(number)
        return number


class IdentifyForm(forms.Form):
    national_id = forms.CharField(
        label=_("National identity number or D number (11 digits)"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    given_name = forms.CharField(label=_("Given name (if different)"), required=False, max_length=NAME_LENGTH)
    family_name = forms.CharField(label=_("Family name"), required=False, max_length=NAME_LENGTH)

    def clean_national_id(self):
        number, _kind, _birth = parse_national_id(self.cleaned_data.get("national_id") or "")
        return number


class ConsentRecordForm(SubmissionFormMixin, forms.Form):
    """A consent recorded on the contact page (consent.services.consent_record checks who may give it)."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices, initial=Consent.Purpose.REFERRAL)
    grantees = ServiceMultipleChoiceField(
        label=_("May be shared with"), queryset=Service.objects.none(), widget=CheckboxList,
    )
    information = forms.CharField(
        label=_("What information may be shared"), widget=forms.Textarea(attrs={"rows": 2}), max_length=SHORT_TEXT,
        initial=_("Name, age, contact details and what the referral is about."),
    )
    given_by_person = forms.BooleanField(label=_("The person gave the consent"), required=False, initial=True)
    guardians = GuardiansField(
        label=_("Guardians who gave the consent"), queryset=Person.objects.none(), required=False, widget=CheckboxList,
    )
    domain = forms.ChoiceField(label=_("Kind of service (decides who may consent at the person's age)"), choices=AgeRule.Domain.choices, initial=AgeRule.Domain.HEALTH)
    method = forms.ChoiceField(label=_("How the consent was obtained"), choices=Consent.Method.choices, widget=forms.RadioSelect)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=_("Valid to (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, person, grantees, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grantees"].queryset = grantees
        guardians = person.guardians.all().order_by("pk")
        self.fields["guardians"].queryset = guardians
        self.fields["guardians"].service = service
        if not guardians.exists():
            del self.fields["guardians"]
        self.fields["valid_from"].initial = timezone.localdate()


# --- sending a referral ------------------------------------------------------------------------


class ReferralForm(SubmissionFormMixin, BasisMixin):
    destination = forms.ChoiceField(
        label=_("Where should the referral go?"), widget=forms.RadioSelect, initial="service",
        choices=[
            ("service", _("Straight to a service from the catalogue")),
            ("coordinator", _("To a coordinator's routing queue (the substance service finds the right service)")),
        ],
    )
    target_service = ServiceChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("Choose a service"),
        error_messages={"invalid_choice": NOT_A_TARGET},
    )
    routing_service = ServiceChoiceField(label=_("Coordinator"), queryset=Service.objects.none(), required=False, empty_label=None)
    kind = forms.ChoiceField(label=_("What is the referral for?"), choices=ReferralKind.choices)
    reason = forms.CharField(
        label=_("What the referral is about"), widget=forms.Textarea(attrs={"rows": 5}), max_length=MEDIUM_TEXT,
        help_text=_("The receiving service reads this. Write only what it needs to know."),
    )
    consent = ConsentChoiceField(label=_("Consent"), queryset=Consent.objects.none(), required=False, empty_label=_("Choose a consent"))
    field_order = ["destination", "target_service", "routing_service", "kind", "reason", "basis", "consent", "legal_basis"]

    def __init__(self, *args, targets, coordinators, consents, sender, **kwargs):
        super().__init__(*args, **kwargs)
        self.legal_bases_offer(from_service=sender)
        self.fields["target_service"].queryset = targets
        self.fields["routing_service"].queryset = coordinators
        self.fields["consent"].queryset = consents
        self.fields["consent"].help_text = _("Active consents for referral recorded by your service. Record one on the contact page.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("destination") == "service" and not cleaned.get("target_service"):
            self.add_error("target_service", _("Choose the service the referral goes to."))
        if cleaned.get("destination") == "coordinator":
            if not cleaned.get("routing_service"):
                self.add_error("routing_service", _("Choose the coordinator."))
            cleaned["target_service"] = None
        else:
            cleaned["routing_service"] = None
        if cleaned.get("basis") == "consent" and not cleaned.get("consent"):
            self.add_error("consent", _("Choose the consent that covers the recipient, or record one on the contact page."))
        if cleaned.get("basis") != "consent":
            cleaned["consent"] = None
        return cleaned


# --- the catalogue search ----------------------------------------------------------------------


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100, help_text=_("Words in the name, description or intake notes"))
    kind = forms.ChoiceField(label=_("What is the referral for?"), required=False, choices=[("", _("Any kind"))] + list(ReferralKind.choices))
    age = forms.IntegerField(label=_("The person's age"), required=False, min_value=0, max_value=120)
    open_only = forms.BooleanField(label=_("Only services that take referrals now"), required=False)
