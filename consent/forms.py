"""Forms of the consent pages. They shape input only; the rules live in consent/services.py."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin
from consent.models import AccessRequest, AgeRule, Consent
from people.validators import SHORT_TEXT
from org.widgets import CheckboxList


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ServicesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class GuardiansField(forms.ModelMultipleChoiceField):
    """Guardians named as ``service`` (set by the form's user) registered them, else "Registered
    guardian n" in the queryset's order: never another service's record of the name."""

    service = None

    def label_from_instance(self, obj):
        from people.selectors import guardian_named, person_records_for

        numbers = getattr(self, "_numbers", None)
        if numbers is None:
            # The guardians' order and the service's records of them, read once for all the choices.
            numbers = self._numbers = {pk: n for n, pk in enumerate(self.queryset.values_list("pk", flat=True), start=1)}
            service_id = self.service.pk if self.service is not None else None
            self._records = person_records_for((pk, service_id) for pk in numbers)
        record = self._records.get((obj.pk, self.service.pk)) if self.service is not None else None
        return guardian_named(record.full_name if record else "", numbers.get(obj.pk, 0))


class ConsentForm(SubmissionFormMixin, forms.Form):
    """Record a consent (FHIR Consent: grantor, grantee, purpose, period, verification)."""

    service = ServiceChoiceField(
        label=_("Responsible service"), queryset=None, empty_label=None,
        help_text=_("The service that recorded the consent and answers for it, including its withdrawal."),
    )
    domain = forms.ChoiceField(
        label=_("Kind of matter"), choices=AgeRule.Domain.choices, initial=AgeRule.Domain.HEALTH, widget=forms.RadioSelect,
        help_text=_("Decides who may consent at the person's age (see the age rules)."),
    )
    given_by_person = forms.BooleanField(label=_("The person gave the consent"), required=False)
    guardians = GuardiansField(
        label=_("Guardians who gave the consent"), queryset=None, required=False, widget=CheckboxList,
        help_text=_("Only guardians registered for the person are listed."),
    )
    grantees = ServicesField(
        label=_("The information may be shared with"), queryset=None, required=False, widget=CheckboxList,
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices, widget=forms.RadioSelect)
    information = forms.CharField(
        label=_("Which information the consent covers"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT,
        help_text=_("For example: the referral and the information needed to follow it up."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty if the consent applies until it is withdrawn."),
    )
    method = forms.ChoiceField(label=_("How the consent was obtained"), choices=Consent.Method.choices, widget=forms.RadioSelect)
    renews = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, services, guardians, grantees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["guardians"].queryset = guardians
        self.fields["grantees"].queryset = grantees
        self.fields["valid_from"].initial = timezone.localdate


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("How was the consent withdrawn?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT,
        help_text=_("For example: who withdrew it, when, and how (by phone, in a meeting, in writing)."),
    )


class DisclosureDecisionForm(forms.Form):
    """A leader's approval or rejection of a disclosure on a legal basis that requires approval."""

    disclosure = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[("approve", _("Approve: share on this legal basis")), ("reject", _("Do not approve"))],
    )
    reason = forms.CharField(
        label=_("Reason (required when not approved; the requester sees it)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AccessRequestForm(SubmissionFormMixin, forms.Form):
    national_id = forms.CharField(
        label=_("National identity number or D number of the person"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    reference = forms.CharField(label=_("Case reference (archive)"), max_length=60)
    received_on = forms.DateField(label=_("Received"), widget=forms.DateInput(attrs={"type": "date"}))
    requested_by = forms.ChoiceField(label=_("Requested by"), choices=AccessRequest.RequestedBy.choices)
