"""Emergency access pages: open one (with a justification), see one's own, review others'.

Thin: one service call each; every case read through an emergency access happens on the case's
own page, which logs it as ``via="break_glass"``.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import submission
from org.access import code_as_uuid
from referrals.models import BreakGlassAccess
from org.ui import apply_errors
from workflows.forms import BreakGlassForm, BreakGlassReviewForm
from workflows.processes import process_for_record
from workflows.services import break_glass as svc


def _case_url(access):
    obj = svc.break_glass_subject(access)
    return process_for_record(obj).record_url, obj.code


@login_required
@submission.once
def break_glass_index(request):
    form = BreakGlassForm(request.POST or None, submitted_by=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                access = svc.break_glass_open(
                    user=request.user, kind=d["kind"], reference=d["reference"], justification=d["justification"], minutes=d["minutes"],
                )
                name, code = _case_url(access)
                sent.leads_to(reverse(name, args=[code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.warning(request, _("Emergency access is open and logged. The service holding the case and the privacy function have been told."))
            return redirect(name, code)
    ctx = {
        "form": form,
        "mine": BreakGlassAccess.objects.filter(user=request.user).select_related("owner_service")[:50],
        "to_review": svc.break_glass_reviewable(request.user)[:200],
        "review_form": BreakGlassReviewForm(),
    }
    return render(request, "workflows/break_glass.html", ctx, status=422 if request.method == "POST" else 200)


@require_POST
@login_required
def break_glass_review(request, code):
    access = svc.break_glass_reviewable(request.user).filter(code=code_as_uuid(code)).first()
    if access is None:
        raise Http404
    form = BreakGlassReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("note") or _("Write what the review found."))
        svc.break_glass_review(access=access, user=request.user, note=form.cleaned_data["note"])
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The review has been recorded."))
    return redirect("break_glass:index")
