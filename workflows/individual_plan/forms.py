"""Forms of the individual plan pages. The rules live in the services; forms only say which fields a
page asks for and that the obvious ones are filled in."""
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin
from consent.forms import GuardiansField
from consent.models import Consent
from org.access import active_members_of, user_services
from org.models import Service
from org.widgets import CheckboxList
from people.validators import LONG_TEXT, NAME_LENGTH, SHORT_TEXT, parse_national_id
from referrals.models import IndividualPlan, PlanMeasure, PlanOffer
from workflows.individual_plan.selectors import NOT_IN_PLANS


class _ShownChoices(forms.models.ModelChoiceIterator):
    """The choices of the objects the page has loaded already (``field.shown``): rendering them asks
    nothing. A choice made is still checked against the field's queryset."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.shown:
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.shown) + (self.field.empty_label is not None)

    def __bool__(self):
        return bool(self.field.shown) or self.field.empty_label is not None


class NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name

    def show(self, objects) -> None:
        """Offer ``objects`` (loaded, in their order) as the choices, accepting only them."""
        self.shown = list(objects)
        self.iterator = _ShownChoices  # before the queryset: setting it hands the widget its choices
        self.queryset = self.queryset.model.objects.filter(pk__in=[obj.pk for obj in self.shown])


class KoordinatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class HandOverProposeForm(forms.Form):
    """Propose to hand the main responsibility to another participating service (``services``)."""

    to_service = NameChoiceField(label=_("Hand the main responsibility to"), queryset=Service.objects.none())
    note = forms.CharField(label=_("Note to the receiving service"), required=False, max_length=SHORT_TEXT,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Why the hand-over, and what the new holder should know. No more than needed."))

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_service"].show(services)


class HandOverDecideForm(forms.Form):
    """The receiving service's answer: accept (naming its koordinator) or decline (with a reason)."""

    ACCEPT, DECLINE = "accept", "decline"
    decision = forms.ChoiceField(
        label=_("Your answer"), widget=forms.RadioSelect,
        choices=[(ACCEPT, _("Accept the main responsibility")), (DECLINE, _("Decline the hand-over"))],
    )
    koordinator = KoordinatorChoiceField(label=_("Koordinator"), queryset=get_user_model().objects.none(), required=False,
                                         help_text=_("When accepting: who in your service will be the person's koordinator."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required when declining."))

    def __init__(self, *args, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        if service is not None:
            self.fields["koordinator"].queryset = _members([service])


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NATIONAL_ID = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})


def _members(services):
    """The active members of ``services``, as a koordinator's choices."""
    return get_user_model().objects.filter(pk__in=active_members_of([s.pk for s in services]).values("user_id")).order_by(
        "first_name", "last_name", "pk")


def _national_id_clean(form, field: str) -> str:
    number = (form.cleaned_data.get(field) or "").strip()
    if number:
        try:
            number = parse_national_id(number)[0]
        except ValidationError as e:
            form.add_error(field, e)
    return number


# --- the offer -------------------------------------------------------------------------------------


class IdentityForm(forms.Form):
    """A person as the user's service registers them: an identity number, or a birth date, and the
    name (the service's own record; a number that matches a known person links to it and shows
    nothing of what others registered)."""

    national_id = forms.CharField(label=_("National identity number or D number (11 digits)"), required=False, max_length=20,
                                  widget=NATIONAL_ID, help_text=_("Leave empty if the person has no number; then give the birth date."))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE)
    given_name = forms.CharField(label=_("Given name"), max_length=NAME_LENGTH)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_LENGTH, required=False)

    def clean(self):
        cleaned = super().clean()
        number = _national_id_clean(self, "national_id")
        if not number and "national_id" not in self.errors and cleaned.get("birth_date") is None and "birth_date" not in self.errors:
            self.add_error("birth_date", _("Give the birth date when the person has no identity number."))
        return cleaned

    def identity(self) -> dict:
        """people.services.person_get_or_create's fields."""
        d = self.cleaned_data
        number = (d.get("national_id") or "").strip()
        return {"national_id": number or None, "birth_date": None if number else d.get("birth_date"),
                "given_name": d["given_name"], "family_name": d.get("family_name", "")}


