"""Consent pages, the FHIR export and the person's transparency report.

Thin: access helper → one service → redirect. Every page that shows a person's data writes an
access-log row; the export and the report are logged as "export".
"""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import submission
from audit.services import access_log_write
from consent import forms
from consent.fhir import person_consents_bundle
from consent.pdf import csv_download, pdf_download
from consent.models import AgeRule, Consent, ReconsentTask
from consent.reports import access_log_csv_rows, status_label, transparency_report, transparency_report_pdf
from consent.selectors import (
    age_rule_for,
    consent_status,
    consents_for_page,
    consents_recorded_list,
    disclosure_pending_get_for_leader,
    disclosures_pending_with_subjects,
    guardians_named,
    judged_status,
    person_consents_for_user,
    person_consents_page,
    reconsent_tasks_list,
)
from consent.resting import open_cases_on_consent
from consent.services import consent_record, disclosure_approve, disclosure_reject
from consent.access import consent_get_for_user
from org.access import is_active_member, leads_a_service, user_services
from people.access import person_acting_service, person_get_for_user
from org.links import RowLinks
from org.models import Service
from people.models import Person
from people.selectors import person_name_for
from org.ui import apply_errors

REPORT_ACCESS_ROWS = 200


def _is_report_leader(user, person) -> bool:
    return person_acting_service(user, person, leader=True) is not None


@login_required
def consent_list(request):
    rows, next_cursor = consents_recorded_list(request.user, cursor=request.GET.get("etter"))
    return render(request, "consent/consent_list.html", {"rows": rows, "next_cursor": next_cursor, "today": timezone.localdate()})


@login_required
def person_consents(request, code):
    person = person_get_for_user(request.user, code)
    acting_service = person_acting_service(request.user, person)
    access_log_write(
        user=request.user, action="view", obj=person, person=person, purpose="consents of the person",
        service=acting_service,
    )
    consents, next_cursor = person_consents_page(request.user, person, cursor=request.GET.get("etter"))
    detail_link = RowLinks(lambda code: reverse("consent:detail", args=[code]))
    for c in consents:
        c.status_label = status_label(c.status)
        c.detail_url = detail_link(c.code) if c.manageable else None
    ctx = {
        "person": person, "consents": consents, "next_cursor": next_cursor, "age": person.age_on(timezone.localdate()),
        "acting_service": acting_service,
        # Only a leader can be the report's leader: no query for anyone else.
        "can_report": leads_a_service(request.user) and _is_report_leader(request.user, person),
        "can_record": is_active_member(request.user),
    }
    return render(request, "consent/person_consents.html", ctx)


def _consent_form(request, person, data=None, initial=None):
    user_service_ids = user_services(request.user).values("pk")
    municipality_ids = list(Service.objects.filter(pk__in=user_service_ids).values_list("municipality_id", flat=True))
    if person.municipality_id:
        municipality_ids.append(person.municipality_id)
    grantees = Service.objects.filter(active=True, municipality_id__in=municipality_ids).order_by("name")
    # The registered guardians, named as the user's service registered them; a guardian it holds no
    # record of is "registered guardian n": another service's record of the name is its own data.
    acting = person_acting_service(request.user, person)
    guardians = Person.objects.filter(guardian_of__child=person).order_by("pk")
    form = forms.ConsentForm(
        data, initial=initial, services=user_services(request.user), guardians=guardians, grantees=grantees, submitted_by=request.user,
    )
    if "guardians" in form.fields:
        form.fields["guardians"].service = acting
    return form


def _renewed_consent(request, person, code) -> Consent | None:
    """The consent a new one renews (from a re-consent task), if the user's service manages it."""
    if not code:
        return None
    consent = consent_get_for_user(request.user, code)
    if consent.person_id != person.pk:
        raise Http404
    return consent


