"""The overview's filter: a municipality of the user's scope (or all of them), a calendar year and
a registered process (or all). Whole calendar years only, never a date range: a narrow slice of
time is a small group (see insights.published on differencing)."""
from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insights.access import InsightScope
from insights.selectors import OverviewFilter, process_choices

FIRST_YEAR = 2000


class OverviewFilterForm(forms.Form):
    municipality = forms.TypedChoiceField(label=_("Municipality"), required=False, coerce=int, empty_value=None)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=FIRST_YEAR)
    process = forms.ChoiceField(label=_("Kind of case"), required=False)

    def __init__(self, data=None, *, scope: InsightScope, municipalities, **kwargs):
        # An empty query string is the default view (all municipalities, this year, all processes).
        super().__init__(data or None, **kwargs)
        self.scope = scope
        self.fields["municipality"].choices = [("", _("All my municipalities"))] + [(m.pk, m.name) for m in municipalities]
        this_year = timezone.localdate().year
        # No figures of a year still to come: set per request, so the form follows the calendar.
        self.fields["year"].validators.append(MaxValueValidator(this_year))
        self.fields["year"].widget.attrs.update({"min": FIRST_YEAR, "max": this_year})
        self.fields["process"].choices = [("", _("All processes"))] + process_choices()

    def overview_filter(self) -> OverviewFilter:
        """The filter (defaults for an unbound form); call only when the form is valid or unbound."""
        data = self.cleaned_data if self.is_bound else {}
        return OverviewFilter(
            municipality_id=data.get("municipality"),
            year=data.get("year") or timezone.localdate().year,
            process=data.get("process") or None,
        )

