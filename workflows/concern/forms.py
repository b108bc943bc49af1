from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from referrals.models import Concern, ConcernFeedback
from people.validators import LONG_TEXT, MEDIUM_TEXT, SHORT_TEXT, child_birth_date_problem, parse_national_id
from workflows.steps import MISSING_VERSION

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value):
    return {"yes": True, "no": False}.get(value)


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ChildFieldsMixin(forms.Form):
    """Identity of the child in a melding: a fødselsnummer/D-nummer, or a name and birth date."""

    national_id = forms.CharField(
        label=_("National identity number or D number (11 digits)"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Leave empty if the child has no number; then give the birth date."),
    )
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )
    given_name = forms.CharField(label=_("The child's given name"), required=False, max_length=120)
    family_name = forms.CharField(label=_("The child's family name"), required=False, max_length=120)

    def clean_child(self, cleaned):
        """Validate the child's identity; returns a dict for person_get_or_create or adds errors.

        The child must be under 18 today, by the birth date given or the one the number gives.
        """
        number = (cleaned.get("national_id") or "").strip()
        if number:
            try:
                number, _kind, birth = parse_national_id(number)
            except ValidationError as e:
                self.add_error("national_id", e)
                return None
            problem = child_birth_date_problem(birth)
            if problem:
                self.add_error("national_id", ValidationError(problem, code="not_a_child"))
                return None
        elif not cleaned.get("birth_date"):
            self.add_error("birth_date", _("Give the birth date when the child has no identity number."))
            return None
        problem = child_birth_date_problem(cleaned.get("birth_date"))
        if problem:
            self.add_error("birth_date", ValidationError(problem, code="not_a_child"))
            return None
        if not (cleaned.get("given_name") or "").strip():
            self.add_error("given_name", _("Give the child's name."))
            return None
        return {
            "national_id": number or None,
            "birth_date": cleaned.get("birth_date"),
            "given_name": cleaned["given_name"].strip(),
            "family_name": (cleaned.get("family_name") or "").strip(),
        }


class ConcernForm(ChildFieldsMixin):
    kind = forms.ChoiceField(
        label=_("What do you want to do?"), widget=forms.RadioSelect,
        choices=[
            (Concern.Kind.MELDING, _("Send a melding to the child welfare service (the child is named)")),
            (Concern.Kind.CONSULTATION, _("Discuss anonymously with the child welfare service (no name, no identity number)")),
        ],
        initial=Concern.Kind.MELDING,
    )
    reporting_service = ServiceChoiceField(label=_("Sent from"), queryset=None, empty_label=None)
    receiving_service = ServiceChoiceField(label=_("Child welfare service"), queryset=None, empty_label=None)
    child_age = forms.IntegerField(label=_("The child's age (anonymous consultation)"), required=False, min_value=0, max_value=17)
    observations = forms.CharField(
        label=_("What have you observed?"), widget=forms.Textarea(attrs={"rows": 6}), max_length=LONG_TEXT,
        help_text=_("Describe what you saw and heard, and when. You do not need to be sure that something is wrong."),
    )
    categories = forms.MultipleChoiceField(label=_("What is the concern about?"), choices=Concern.Category.choices, widget=forms.CheckboxSelectMultiple)
    urgency = forms.ChoiceField(label=_("How urgent is it?"), choices=Concern.Urgency.choices, initial=Concern.Urgency.NORMAL, widget=forms.RadioSelect)
    parents_informed = forms.ChoiceField(label=_("Have the parents been told about the melding?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    child_informed = forms.ChoiceField(label=_("Has the child been told?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    not_informed_reason = forms.CharField(
        label=_("If not, why not?"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT,
        help_text=_("For example: telling the parents could put the child at risk."),
    )

    def __init__(self, *args, reporting_services, receiving_services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporting_service"].queryset = reporting_services
        self.fields["receiving_service"].queryset = receiving_services
        self.person_data = None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Concern.Kind.MELDING:
            self.person_data = self.clean_child(cleaned)
        else:
            for field in ("national_id", "given_name", "family_name", "birth_date"):
                if cleaned.get(field):
                    self.add_error(field, _("An anonymous consultation must not name or identify the child. Leave this empty."))
        cleaned["parents_informed"] = _yes_no(cleaned.get("parents_informed"))
        cleaned["child_informed"] = _yes_no(cleaned.get("child_informed"))
        return cleaned


class UpgradeForm(ChildFieldsMixin):
    parents_informed = forms.ChoiceField(label=_("Have the parents been told about the melding?"), choices=YES_NO, widget=forms.RadioSelect)
    child_informed = forms.ChoiceField(label=_("Has the child been told?"), choices=YES_NO, widget=forms.RadioSelect)
    not_informed_reason = forms.CharField(label=_("If not, why not?"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT)

    def clean(self):
        cleaned = super().clean()
        self.person_data = self.clean_child(cleaned)
        cleaned["parents_informed"] = _yes_no(cleaned.get("parents_informed"))
        cleaned["child_informed"] = _yes_no(cleaned.get("child_informed"))
        return cleaned


class VersionedForm(forms.Form):
    """A handling form carries the version of the concern it was rendered from (the stale-form check).

    A form without it is refused, never let through unchecked: the page is old or the post forged.
    """

    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("version") or "").strip() and "version" not in self.errors:
            self.add_error(None, ValidationError(str(MISSING_VERSION), code="stale"))
        return cleaned


class ReceiptForm(VersionedForm):
    pass


class ReviewForm(VersionedForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=Concern.ReviewDecision.choices, widget=forms.RadioSelect)
    justification = forms.CharField(
        label=_("Justification"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=MEDIUM_TEXT,
        help_text=_("Required when the melding is closed."),
    )


class ExtendForm(VersionedForm):
    reason = forms.CharField(label=_("Reason for the extension"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=SHORT_TEXT)
    until = forms.DateField(label=_("New deadline (empty: the longest allowed)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ConcludeForm(VersionedForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Concern.Outcome.choices, widget=forms.RadioSelect)
    summary = forms.CharField(label=_("Summary (internal)"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=LONG_TEXT)


class FeedbackForm(VersionedForm):
    kind = forms.ChoiceField(choices=ConcernFeedback.Kind.choices, widget=forms.HiddenInput)
    message = forms.CharField(label=_("Message to the reporter"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=SHORT_TEXT)


class AnswerForm(VersionedForm):
    advice = forms.CharField(label=_("Advice to the reporter"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=MEDIUM_TEXT)


# --- emergency access (workflows.services.break_glass) ---------------------------------------
