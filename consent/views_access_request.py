"""The privacy function's pages: access requests (GDPR art. 15) and the full transparency report.

Thin: access helper → one service → redirect. Only members of a privacy-function service reach
them; everyone else gets 404.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import submission
from audit.services import access_log_write
from consent.access_requests import access_request_answer, access_request_get_for_user, access_request_register, access_requests_list
from consent.forms import AccessRequestForm
from consent.pdf import csv_download, pdf_download
from consent.reports import access_log_csv_rows, transparency_report, transparency_report_pdf
from org.access import user_is_privacy_function
from org.ui import apply_errors

REPORT_ACCESS_ROWS = 200


def _require_privacy_function(user):
    if not user_is_privacy_function(user):
        raise Http404


@login_required
@submission.once
def access_request_list(request):
    _require_privacy_function(request.user)
    show_answered = request.GET.get("vis") == "besvart"
    form = AccessRequestForm(request.POST or None, initial={"received_on": timezone.localdate()}, submitted_by=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                created = access_request_register(
                    user=request.user, national_id=d["national_id"], reference=d["reference"],
                    received_on=d["received_on"], requested_by=d["requested_by"],
                )
                sent.leads_to(reverse("consent:access_request", args=[created.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The access request has been registered."))
            return redirect("consent:access_request", created.code)
    ctx = {
        "form": form, "rows": access_requests_list(request.user, show_answered=show_answered),
        "show_answered": show_answered, "today": timezone.localdate(),
    }
    return render(request, "consent/access_request_list.html", ctx, status=422 if request.method == "POST" else 200)


def _logged_person(request, access_request):
    """The request's person, the export of their report logged; None when no one with the number
    is registered (nothing is held, nothing logged)."""
    person = access_request.person
    if person is None:
        return None
    access_log_write(
        user=request.user, action="export", obj=person, person=person, purpose="transparency report (GDPR art. 15)",
        service=access_request.registered_by_service, via="privacy",
    )
    return person


def _logged_report(request, access_request, *, access_limit=None, access_by_day=False):
    person = _logged_person(request, access_request)
    if person is None:
        return None
    return transparency_report(
        person, municipality=access_request.registered_by_service.municipality_id, access_limit=access_limit, access_by_day=access_by_day,
    )


@login_required
def access_request_detail(request, code):
    access_request = access_request_get_for_user(request.user, code)
    report = _logged_report(request, access_request, access_limit=REPORT_ACCESS_ROWS)
    ctx = {"access_request": access_request, "report": report, "person": access_request.person, "today": timezone.localdate()}
    return render(request, "consent/access_request_detail.html", ctx)


@login_required
def access_request_pdf(request, code):
    access_request = access_request_get_for_user(request.user, code)
    report = _logged_report(request, access_request, access_by_day=True)
    if report is None:
        raise Http404
    return pdf_download(transparency_report_pdf(report), f"innsyn-{str(access_request.code)[:8]}.pdf")


@login_required
def access_request_csv(request, code):
    """Every access-log entry of the full report (the privacy function's municipality), streamed."""
    access_request = access_request_get_for_user(request.user, code)
    person = _logged_person(request, access_request)
    if person is None:
        raise Http404
    municipality = access_request.registered_by_service.municipality_id
    return csv_download(access_log_csv_rows(person, municipality=municipality), f"innsyn-{str(access_request.code)[:8]}.csv")


@require_POST
@login_required
def access_request_mark_answered(request, code):
    access_request = access_request_get_for_user(request.user, code)
    try:
        access_request_answer(request=access_request, user=request.user)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("The access request is marked as answered."))
    return redirect("consent:access_request", access_request.code)
