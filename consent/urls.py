"""URLs of the consent pages (record, detail, withdraw, FHIR export) and the person's transparency report.

Only random codes appear in the paths, never a name or an identity number.
"""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from consent import views, views_access_request


class ConsentApp(Application):
    app_name = "consent"
    title = _("Consent")
    icon = "verified_user"
    menu_template_name = "samhandling/menu_consent.html"

    index_path = path("", views.consent_list, name="index")
    reconsent_path = path("fornying/", views.reconsent_list, name="reconsent")
    age_rules_path = path("aldersregler/", views.age_rule_list, name="age_rules")
    approvals_path = path("godkjenning/", views.approval_list, name="approvals")
    approval_decide_path = path("godkjenning/avgjor/", views.approval_decide, name="approval_decide")
    detail_path = path("<uuid:code>/", views.consent_detail, name="detail")
    # withdraw_path is added in config/urls.py: the view lives in workflows (it cancels referrals too).
    person_path = path("person/<uuid:code>/", views.person_consents, name="person")
    create_path = path("person/<uuid:code>/ny/", views.consent_create, name="create")
    fhir_path = path("person/<uuid:code>/fhir/", views.person_fhir_export, name="fhir")
    report_path = path("person/<uuid:code>/innsyn/", views.person_report, name="report")
    report_pdf_path = path("person/<uuid:code>/innsyn/pdf/", views.person_report_pdf, name="report_pdf")
    report_csv_path = path("person/<uuid:code>/innsyn/csv/", views.person_report_csv, name="report_csv")
    # The privacy function: access requests and the full report (GDPR art. 15).
    access_requests_path = path("innsynskrav/", views_access_request.access_request_list, name="access_requests")
    access_request_path = path("innsynskrav/<uuid:code>/", views_access_request.access_request_detail, name="access_request")
    access_request_pdf_path = path("innsynskrav/<uuid:code>/pdf/", views_access_request.access_request_pdf, name="access_request_pdf")
    access_request_csv_path = path("innsynskrav/<uuid:code>/csv/", views_access_request.access_request_csv, name="access_request_csv")
    access_request_answer_path = path(
        "innsynskrav/<uuid:code>/besvart/", views_access_request.access_request_mark_answered, name="access_request_answer"
    )
