"""The substance-policy plan's pages: the plans, a plan with its measures and their status counts, a
new or changed plan or measure, a measure with its evaluations, its evaluation, and the export for
the annual report (CSV and PDF). Thin: the access helper (measure_selectors: 404 for missing and
forbidden alike) → one service call (insights.measures) → redirect; an invalid form is shown again
with the service's translated errors (status 422) and nothing is saved. Nothing here is a person's
data: nothing is written to the access log.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from consent.pdf import csv_download, pdf_download
from insights import measure_document
from insights import measure_forms as forms
from insights import measure_selectors as sel
from insights import measures as svc
from insights.access import insight_scope
from org.ui import form_apply


def _form_page(request, template, context):
    """A form page; shown again after a POST only when it was refused (422)."""
    return render(request, template, context, status=422 if request.method == "POST" else 200)


@login_required
def measure_list(request):
    """The plans the user may read; "new plan" for the staff of an SLT service. 404 for a user with
    neither insights nor a plan to read (like every insights page)."""
    plans = list(sel.plans_for_user(request.user)[:100])
    may_set_up = sel.may_set_up_plans(request.user)
    if not plans and not may_set_up and insight_scope(request.user) is None:
        raise Http404
    return render(request, "insights/measures/plan_list.html", {"plans": plans, "may_set_up": may_set_up})


@login_required
def policy_plan_new(request):
    """Set up a plan, kept by one of the user's SLT services."""
    if not sel.may_set_up_plans(request.user):
        raise Http404
    choices = sel.plan_setup_choices(request.user)
    form = forms.PlanForm(request.POST or None, owners=choices["owners"], municipalities=choices["municipalities"])
    made = {}

    def action():
        d = form.cleaned_data
        made["plan"] = svc.policy_plan_create(user=request.user, municipality=d["municipality"], owner_service=d["owner_service"],
                                              title=d["title"], from_year=d["from_year"], to_year=d["to_year"])

    if request.method == "POST" and form_apply(request, form, action, success=gettext_lazy("The plan has been set up.")):
        return redirect("insights:policy_plan", made["plan"].code)
    return _form_page(request, "insights/measures/plan_form.html", {"form": form, "plan": None})


@login_required
def policy_plan(request, code):
    """A plan: its measures in the plan's order, their status counts, the export links."""
    plan, roles = sel.plan_get_for_user(request.user, code)
    rows = sel.plan_measures(plan)
    return render(request, "insights/measures/plan_detail.html", {
        "plan": plan, "rows": rows, "counts": sel.status_counts(rows), "is_owner": sel.OWNER in roles, "opens": sel.openable_measure_ids(request.user, roles, rows),
    })


@login_required
def policy_plan_edit(request, code):
    """Change the plan's title and period (its owner's staff)."""
    plan, roles = sel.plan_get_for_user(request.user, code)
    if sel.OWNER not in roles:
        raise Http404
    form = forms.PlanForm(request.POST or None, initial={"title": plan.title, "from_year": plan.from_year, "to_year": plan.to_year})

    def action():
        d = form.cleaned_data
        svc.policy_plan_update(user=request.user, plan=plan, title=d["title"], from_year=d["from_year"], to_year=d["to_year"])

    if request.method == "POST" and form_apply(request, form, action, success=gettext_lazy("The plan has been changed.")):
        return redirect("insights:policy_plan", plan.code)
    return _form_page(request, "insights/measures/plan_form.html", {"form": form, "plan": plan})


