"""Consent pages, the FHIR export and the person's transparency report.

Thin: access helper → one service → redirect. Every page that shows a person's data writes an
access-log row; the export and the report are logged as "export".
"""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log_write
from consent import forms
from consent.fhir import person_consents_bundle
from consent.models import AgeRule, Consent, ReconsentTask
from consent.reports import status_label, transparency_report, transparency_report_pdf
from consent.selectors import (
    age_rule_for,
    consent_status,
    consents_recorded_list,
    person_consents_for_user,
    reconsent_tasks_list,
)
from consent.services import consent_record, reconsent_task_done
from referrals.access import consent_get_for_user, person_acting_service, person_get_for_user, user_services
from referrals.models import Person, Referral, Service
from referrals.ui import apply_errors

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
    access_log_write(
        user=request.user, action="view", obj=person, person=person, purpose="consents of the person",
        service=person_acting_service(request.user, person),
    )
    consents = person_consents_for_user(request.user, person)
    for c in consents:
        c.status_label = status_label(c.status)
    ctx = {
        "person": person, "consents": consents, "age": person.age_on(timezone.localdate()),
        "can_report": _is_report_leader(request.user, person),
        "can_record": user_services(request.user).exists(),
    }
    return render(request, "consent/person_consents.html", ctx)


def _consent_form(request, person, data=None, initial=None):
    user_service_ids = user_services(request.user).values("pk")
    municipality_ids = list(Service.objects.filter(pk__in=user_service_ids).values_list("municipality_id", flat=True))
    if person.municipality_id:
        municipality_ids.append(person.municipality_id)
    grantees = Service.objects.filter(active=True, municipality_id__in=municipality_ids).order_by("name")
    guardians = Person.objects.filter(guardian_of__child=person).order_by("given_name", "family_name")
    return forms.ConsentForm(data, initial=initial, services=user_services(request.user), guardians=guardians, grantees=grantees)


def _renewed_consent(request, person, code) -> Consent | None:
    """The consent a new one renews (from a re-consent task), if the user's service manages it."""
    if not code:
        return None
    consent = consent_get_for_user(request.user, code)
    if consent.person_id != person.pk:
        raise Http404
    return consent


@login_required
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
            with transaction.atomic():
                consent = consent_record(
                    user=request.user, service=d["service"], person=person, purpose=d["purpose"], information=d["information"],
                    grantees=list(d["grantees"]), valid_from=d["valid_from"], valid_to=d["valid_to"], method=d["method"],
                    given_by_person=d["given_by_person"], guardians=list(d["guardians"]), domain=d["domain"],
                )
                if renews is not None:
                    reconsent_task_done(consent=renews, user=request.user, new_consent=consent)
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
        "rules": [(label, age_rule_for(domain=domain, age=person.age_on(timezone.localdate()))) for domain, label in AgeRule.Domain.choices],
    }
    return render(request, "consent/consent_form.html", ctx, status=422 if request.method == "POST" else 200)


def _detail_context(request, consent, withdraw_form=None):
    today = timezone.localdate()
    status = consent_status(consent, on=today)
    person = consent.person
    age = person.age_on(today)
    ctx = {
        "consent": consent, "person": person, "age": age, "status": status, "status_label": status_label(status),
        "guardians": list(consent.guardians.all()), "grantees": list(consent.grantees.all()),
        "rule": age_rule_for(domain=consent.domain, age=age),
        "disclosures": list(consent.disclosures.select_related("to_service", "from_service").order_by("-disclosed_at", "-id")),
        "open_referrals": Referral.objects.filter(
            Q(consent=consent) | Q(pk__in=consent.disclosures.filter(revoked_at__isnull=True, subject_type__model="referral").values("subject_id"))
        ).filter(status__in=Referral.OPEN_STATUSES).count(),
        "open_tasks": list(ReconsentTask.objects.filter(consent=consent, done_at__isnull=True).order_by("age")),
    }
    if consent.withdrawn_at is None:
        ctx["withdraw_form"] = withdraw_form or forms.WithdrawForm()
    return ctx


@login_required
def consent_detail(request, code):
    consent = consent_get_for_user(request.user, code)
    access_log_write(
        user=request.user, action="view", obj=consent, person=consent.person, purpose="consent page",
        service=consent.recorded_by_service,
    )
    return render(request, "consent/consent_detail.html", _detail_context(request, consent))


@login_required
def reconsent_list(request):
    show_all = request.GET.get("vis") == "alle"
    rows, next_cursor = reconsent_tasks_list(request.user, include_done=show_all, cursor=request.GET.get("etter"))
    return render(request, "consent/reconsent_list.html", {"rows": rows, "next_cursor": next_cursor, "show_all": show_all})


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
    bundle = person_consents_bundle(person, consents=person_consents_for_user(request.user, person))
    response = HttpResponse(json.dumps(bundle, ensure_ascii=False, indent=2), content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="samtykker-{str(person.code)[:8]}.json"'
    response["Cache-Control"] = "no-store"
    return response


def _report_person(request, code):
    person = person_get_for_user(request.user, code, leader=True)
    access_log_write(
        user=request.user, action="export", obj=person, person=person, purpose="transparency report (GDPR art. 15)",
        service=person_acting_service(request.user, person, leader=True),
    )
    return person


@login_required
def person_report(request, code):
    person = _report_person(request, code)
    report = transparency_report(person, access_limit=REPORT_ACCESS_ROWS)
    return render(request, "consent/person_report.html", {"report": report, "person": person})


@login_required
def person_report_pdf(request, code):
    person = _report_person(request, code)
    pdf = transparency_report_pdf(transparency_report(person))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="innsyn-{str(person.code)[:8]}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
