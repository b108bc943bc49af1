"""Forms of the youth contract pages. The rules live in the services; forms only say which fields a
page asks for and that the obvious ones are filled in."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin
from consent.models import Consent
from org.access import user_services
from org.models import Service
from org.widgets import CheckboxList
from people.validators import LONG_TEXT, NAME_LENGTH, SHORT_TEXT
from referrals.models import ContractAppointment, ContractBreach, ContractMeasure, ContractResult, ContractTemplate
from workflows.youth_contract.services import FOLLOWUP_KINDS, INITIATOR_KINDS, POLICE_KIND, SIGNATURE_METHODS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class InitiateForm(SubmissionFormMixin, forms.Form):
    """Initiate a contract: the template, the young person and guardians (as the initiating service
    registers them), the follow-up service, the dates, and how the consent was obtained."""

    initiating_service = NameChoiceField(label=_("Initiated by"), queryset=Service.objects.none())
    template = NameChoiceField(label=_("Kind of contract"), queryset=ContractTemplate.objects.filter(active=True))
    followup_service = NameChoiceField(label=_("Follow-up service"), queryset=Service.objects.none())
    police_service = NameChoiceField(label=_("Police"), queryset=Service.objects.none(), required=False,
                                     help_text=_("Required for the police variant when the police did not initiate it."))
    police_decision_on = forms.DateField(label=_("Date of the police decision"), required=False, widget=DATE)
    starts_on = forms.DateField(label=_("Starts"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DATE, help_text=_("Empty: the template's default duration."))
    national_id = forms.CharField(label=_("The young person's national identity number"), max_length=11)
    given_name = forms.CharField(label=_("Given name"), max_length=NAME_LENGTH)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_LENGTH)
    guardian1_national_id = forms.CharField(label=_("Guardian 1: national identity number"), max_length=11, required=False)
    guardian1_given_name = forms.CharField(label=_("Guardian 1: given name"), max_length=NAME_LENGTH, required=False)
    guardian1_family_name = forms.CharField(label=_("Guardian 1: family name"), max_length=NAME_LENGTH, required=False)
    guardian2_national_id = forms.CharField(label=_("Guardian 2: national identity number"), max_length=11, required=False)
    guardian2_given_name = forms.CharField(label=_("Guardian 2: given name"), max_length=NAME_LENGTH, required=False)
    guardian2_family_name = forms.CharField(label=_("Guardian 2: family name"), max_length=NAME_LENGTH, required=False)
    consent_method = forms.ChoiceField(label=_("How the consent to the contract was obtained"), choices=Consent.Method.choices)
    police_see_results = forms.BooleanField(
        label=_("The consent also lets the police see the tests’ and conversations’ dates and results"), required=False,
        help_text=_("Only if the young person (and the guardians) agreed to it. Never the notes. Ends if the consent is withdrawn."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, submitted_by=user, **kwargs)
        own = user_services(user) if user is not None else Service.objects.none()
        self.fields["initiating_service"].queryset = own.filter(kind__in=INITIATOR_KINDS)
        # The parties' services: those of the user's municipalities.
        municipalities = own.values("municipality_id")
        self.fields["followup_service"].queryset = Service.objects.filter(kind__in=FOLLOWUP_KINDS, active=True, municipality_id__in=municipalities)
        self.fields["police_service"].queryset = Service.objects.filter(kind=POLICE_KIND, active=True)
        if not self.is_bound:
            self.initial.setdefault("starts_on", timezone.localdate())
            initiators = list(self.fields["initiating_service"].queryset[:2])
            if len(initiators) == 1:
                self.initial.setdefault("initiating_service", initiators[0].pk)

    def guardians(self) -> list[dict]:
        d = self.cleaned_data
        out = []
        for n in (1, 2):
            if (d.get(f"guardian{n}_national_id") or "").strip():
                out.append({"national_id": d[f"guardian{n}_national_id"].strip(), "given_name": d.get(f"guardian{n}_given_name", ""),
                            "family_name": d.get(f"guardian{n}_family_name", "")})
        return out


class SignForm(forms.Form):
    # Any posted code: the service refuses one that is not a party of this contract.
    party = forms.CharField(label=_("Party"), widget=forms.Select, max_length=40)
    method = forms.ChoiceField(label=_("How the signature was obtained"),
                               choices=[(m, label) for m, label in Consent.Method.choices if m in SIGNATURE_METHODS])
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].widget.choices = [(str(code), label) for code, label in parties]
        if not self.is_bound:
            self.initial["signed_on"] = timezone.localdate()


class ConfirmForm(forms.Form):
    """A step without fields (start the contract, report the outcome)."""


class ResultForm(forms.Form):
    # Any posted code: the service refuses one that is not this contract's.
    appointment = forms.CharField(label=_("Appointment"), required=False, widget=forms.Select, max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=ContractAppointment.Kind.choices)
    outcome = forms.ChoiceField(label=_("Result"), choices=ContractResult.Outcome.choices)
    taken_on = forms.DateField(label=_("Date"), required=False, widget=DATE, help_text=_("Empty: the appointment's day."))
    note = forms.CharField(label=_("Note (follow-up service only)"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=LONG_TEXT)

    def __init__(self, *args, appointments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment"].widget.choices = [("", _("No appointment (an extra test or conversation)"))] + [
            (str(a.code), f"{a.on:%d.%m.%Y} – {a.get_kind_display()}") for a in appointments
        ]


class BreachForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ContractBreach.Decision.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Assessment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT)
    conditions = forms.MultipleChoiceField(label=_("New conditions"), choices=ContractTemplate.Condition.choices, required=False,
                                           widget=CheckboxList)


class CompleteForm(forms.Form):
    result = forms.ChoiceField(label=_("How the contract ends"), widget=forms.RadioSelect, choices=[
        ("completed", _("Completed: the conditions are met")), ("ended", _("Ended early (voluntary contract)")),
    ])
    outcome = forms.CharField(label=_("Outcome (the police and the initiating service see it)"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False, max_length=SHORT_TEXT)


class MeasureForm(forms.Form):
    """Enrol in a programme or theme evening, or update one measure's sessions."""

    measure = forms.CharField(label=_("Measure"), required=False, widget=forms.Select, max_length=40)
    kind = forms.ChoiceField(label=_("Kind of measure"), choices=ContractMeasure.Kind.choices)
    enrolled_on = forms.DateField(label=_("Enrolled"), required=False, widget=DATE)
    attended = forms.IntegerField(label=_("Sessions attended"), min_value=0, max_value=100, initial=0)
    missed = forms.IntegerField(label=_("Sessions missed"), min_value=0, max_value=100, initial=0)

    def __init__(self, *args, measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].widget.choices = [("", _("A new measure"))] + [
            (str(m.code), f"{m.get_kind_display()} ({m.enrolled_on:%d.%m.%Y})") for m in measures
        ]
