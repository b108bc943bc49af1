"""The insights overview, its CSV and its PDF. Thin: the access helper (insight_scope_or_404: 404
for anyone who may read no insights) → the filter form → the published figures
(selectors.overview_raw → published.publish: suppressed before anything sees them) → a response.

Nothing here is about a person, so nothing is written to the access log; and nothing links a case:
a drill-down goes to a process's own list, where the process's access helper decides."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from consent.pdf import csv_download, pdf_download
from insights import exports
from insights.access import insight_scope_or_404
from insights.forms import OverviewFilterForm
from insights.published import hidden_note, publish
from insights.selectors import overview_raw, own_lists


def _filtered(request):
    """(scope, form, overview or None): None when the filter is invalid."""
    scope = insight_scope_or_404(request.user)
    municipalities = list(scope.municipalities())
    form = OverviewFilterForm(request.GET, scope=scope, municipalities=municipalities)
    if form.is_bound and not form.is_valid():
        return scope, form, None
    flt = form.overview_filter()
    return scope, form, publish(overview_raw(scope, flt), flt)


def _labels(form, overview):
    flt = overview.filter
    municipality = dict(form.fields["municipality"].choices).get(flt.municipality_id) if flt.municipality_id else None
    process = dict(form.fields["process"].choices).get(flt.process) if flt.process else None
    return {"municipality": str(municipality or _("All my municipalities")), "process": str(process or _("All processes"))}


def _invalid(request, form):
    return render(request, "insights/overview.html", {"form": form, "overview": None}, status=400)


@login_required
def overview(request):
    """The overview for the filter in the query string (this year, all by default)."""
    _scope, form, result = _filtered(request)
    if result is None:
        return _invalid(request, form)
    return render(request, "insights/overview.html", {
        "form": form, "overview": result, "labels": _labels(form, result), "hidden_note": hidden_note(),
        "own_lists": own_lists(request.user, result.filter), "query": request.GET.urlencode(),
    })


@login_required
def export_csv(request):
    """The published tables of the filter as CSV (consent.pdf.csv_download)."""
    _scope, form, result = _filtered(request)
    if result is None:
        return _invalid(request, form)
    return csv_download(exports.csv_rows(result, **_labels(form, result)), exports.filename(result, "csv"))


@login_required
def export_pdf(request):
    """The published tables of the filter as an A4 PDF."""
    _scope, form, result = _filtered(request)
    if result is None:
        return _invalid(request, form)
    return pdf_download(exports.overview_pdf(result, **_labels(form, result)), exports.filename(result, "pdf"))
