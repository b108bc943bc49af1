"""Forms of the individual plan pages. The rules live in the services; forms only say which fields a
page asks for and that the obvious ones are filled in."""
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from org.access import active_members
from org.models import Service
from people.validators import SHORT_TEXT


class NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class KoordinatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class HandOverProposeForm(forms.Form):
    """Propose to hand the main responsibility to another participating service (``services``)."""

    to_service = NameChoiceField(label=_("Hand the main responsibility to"), queryset=Service.objects.none())
    note = forms.CharField(label=_("Note to the receiving service"), required=False, max_length=SHORT_TEXT,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Why the hand-over, and what the new holder should know. No more than needed."))

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_service"].queryset = services if services is not None else Service.objects.none()


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
            members = active_members(service).values("user_id")
            self.fields["koordinator"].queryset = get_user_model().objects.filter(pk__in=members).order_by("first_name", "last_name", "pk")


# --- the ansvarsgruppe ----------------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
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

    present = forms.MultipleChoiceField(label=_("Present"), required=False, widget=forms.CheckboxSelectMultiple)
    text = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}), max_length=10_000)
    sequence = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [(m["key"], f"{m['label']} ({m['role']})") for m in members]


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
