"""URLs of the consent pages (record, detail, withdraw, FHIR export) and the person's transparency report."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application


class ConsentApp(Application):
    app_name = "consent"
    title = _("Consent")
    icon = "verified_user"
    menu_template_name = "samhandling/menu_concerns.html"

    # Filled in by the consent UI: detail, withdraw, record (per person), fhir export, person report (+pdf) …
