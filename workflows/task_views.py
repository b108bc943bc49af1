"""The shared shape of a viewflow task page that does its step through a project service."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import generic

from referrals.ui import apply_errors


class ServiceStepTaskView(generic.FormView):
    """Subclasses set ``step``, fetch their object in ``dispatch`` through the access helper, and
    implement ``run_step(data, activation)`` (one service call) and ``done_url()``."""

    step = None

    def run_step(self, data, activation):
        raise NotImplementedError

    def done_url(self):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.run_step(form.cleaned_data, self.request.activation)
        except ValidationError as e:
            apply_errors(form, e)
            return self.form_invalid(form)
        messages.success(self.request, _("The task has been completed."))
        return redirect(self.done_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=422)
