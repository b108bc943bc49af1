"""Forms of the pages every process shares (emergency access)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.submission import SubmissionFormMixin

from workflows.services.break_glass import JUSTIFICATION_MAX, case_kinds


class BreakGlassForm(SubmissionFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind of case"), choices=case_kinds)
    reference = forms.CharField(label=_("The case's code or address"), max_length=300)
    justification = forms.CharField(label=_("Why you need access now"), max_length=JUSTIFICATION_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.IntegerField(label=_("For how many minutes"), initial=30, min_value=1)


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(label=_("What the review found"), max_length=JUSTIFICATION_MAX, widget=forms.Textarea(attrs={"rows": 2}))
