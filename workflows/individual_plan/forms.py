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
