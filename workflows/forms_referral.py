from django import forms
from django.utils.translation import gettext_lazy as _

from referrals.models import Service


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class RouteForm(forms.Form):
    target_service = ServiceChoiceField(label=_("Route to"), queryset=Service.objects.none())

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Service.objects.filter(catalogue__isnull=False, active=True).order_by("name")
        if referral is not None:
            qs = qs.exclude(pk=referral.sender_service_id)
        self.fields["target_service"].queryset = qs


class ReceiveForm(forms.Form):
    pass


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for declining (the sender sees it)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=[("completed", _("Completed")), ("failed", _("Failed"))], widget=forms.RadioSelect)
    outcome = forms.CharField(label=_("Outcome (the sender sees it)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


STEP_FORMS = {"route": RouteForm, "receive": ReceiveForm, "decide": DecideForm, "close": CloseForm}
