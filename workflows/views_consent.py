"""The consent withdrawal page. It lives here, not in consent/, because withdrawing also cancels
the referrals that rested on the consent (workflows → consent, never the other way)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import access_log_write
from consent import forms
from consent.views import detail_context
from consent.access import consent_get_for_user
from org.ui import apply_errors
from workflows.withdrawal import consent_withdraw_cascade


@login_required
@require_POST
def consent_withdraw(request, code):
    consent = consent_get_for_user(request.user, code)
    form = forms.WithdrawForm(request.POST)
    if form.is_valid():
        try:
            cancelled = consent_withdraw_cascade(consent=consent, user=request.user, note=form.cleaned_data["note"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            msg = _("The consent has been withdrawn. The services that received information on it no longer have access.")
            if cancelled:
                msg += " " + _("Referrals cancelled: %(n)s.") % {"n": len(cancelled)}
            messages.success(request, msg)
            return redirect("consent:detail", consent.code)
    consent.refresh_from_db()
    access_log_write(
        user=request.user, action="view", obj=consent, person=consent.person, purpose="consent page",
        service=consent.recorded_by_service,
    )
    return render(request, "consent/consent_detail.html", detail_context(request, consent, form), status=422)


