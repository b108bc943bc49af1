from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin
from referrals.models import Concern, ConcernFeedback
from people.validators import LONG_TEXT, MEDIUM_TEXT, SHORT_TEXT, child_birth_date_problem, contains_national_id, parse_national_id
from workflows.concern.services import NEED_CHILD_TOLD, NEED_PARENTS_TOLD, NEED_REASON
from workflows.steps import MISSING_VERSION
from org.widgets import CheckboxList

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

# The errors the form and the services share (one wording wherever a question is left unanswered).
NEED_NAME = _("Give the child's name.")
NEED_BIRTH_DATE = _("Give the birth date when the child has no identity number.")
NOT_ANONYMOUS = _("An anonymous consultation must not name or identify the child. Leave this empty.")
NUMBER_IN_TEXT = _("Remove the identity number: an anonymous consultation must not contain anything that identifies the child.")


def _yes_no(value):
    return {"yes": True, "no": False}.get(value)


def _to_yes_no(value):
    return {True: "yes", False: "no"}.get(value)


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class MarkedBoundField(forms.BoundField):
    """A field whose question must be answered before sending gets a visible mark after its label
    (the form's ``marked_required``), explained once at the top of the form. Screen readers hear
    "required" from the input's own ``required`` attribute, or, for a group of checkboxes (which has
    none), from a hidden word."""

    def label_tag(self, contents=None, attrs=None, label_suffix=None, tag=None):
        if self.name in getattr(self.form, "marked_required", ()):
            # The suffix (":") goes before the mark, as Django would add it to the label alone.
            contents = contents or self.label
            suffix = label_suffix if label_suffix is not None else (
                self.field.label_suffix if self.field.label_suffix is not None else self.form.label_suffix
            )
            if suffix and contents and contents[-1] not in gettext(":?.!"):
                contents = format_html("{}{}", contents, suffix)
            label_suffix = ""
            spoken = ""
            if isinstance(self.field.widget, forms.CheckboxSelectMultiple):
                spoken = format_html('<span class="sh-visually-hidden"> ({})</span>', gettext("required"))
            contents = format_html(
                '{} <span class="sh-required-mark" aria-hidden="true">*</span>{}', contents or self.label, spoken,
            )
        return super().label_tag(contents, attrs, label_suffix, tag)


class ChildFieldsMixin(forms.Form):
    """Identity of the child in a melding: a fødselsnummer/D-nummer, or a name and birth date."""

    bound_field_class = MarkedBoundField

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

    # The questions a melding must answer before it is sent (marked on the form).
    marked_required = ("given_name", "parents_informed", "child_informed")

    def mark_required(self):
        """Give every marked text input and radio button the ``required`` attribute (the form has
        ``novalidate``: the server still decides, in one round, and a draft may leave them empty)."""
        for name in self.marked_required:
            field = self.fields.get(name)
            if field is None or isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue
            field.widget.attrs["required"] = True
            if not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["aria-required"] = "true"

    def clean_child(self, cleaned, *, full: bool = True):
        """Validate the child's identity; returns a dict for person_get_or_create, or None.

        Every problem is added to the form at once (never one per round). The child must be under
        18 today, by the birth date given or the one the number gives. With ``full=False`` (a draft)
        nothing is required, but what is given must be right, and a name is kept only with a
        number or birth date (without one there is no one to register it on).
        """
        number = (cleaned.get("national_id") or "").strip()
        birth = cleaned.get("birth_date")
        given = (cleaned.get("given_name") or "").strip()
        family = (cleaned.get("family_name") or "").strip()
        ok = True
        if number:
            try:
                number, _kind, number_birth = parse_national_id(number)
            except ValidationError as e:
                self.add_error("national_id", e)
                ok = False
            else:
                problem = child_birth_date_problem(number_birth)
                if problem:
                    self.add_error("national_id", ValidationError(problem, code="not_a_child"))
                    ok = False
                elif birth is not None and birth != number_birth:
                    self.add_error("birth_date", _("The birth date does not match the identity number."))
                    ok = False
        elif birth is None and "birth_date" not in self.errors and (full or given or family):
            self.add_error("birth_date", NEED_BIRTH_DATE if full else _(
                "To keep the child's name in the draft, also give the identity number or the birth date."
            ))
            ok = False
        if birth is not None and "birth_date" not in self.errors:
            problem = child_birth_date_problem(birth)
            if problem:
                self.add_error("birth_date", ValidationError(problem, code="not_a_child"))
                ok = False
        if full and not given:
            self.add_error("given_name", NEED_NAME)
            ok = False
        if not ok or not (number or birth):
            return None
        return {"national_id": number or None, "birth_date": birth, "given_name": given, "family_name": family}

    def clean_informed(self, cleaned, *, full: bool = True):
        """Whether the parents and the child were told, and why not: all missing answers at once."""
        # (add_error takes a field out of cleaned_data: read the answers first.)
        parents = cleaned["parents_informed"] = _yes_no(cleaned.get("parents_informed"))
        child = cleaned["child_informed"] = _yes_no(cleaned.get("child_informed"))
        reason = (cleaned.get("not_informed_reason") or "").strip()
        if not full:
            return
        if parents is None and "parents_informed" not in self.errors:
            self.add_error("parents_informed", NEED_PARENTS_TOLD)
        if child is None and "child_informed" not in self.errors:
            self.add_error("child_informed", NEED_CHILD_TOLD)
        if False in (parents, child) and not reason and "not_informed_reason" not in self.errors:
            self.add_error("not_informed_reason", NEED_REASON)


