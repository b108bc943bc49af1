"""Referral, contact and catalogue pages, and the referral flow's task pages."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import generic

from referrals.access import referral_get_for_process, referral_get_for_user
from workflows import forms_referral as rforms
from workflows.services import referral as svc
from workflows.views import apply_errors


class ReferralTaskView(generic.FormView):
    """viewflow's execute page of a referral step: the same forms and services as the referral page."""

    step = None
    template_name = "workflows/referral_task.html"

    def dispatch(self, request, *args, **kwargs):
        found = referral_get_for_process(request.user, kwargs["process_pk"])
        self.referral, self.roles = referral_get_for_user(request.user, found.code)
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return rforms.STEP_FORMS[self.step]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.step == "route":
            kwargs["referral"] = self.referral
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(referral=self.referral, step=self.step, activation=self.request.activation, **kwargs)

    def form_valid(self, form):
        d, r, u, act = form.cleaned_data, self.referral, self.request.user, self.request.activation
        calls = {
            "route": lambda: svc.referral_route(referral=r, user=u, target_service=d["target_service"], activation=act),
            "receive": lambda: svc.referral_receive(referral=r, user=u, activation=act),
            "decide": lambda: (
                svc.referral_accept(referral=r, user=u, activation=act) if d["decision"] == "accept"
                else svc.referral_decline(referral=r, user=u, reason=d["reason"], activation=act)
            ),
            "close": lambda: svc.referral_close(referral=r, user=u, completed=d["result"] == "completed", outcome=d["outcome"], activation=act),
        }
        try:
            with transaction.atomic():
                calls[self.step]()
        except ValidationError as e:
            apply_errors(form, e)
            return self.render_to_response(self.get_context_data(form=form), status=422)
        messages.success(self.request, _("The task has been completed."))
        return redirect("referrals:detail", r.code)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=422)
