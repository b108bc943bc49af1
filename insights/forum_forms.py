"""The forums' forms: they parse and label; every rule is the services' (insights.forums)."""
import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insights.models import Forum
from org.models import Municipality, Service
from org.widgets import CheckboxList
from people.validators import LONG_TEXT, SHORT_TEXT

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NO_PERSON = _("Write about themes or de-identified cases only: no names, identity numbers or other details that identify anyone.")


class NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class NamesMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ForumForm(forms.Form):
    """A new forum: who runs it, where, what kind, how often it meets, and its first members."""

    owner = NameChoiceField(label=_("Run by"), queryset=Service.objects.none())
    municipality = NameChoiceField(label=_("Municipality"), queryset=Municipality.objects.none())
    kind = forms.ChoiceField(label=_("Kind of forum"), choices=Forum.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    recurrence = forms.ChoiceField(label=_("Meets"), choices=Forum.Recurrence.choices)
    every_weeks = forms.IntegerField(label=_("Every … weeks"), required=False, min_value=1, max_value=26,
                                     help_text=_("Only when the forum meets every given number of weeks."))
    members = NamesMultipleChoiceField(label=_("Member services"), queryset=Service.objects.none(), required=False,
                                       widget=CheckboxList)

    def __init__(self, *args, owners=(), municipalities=None, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Service.objects.filter(pk__in=[s.pk for s in owners]).order_by("name", "pk")
        if len(owners) == 1:
            self.fields["owner"].initial = owners[0].pk
        self.fields["municipality"].queryset = municipalities if municipalities is not None else Municipality.objects.none()
        self.fields["members"].queryset = candidates if candidates is not None else Service.objects.none()


class MemberAddForm(forms.Form):
    service = NameChoiceField(label=_("Service"), queryset=Service.objects.none())

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = candidates if candidates is not None else Service.objects.none()


class MemberRemoveForm(forms.Form):
    service = forms.UUIDField(widget=forms.HiddenInput)


class ScheduleForm(forms.Form):
    """The first meeting (its day, times and place) and the last date to schedule to by the
    forum's recurrence."""

    day = forms.DateField(label=_("Date of the first meeting"), widget=DATE)
    starts = forms.TimeField(label=_("Starts"), widget=TIME)
    ends = forms.TimeField(label=_("Ends"), widget=TIME)
    place = forms.CharField(label=_("Place"), max_length=200)
    until = forms.DateField(label=_("Schedule meetings up to"), required=False, widget=DATE,
                            help_text=_("Leave empty for a single meeting."))

    def at(self, time: datetime.time) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.cleaned_data["day"], time))


class SequenceForm(forms.Form):
    """A meeting's changes carry the revision of the page they were made on."""

    sequence = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class AgendaItemForm(SequenceForm):
    title = forms.CharField(label=_("Title"), max_length=200, help_text=NO_PERSON)
    text = forms.CharField(label=_("Short description"), required=False, max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 3}))


class AgendaItemRemoveForm(SequenceForm):
    item = forms.IntegerField(widget=forms.HiddenInput)


class MinutesForm(SequenceForm):
    text = forms.CharField(label=_("Minutes"), max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 8}), help_text=NO_PERSON)