class ConcernForm(SubmissionFormMixin, ChildFieldsMixin):
    """The concern form, new or a draft being edited.

    ``full``: the reporter sends it, so every required question must be answered, and every
    missing one is reported at once; otherwise (a draft) only what is given is checked.
    ``draft``: the draft being edited; its kind and its reporting service stay as they are.
    """

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
    categories = forms.MultipleChoiceField(label=_("What is the concern about?"), choices=Concern.Category.choices, widget=CheckboxList)
    urgency = forms.ChoiceField(label=_("How urgent is it?"), choices=Concern.Urgency.choices, initial=Concern.Urgency.NORMAL, widget=forms.RadioSelect)
    parents_informed = forms.ChoiceField(label=_("Have the parents been told about the melding?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    child_informed = forms.ChoiceField(label=_("Has the child been told?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    not_informed_reason = forms.CharField(
        label=_("If not, why not?"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT,
        help_text=_("Required when the parents or the child have not been told. For example: telling the parents could put the child at risk."),
    )

    marked_required = (
        "kind", "reporting_service", "receiving_service", "given_name", "observations", "categories", "urgency",
        "parents_informed", "child_informed",
    )
    # Answered before sending, not before saving a draft.
    REQUIRED_TO_SEND = ("observations", "categories", "urgency")

    def __init__(self, *args, reporting_services, receiving_services, full=True, draft=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporting_service"].queryset = reporting_services
        self.fields["receiving_service"].queryset = receiving_services
        self.full, self.draft = full, draft
        if draft is not None:
            del self.fields["kind"], self.fields["reporting_service"]
        if not full:
            for name in self.REQUIRED_TO_SEND:
                self.fields[name].required = False
        self.mark_required()
        self.person_data = None

    def clean(self):
        cleaned = super().clean()
        kind = self.draft.kind if self.draft is not None else cleaned.get("kind")
        if kind == Concern.Kind.MELDING:
            self.person_data = self.clean_child(cleaned, full=self.full)
            self.clean_informed(cleaned, full=self.full)
        elif kind == Concern.Kind.CONSULTATION:
            for field in ("national_id", "given_name", "family_name", "birth_date"):
                if cleaned.get(field):
                    self.add_error(field, NOT_ANONYMOUS)
            for field in ("observations", "not_informed_reason"):
                if contains_national_id(cleaned.get(field) or "") and field not in self.errors:
                    self.add_error(field, NUMBER_IN_TEXT)
            cleaned["parents_informed"] = _yes_no(cleaned.get("parents_informed"))
            cleaned["child_informed"] = _yes_no(cleaned.get("child_informed"))
        cleaned["categories"] = cleaned.get("categories") or []
        cleaned["urgency"] = cleaned.get("urgency") or Concern.Urgency.NORMAL
        cleaned["observations"] = cleaned.get("observations") or ""
        return cleaned


def concern_form_initial(concern: Concern, person_record=None) -> dict:
    """The edit form's values for a draft, from the draft and the reporting service's record of the
    child's name (``person_record``)."""
    initial = {
        "receiving_service": concern.receiving_service_id, "child_age": concern.child_age,
        "observations": concern.observations, "categories": list(concern.categories), "urgency": concern.urgency,
        "parents_informed": _to_yes_no(concern.parents_informed), "child_informed": _to_yes_no(concern.child_informed),
        "not_informed_reason": concern.not_informed_reason,
    }
    person = concern.person
    if person is not None:
        initial.update({
            "national_id": person.national_id or "",
            "birth_date": None if person.national_id else person.birth_date,
            "given_name": person_record.given_name if person_record else "",
            "family_name": person_record.family_name if person_record else "",
        })
    return initial


class UpgradeForm(SubmissionFormMixin, ChildFieldsMixin):
    parents_informed = forms.ChoiceField(label=_("Have the parents been told about the melding?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    child_informed = forms.ChoiceField(label=_("Has the child been told?"), choices=YES_NO, required=False, widget=forms.RadioSelect)
    not_informed_reason = forms.CharField(
        label=_("If not, why not?"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=SHORT_TEXT,
        help_text=_("Required when the parents or the child have not been told."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mark_required()
        self.person_data = None

    def clean(self):
        cleaned = super().clean()
        self.person_data = self.clean_child(cleaned)
        self.clean_informed(cleaned)
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
