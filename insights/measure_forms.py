"""Forms of the plan and measure pages. The rules live in the services (insights.measures): the forms
say which fields a page asks for and hand on what was chosen, so that the service's translated
refusal lands on its field. ``version`` is the measure's version the form showed (a stale form is
the service's to refuse)."""
from django import forms
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from insights.models import PolicyMeasure
from org.models import Municipality, Service
from org.widgets import CheckboxList
from people.validators import MEDIUM_TEXT, SHORT_TEXT
from workflows.individual_plan.forms import NameChoiceField

YEAR_WIDGET = forms.NumberInput(attrs={"inputmode": "numeric", "min": 2000, "max": 2100})


class PlanForm(forms.Form):
    """A plan's title and period; on a new plan also its owner (the user's SLT services) and municipality."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("For example “Rusmiddelpolitisk handlingsplan 2025–2030”."))
    from_year = forms.IntegerField(label=_("Period from (year)"), required=False, widget=YEAR_WIDGET)
    to_year = forms.IntegerField(label=_("Period to (year)"), required=False, widget=YEAR_WIDGET)
    owner_service = NameChoiceField(label=_("SLT service keeping the plan"), queryset=Service.objects.none(), required=False,
                                    empty_label=None)
    municipality = NameChoiceField(label=_("Municipality"), queryset=Municipality.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, owners=None, municipalities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner_service"], self.fields["municipality"]
        else:
            self.fields["owner_service"].show(owners)
            self.fields["municipality"].show(municipalities or [])


class MeasureForm(forms.Form):
    """A measure: its number, area of effort, text, services, status and evaluation day."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.CharField(label=_("Number"), max_length=10, required=False, help_text=_("As in the plan, for example “1” or “2a”."))
    theme = forms.CharField(label=_("Area of effort"), max_length=120, required=False,
                            help_text=_("Optional: the plan's heading, for example “Children and young people”."))
    text = forms.CharField(label=_("Measure"), max_length=MEDIUM_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("What is to be done. No names or other personal data."))
    responsible_service = NameChoiceField(label=_("Responsible service"), queryset=Service.objects.none(), required=False,
                                          empty_label=_("Choose a service"))
    co_responsible = forms.ModelMultipleChoiceField(label=_("Co-responsible services"), queryset=Service.objects.none(), required=False,
                                                    widget=CheckboxList)
    partners = forms.CharField(label=_("Other partners"), max_length=300, required=False,
                               help_text=_("Optional: partners outside the municipality's services, for example the police or KoRus."))
    status = forms.ChoiceField(label=_("Status"), choices=PolicyMeasure.Status.choices, initial=PolicyMeasure.Status.NOT_STARTED)
    evaluation_day = forms.TypedChoiceField(label=_("Evaluation day"), coerce=int, choices=[(d, str(d)) for d in range(1, 32)],
                                            initial=PolicyMeasure._meta.get_field("evaluation_day").default)
    evaluation_month = forms.TypedChoiceField(label=_("Evaluation month"), coerce=int, choices=list(MONTHS.items()),
                                              initial=PolicyMeasure._meta.get_field("evaluation_month").default,
                                              help_text=_("The responsible service is reminded two weeks before this day every year."))

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        services = list(services)
        self.fields["responsible_service"].show(services)
        self.fields["co_responsible"].queryset = Service.objects.filter(pk__in=[s.pk for s in services]).order_by("name")
        self.fields["co_responsible"].label_from_instance = lambda s: s.name

    @staticmethod
    def initial_for(measure: PolicyMeasure) -> dict:
        return {
            "version": measure.version, "number": measure.number, "theme": measure.theme, "text": measure.text,
            "responsible_service": measure.responsible_service_id, "co_responsible": [s.pk for s in measure.co_responsible.all()],
            "partners": measure.partners, "status": measure.status, "evaluation_day": measure.evaluation_day,
            "evaluation_month": measure.evaluation_month,
        }


class EvaluationForm(forms.Form):
    """A measure's evaluation for a year of the plan period (up to this year)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    year = forms.TypedChoiceField(label=_("Year evaluated"), coerce=int, choices=(), required=False, empty_value=None)
    status = forms.ChoiceField(label=_("Status now"), choices=PolicyMeasure.Status.choices)
    text = forms.CharField(label=_("Evaluation"), max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("What was done this year and how it went. No names or other personal data."))

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]