@login_required
def measure_new(request, code):
    """Add a measure to the plan (its owner's staff)."""
    plan, roles = sel.plan_get_for_user(request.user, code)
    if sel.OWNER not in roles:
        raise Http404
    form = forms.MeasureForm(request.POST or None, services=sel.measure_service_choices(plan))

    def action():
        d = form.cleaned_data
        svc.measure_create(user=request.user, plan=plan, number=d["number"], text=d["text"], theme=d["theme"], partners=d["partners"],
                           responsible_service=d["responsible_service"], co_responsible=list(d["co_responsible"]), status=d["status"],
                           evaluation_month=d["evaluation_month"], evaluation_day=d["evaluation_day"])

    if request.method == "POST" and form_apply(request, form, action, success=gettext_lazy("The measure has been added.")):
        return redirect("insights:policy_plan", plan.code)
    return _form_page(request, "insights/measures/measure_form.html", {"form": form, "plan": plan, "measure": None})


@login_required
def measure(request, code):
    """A measure, its services and its evaluations (its owner, responsible and co-responsible services)."""
    measure, roles = sel.measure_get_for_user(request.user, code)
    return render(request, "insights/measures/measure_detail.html", {
        "measure": measure, "plan": measure.plan, "evaluations": sel.measure_evaluations(measure),
        "is_owner": sel.OWNER in roles, "may_evaluate": sel.may_evaluate(roles) and not measure.is_closed,
        "next_year": svc.next_evaluation_year(measure),
    })


@login_required
def measure_edit(request, code):
    """Change a measure (the plan owner's staff); a form older than the measure is refused."""
    measure, _roles = sel.measure_get_for_user(request.user, code, need=frozenset({sel.OWNER}))
    plan = measure.plan
    form = forms.MeasureForm(request.POST or None, initial=forms.MeasureForm.initial_for(measure), services=sel.measure_service_choices(plan))

    def action():
        d = form.cleaned_data
        svc.measure_update(user=request.user, measure=measure, version=d["version"], number=d["number"], text=d["text"], theme=d["theme"],
                           partners=d["partners"], responsible_service=d["responsible_service"], co_responsible=list(d["co_responsible"]),
                           status=d["status"], evaluation_month=d["evaluation_month"], evaluation_day=d["evaluation_day"])

    if request.method == "POST" and form_apply(request, form, action, success=gettext_lazy("The measure has been changed.")):
        return redirect("insights:measure", measure.code)
    return _form_page(request, "insights/measures/measure_form.html", {"form": form, "plan": plan, "measure": measure})


@login_required
def measure_evaluate(request, code):
    """Record the measure's evaluation for a year (its responsible service's staff, or the plan's owner)."""
    measure, _roles = sel.measure_get_for_user(request.user, code, need=frozenset({sel.OWNER, sel.RESPONSIBLE}))
    plan = measure.plan
    this_year = timezone.localdate().year
    years = [y for y in range(plan.to_year, plan.from_year - 1, -1) if y <= this_year]
    initial = {"version": measure.version, "status": measure.status, "year": sel.evaluation_year_default(measure, timezone.localdate())}
    form = forms.EvaluationForm(request.POST or None, years=years, initial=initial)

    def action():
        d = form.cleaned_data
        svc.measure_evaluate(user=request.user, measure=measure, version=d["version"], year=d["year"], status=d["status"], text=d["text"])

    if request.method == "POST" and form_apply(request, form, action, success=gettext_lazy("The evaluation has been recorded.")):
        return redirect("insights:measure", measure.code)
    return _form_page(request, "insights/measures/evaluate.html", {"form": form, "plan": plan, "measure": measure})


@login_required
def policy_plan_csv(request, code):
    """Every measure of the plan with its status and latest evaluation, as CSV (semicolon-separated,
    UTF-8 with a byte-order mark, as the other exports)."""
    plan, _roles = sel.plan_get_for_user(request.user, code)
    return csv_download(measure_document.csv_rows(plan, sel.plan_measures(plan)), measure_document.filename(plan, "csv"))


@login_required
def policy_plan_pdf(request, code):
    """The same as an A4 PDF."""
    plan, _roles = sel.plan_get_for_user(request.user, code)
    return pdf_download(measure_document.measures_pdf(plan, sel.plan_measures(plan)), measure_document.filename(plan, "pdf"))
