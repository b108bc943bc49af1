"""The BrukerPlan report's pages: the report (its status and progress while it is computed, then
its charts and tables), its progress as JSON (polled by static/samhandling/brukerplan_report.js),
the CSV and PDF downloads, and the coordinator's "compute again". Thin: the access helper
(selectors.report_get_for_user: 404 for missing and forbidden alike) → a service or the stored
report → a response. The report holds no person: nothing here is written to the access log.

``urlpatterns`` is included under the BrukerPlan app's URLs (namespace ``brukerplan``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from consent.pdf import csv_download, pdf_download
from workflows.brukerplan import report_document, selectors, services


@login_required
def report_page(request, code):
    """The round's report: while it is computed its status and an accessible progress bar, once it
    has figures its charts and tables (stored: nothing is computed here), the comparison and the
    downloads, the last computation's while a new one runs (with its status above them)."""
    round_, report, roles = selectors.report_get_for_user(request.user, code)
    has_data = report is not None and report.data is not None
    return render(request, "brukerplan/report.html", {
        "round": round_, "report": report, "view": report_document.report_view(report.data) if has_data else None,
        # A reader of the municipality has no round page to go back to (it would answer 404): the rounds list then.
        "has_round_role": bool(roles & {selectors.COORDINATOR, selectors.PARTICIPANT}),
        "may_recompute": selectors.report_may_recompute(request.user, round_, report),
    })


@login_required
def report_progress(request, code):
    """The report's status and progress as JSON, for the page's progress bar; never cached.

    Only the status and the share done in whole per cent (100 when done): never the number of
    persons counted or to count, which is the true number mapped, while the report hides a small one
    (it is read by every member of the municipality once the report is done)."""
    _round, report, _roles = selectors.report_get_for_user(request.user, code)
    body = {"status": "not_closed", "percent": 0, "label": ""}
    if report is not None:
        body = {"status": report.status, "percent": report.percent, "label": str(report.get_status_display())}
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def report_csv(request, code):
    """The report's figures as CSV (semicolon-separated, UTF-8 with a byte-order mark), streamed."""
    round_, report, _roles = selectors.report_get_for_user(request.user, code, ready=True)
    return csv_download(report_document.csv_rows(report.data), report_document.filename(round_, "csv"))


@login_required
def report_pdf(request, code):
    """The report's figures as an A4 PDF."""
    round_, report, _roles = selectors.report_get_for_user(request.user, code, ready=True)
    return pdf_download(report_document.report_pdf(round_, report), report_document.filename(round_, "pdf"))


@login_required
@require_POST
def report_recompute(request, code):
    """The coordinating service computes the closed round's report again (services.report_recompute)."""
    round_, _report, roles = selectors.report_get_for_user(request.user, code)
    if selectors.COORDINATOR not in roles:
        raise Http404
    try:
        services.report_recompute(user=request.user, round=round_)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("brukerplan:report", code=round_.code)


urlpatterns = [
    path("runde/<uuid:code>/rapport/", report_page, name="report"),
    path("runde/<uuid:code>/rapport/fremdrift/", report_progress, name="report_progress"),
    path("runde/<uuid:code>/rapport/rapport.csv", report_csv, name="report_csv"),
    path("runde/<uuid:code>/rapport/rapport.pdf", report_pdf, name="report_pdf"),
    path("runde/<uuid:code>/rapport/beregn-pa-nytt/", report_recompute, name="report_recompute"),
]