class OfferRegisterForm(SubmissionFormMixin, IdentityForm):
    """Register an offer: the offering service, the person (IdentityForm), any guardians (who
    answer for a child), and why the person qualifies."""

    service = NameChoiceField(label=_("Offered by"), queryset=Service.objects.none(), empty_label=None)
    guardian1_national_id = forms.CharField(label=_("Guardian 1: national identity number"), max_length=20, required=False, widget=NATIONAL_ID,
                                            help_text=_("For a child: the guardians who answer the offer on the child's behalf."))
    guardian1_given_name = forms.CharField(label=_("Guardian 1: given name"), max_length=NAME_LENGTH, required=False)
    guardian1_family_name = forms.CharField(label=_("Guardian 1: family name"), max_length=NAME_LENGTH, required=False)
    guardian2_national_id = forms.CharField(label=_("Guardian 2: national identity number"), max_length=20, required=False, widget=NATIONAL_ID)
    guardian2_given_name = forms.CharField(label=_("Guardian 2: given name"), max_length=NAME_LENGTH, required=False)
    guardian2_family_name = forms.CharField(label=_("Guardian 2: family name"), max_length=NAME_LENGTH, required=False)
    reason = forms.CharField(label=_("Why the person qualifies for an individual plan"), max_length=SHORT_TEXT,
                             widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Needs for long-term, coordinated services. No more than needed."))
    offered_on = forms.DateField(label=_("Offered on"), widget=DATE)
    field_order = ["service", "national_id", "birth_date", "given_name", "family_name"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, submitted_by=user, **kwargs)
        self.fields["service"].queryset = user_services(user).exclude(kind__in=NOT_IN_PLANS) if user is not None else Service.objects.none()
        if not self.is_bound:
            self.initial.setdefault("offered_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        for n in (1, 2):
            number, given = f"guardian{n}_national_id", (cleaned.get(f"guardian{n}_given_name") or "").strip()
            if _national_id_clean(self, number) and not given:
                self.add_error(f"guardian{n}_given_name", _("Give the guardian's given name."))
            elif given and number not in self.errors and not (cleaned.get(number) or "").strip():
                self.add_error(number, _("Give the guardian's national identity number."))
        return cleaned

    def guardians(self) -> list[dict]:
        d = self.cleaned_data
        return [{"national_id": d[f"guardian{n}_national_id"].strip(), "given_name": d[f"guardian{n}_given_name"],
                 "family_name": d.get(f"guardian{n}_family_name", "")} for n in (1, 2) if (d.get(f"guardian{n}_national_id") or "").strip()]


class OfferAnswerForm(forms.Form):
    """The person's answer, and who gave it: the person, the registered guardians, or both (the
    service checks it against the age rule)."""

    answer = forms.ChoiceField(label=_("The answer"), choices=PlanOffer.Answer.choices, widget=forms.RadioSelect)
    answered_on = forms.DateField(label=_("Answered on"), widget=DATE)
    by_person = forms.BooleanField(label=_("The person answered"), required=False)
    guardians = GuardiansField(label=_("Guardians who answered"), queryset=None, required=False, widget=CheckboxList,
                               help_text=_("Only guardians registered for the person are listed."))

    def __init__(self, *args, guardians, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardians"].queryset = guardians
        self.fields["guardians"].service = service
        if not self.is_bound:
            self.initial.setdefault("answered_on", timezone.localdate())


class OfferKoordinatorForm(forms.Form):
    """Name the koordinator of an offer answered "a koordinator only"."""

    koordinator_service = NameChoiceField(label=_("The koordinator's service"), queryset=Service.objects.none(), empty_label=None)
    koordinator = KoordinatorChoiceField(label=_("Koordinator"), queryset=get_user_model().objects.none())

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["koordinator_service"].queryset = services
        # Any member of the user's services; the service refuses one outside the chosen service.
        self.fields["koordinator"].queryset = _members(services)


# --- the plan --------------------------------------------------------------------------------------


class PlanContentForm(forms.Form):
    """The plan's content: its kind, the person's own goals, resources, period, revision date and
    the person's participation."""

    kind = forms.ChoiceField(label=_("Kind of plan"), choices=IndividualPlan.Kind.choices, widget=forms.RadioSelect)
    goals = forms.CharField(label=_("The person's own goals, in their own words"), max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 5}))
    resources = forms.CharField(label=_("Resources"), max_length=LONG_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("What the person and their network bring: strengths, people, interests."))
    period_start = forms.DateField(label=_("Plan period from"), widget=DATE)
    period_end = forms.DateField(label=_("Plan period to"), widget=DATE, required=False, help_text=_("Leave empty for a plan without an end date."))
    revision_due_on = forms.DateField(label=_("Revise by"), widget=DATE)
    participation = forms.ChoiceField(label=_("The person's participation"), choices=IndividualPlan.Participation.choices, widget=forms.RadioSelect)
    participation_note = forms.CharField(label=_("About the person's participation"), max_length=SHORT_TEXT, required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}))


class ConsentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        start = date_format(obj.valid_from, "SHORT_DATE_FORMAT")
        period = f"{start} – {date_format(obj.valid_to, 'SHORT_DATE_FORMAT')}" if obj.valid_to else f"{start} –"
        return _("Recorded by %(service)s, valid %(period)s") % {"service": obj.recorded_by_service.name, "period": period}