@login_required
@submission.once
def consent_create(request, code):
    person = person_get_for_user(request.user, code)
    renews_code = request.POST.get("renews") if request.method == "POST" else request.GET.get("fornyer")
    renews = _renewed_consent(request, person, renews_code)
    initial = None
    if renews is not None:
        initial = {
            "renews": renews.code, "service": renews.recorded_by_service_id, "domain": renews.domain, "purpose": renews.purpose,
            "information": renews.information, "grantees": list(renews.grantees.values_list("pk", flat=True)),
            "method": renews.method, "given_by_person": True,
        }
    form = _consent_form(request, person, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                consent = consent_record(
                    user=request.user, service=d["service"], person=person, purpose=d["purpose"], information=d["information"],
                    grantees=list(d["grantees"]), valid_from=d["valid_from"], valid_to=d["valid_to"], method=d["method"],
                    given_by_person=d["given_by_person"], guardians=list(d["guardians"]), domain=d["domain"], renews=renews,
                )
                sent.leads_to(reverse("consent:detail", args=[consent.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The consent has been recorded."))
            return redirect("consent:detail", consent.code)
    access_log_write(
        user=request.user, action="view", obj=person, person=person, purpose="consent form",
        service=person_acting_service(request.user, person),
    )
    ctx = {
        "form": form, "person": person, "renews": renews, "age": person.age_on(timezone.localdate()),
        "acting_service": person_acting_service(request.user, person),
        "rules": [(label, age_rule_for(domain=domain, age=person.age_on(timezone.localdate()))) for domain, label in AgeRule.Domain.choices],
    }
    return render(request, "consent/consent_form.html", ctx, status=422 if request.method == "POST" else 200)


def detail_context(request, consent, withdraw_form=None):
    """The consent page's context; also the withdrawal page's (workflows.views_consent), which re-shows
    this page with its form's errors."""
    person = consent.person
    if hasattr(consent, "judged_on"):
        # Read with the page's facts (consent.selectors.consents_for_page): no query for them.
        today = consent.judged_on
        status = judged_status(consent)
        person_label = f"{consent.person_given or ''} {consent.person_family or ''}".strip()
    else:
        today = timezone.localdate()
        status = consent_status(consent, on=today)
        person_label = person_name_for(person, consent.recorded_by_service)
    age = person.age_on(today)
    ctx = {
        "consent": consent, "person": person, "age": age, "status": status, "status_label": status_label(status),
        "person_label": person_label or "–",  # people_tags.person_name
        "guardians": guardians_named(consent), "grantees": list(consent.grantees.all()),
        # Shown only when the consent must be renewed: read only then.
        "rule": SimpleLazyObject(lambda: age_rule_for(domain=consent.domain, age=age)),
        "disclosures": list(consent.disclosures.select_related("to_service", "from_service").order_by("-disclosed_at", "-id")),
        "open_cases": open_cases_on_consent(consent),
        "open_tasks": list(ReconsentTask.objects.filter(consent=consent, done_at__isnull=True).order_by("age")),
    }
    if consent.withdrawn_at is None:
        ctx["withdraw_form"] = withdraw_form or forms.WithdrawForm()
    return ctx


@login_required
def consent_detail(request, code):
    consent = consent_get_for_user(request.user, code, queryset=consents_for_page(on=timezone.localdate()))
    access_log_write(
        user=request.user, action="view", obj=consent, person=consent.person, purpose="consent page",
        service=consent.recorded_by_service,
    )
    return render(request, "consent/consent_detail.html", detail_context(request, consent))


@login_required
def reconsent_list(request):
    show_all = request.GET.get("vis") == "alle"
    rows, next_cursor = reconsent_tasks_list(request.user, include_done=show_all, cursor=request.GET.get("etter"))
    return render(request, "consent/reconsent_list.html", {"rows": rows, "next_cursor": next_cursor, "show_all": show_all})


def _decision_form(pk, data=None):
    # One form per row on the page: distinct ids keep the labels unambiguous.
    return forms.DisclosureDecisionForm(data, initial={"disclosure": pk}, auto_id=f"id_d{pk}_%s")


def _approvals_page(request, form=None, status=200):
    rows = disclosures_pending_with_subjects(request.user)
    for row in rows:
        row.form = form if form is not None and str(form.data.get("disclosure")) == str(row.pk) else _decision_form(row.pk)
    return render(request, "consent/approval_list.html", {"rows": rows}, status=status)


@login_required
def approval_list(request):
    """Disclosures on a legal basis that waits for a leader of the user's services to approve it."""
    return _approvals_page(request)


@login_required
@require_POST
def approval_decide(request):
    """Approve or reject one pending disclosure (the user must lead its sending service: else 404)."""
    disclosure = disclosure_pending_get_for_leader(request.user, request.POST.get("disclosure"))
    form = _decision_form(disclosure.pk, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            if d["decision"] == "approve":
                disclosure_approve(disclosure=disclosure, user=request.user)
            else:
                disclosure_reject(disclosure=disclosure, user=request.user, reason=d["reason"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The disclosure has been approved; the recipient has it now.") if d["decision"] == "approve"
                             else _("The disclosure was not approved; nothing has been shared."))
            return redirect("consent:approvals")
    return _approvals_page(request, form, status=422)


@login_required
def age_rule_list(request):
    rules = list(AgeRule.objects.order_by("domain", "from_age"))
    return render(request, "consent/age_rules.html", {"rules": rules})


@login_required
def person_fhir_export(request, code):
    """The consents the user's services can see, as a FHIR R5 Bundle to download."""
    person = person_get_for_user(request.user, code)
    access_log_write(
        user=request.user, action="export", obj=person, person=person, purpose="consents exported (FHIR)",
        service=person_acting_service(request.user, person),
    )
    bundle = person_consents_bundle(
        person, consents=person_consents_for_user(request.user, person),
        own_service_ids=set(user_services(request.user).values_list("pk", flat=True)),
    )
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False, indent=2), content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="samtykker-{str(person.code)[:8]}.json"'
    response["Cache-Control"] = "no-store"
    return response


def _report_person(request, code):
    """The person and the leader's service: a leader sees only that service's own handling of
    the person (the full report is the privacy function's, on a registered request)."""
    person = person_get_for_user(request.user, code, leader=True)
    service = person_acting_service(request.user, person, leader=True)
    access_log_write(
        user=request.user, action="export", obj=person, person=person, purpose="transparency report (GDPR art. 15)",
        service=service,
    )
    return person, service


@login_required
def person_report(request, code):
    person, service = _report_person(request, code)
    report = transparency_report(person, service=service, access_limit=REPORT_ACCESS_ROWS)
    return render(request, "consent/person_report.html", {"report": report, "person": person})


@login_required
def person_report_pdf(request, code):
    person, service = _report_person(request, code)
    report = transparency_report(person, service=service, access_by_day=True)
    return pdf_download(transparency_report_pdf(report), f"innsyn-{str(person.code)[:8]}.pdf")


@login_required
def person_report_csv(request, code):
    """Every access-log entry of the service's own handling of the person, streamed."""
    person, service = _report_person(request, code)
    return csv_download(access_log_csv_rows(person, service=service), f"innsyn-{str(person.code)[:8]}.csv")