class PlanCreateForm(SubmissionFormMixin, PlanContentForm):
    """Make the plan of an accepted offer: its content, the consent it rests on, and the koordinator."""

    consent = ConsentChoiceField(label=_("The person's consent to the plan"), queryset=Consent.objects.none(), empty_label=None,
                                 required=False, widget=forms.RadioSelect)
    koordinator = KoordinatorChoiceField(label=_("Koordinator"), queryset=get_user_model().objects.none(), required=False,
                                         help_text=_("Who in your service will be the person's koordinator. Can be named later."))
    field_order = ["kind", "goals", "resources", "period_start", "period_end", "revision_due_on", "participation", "participation_note",
                   "consent", "koordinator"]

    def __init__(self, *args, consents, service, user=None, **kwargs):
        super().__init__(*args, submitted_by=user, **kwargs)
        self.fields["consent"].queryset = Consent.objects.filter(pk__in=[c.pk for c in consents]).select_related("recorded_by_service")
        self.fields["koordinator"].queryset = _members([service])
        if not self.is_bound:
            self.initial.setdefault("kind", IndividualPlan.Kind.IP)
            self.initial.setdefault("period_start", timezone.localdate())
            if len(consents) == 1:
                self.initial.setdefault("consent", consents[0].pk)


class PlanEditForm(PlanContentForm):
    """Change the plan's content; ``version`` is the plan's version the form was rendered from (a
    missing one is refused by the service as a stale form)."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=20, required=False)


# --- participants, measures, the koordinator, hand-overs -------------------------------------------


class ParticipantServiceForm(forms.Form):
    service = NameChoiceField(label=_("Service"), queryset=Service.objects.none(),
                              help_text=_("Only services the person's consent to the plan covers can take part."))

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


class GuardianField(forms.ModelChoiceField):
    """One guardian, named as consent's GuardiansField names them (``service``: the user's)."""

    service = None
    label_from_instance = GuardiansField.label_from_instance


class ParticipantGuardianForm(forms.Form):
    """A registered guardian of the person, as a participant."""

    guardian = GuardianField(label=_("Which guardian"), queryset=None, widget=forms.RadioSelect, empty_label=None,
                             help_text=_("Only guardians registered for the person are listed."))
    relation = forms.CharField(label=_("Relation to the person"), max_length=80, required=False)

    def __init__(self, *args, guardians, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = guardians
        self.fields["guardian"].service = service


class ParticipantNextOfKinForm(IdentityForm):
    """A next of kin taking part in the plan, registered as the holder's own record of them."""

    relation = forms.CharField(label=_("Relation to the person"), max_length=80, required=False)


class MeasureForm(forms.Form):
    description = forms.CharField(label=_("Measure"), max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    responsible_service = NameChoiceField(label=_("Responsible service"), queryset=Service.objects.none())
    starts_on = forms.DateField(label=_("Starts"), widget=DATE)
    evaluate_on = forms.DateField(label=_("Evaluate by"), widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=PlanMeasure.Status.choices)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices are the participating ``services``; any active service is accepted here, so
        # the service refuses one outside the plan with its own reason (a stale or forged form).
        field = self.fields["responsible_service"]
        field.queryset = Service.objects.filter(active=True)
        field.widget.choices = [("", field.empty_label)] + [(s.pk, s.name) for s in services]


class KoordinatorForm(forms.Form):
    koordinator = KoordinatorChoiceField(label=_("Koordinator"), queryset=get_user_model().objects.none())

    def __init__(self, *args, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["koordinator"].queryset = _members([service])


# --- the ansvarsgruppe ----------------------------------------------------------------------------

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class MeetingScheduleForm(forms.Form):
    """A meeting of the ansvarsgruppe: its day, times and place, and, to repeat it, the interval."""

    day = forms.DateField(label=_("Date"), widget=DATE)
    starts = forms.TimeField(label=_("Starts"), widget=TIME)
    ends = forms.TimeField(label=_("Ends"), widget=TIME)
    place = forms.CharField(label=_("Place"), max_length=200,
                            help_text=_("The invitation leaves the platform: write no one's name or address."))
    every_weeks = forms.IntegerField(label=_("Repeat every … weeks"), required=False, min_value=1, max_value=26,
                                     help_text=_("Leave empty for a single meeting. A series runs until the plan period ends, or the date below."))
    until = forms.DateField(label=_("Last meeting no later than"), required=False, widget=DATE)


class MinutesForm(forms.Form):
    """The minutes of a held meeting: who came (``members``: selectors.group_members), the text."""

    present = forms.MultipleChoiceField(label=_("Present"), required=False, widget=CheckboxList)
    text = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}), max_length=10_000)
    sequence = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [(m["key"], _("%(member)s (%(role)s)") % {"member": m["label"], "role": m["role"]}) for m in members]


class DecisionForm(forms.Form):
    """A decision of the meeting: it becomes a measure of the plan, owned by a participating service."""

    text = forms.CharField(label=_("Decision (the measure)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=SHORT_TEXT)
    responsible_service = NameChoiceField(label=_("Responsible service"), queryset=Service.objects.none())
    starts_on = forms.DateField(label=_("Starts"), widget=DATE)
    evaluate_on = forms.DateField(label=_("Evaluate by"), widget=DATE)

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_service"].queryset = services if services is not None else Service.objects.none()


DecisionFormSet = forms.formset_factory(DecisionForm, extra=3, max_num=10, validate_max=True)
