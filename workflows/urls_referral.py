"""URLs of the referral pages (contacts, catalogue, referrals, coordinator view, statistics)."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application


class ReferralsApp(Application):
    app_name = "referrals"
    title = _("Referrals")
    icon = "alt_route"
    menu_template_name = "samhandling/menu_concerns.html"

    # Filled in by the referral UI: index, catalogue, contact_*, create, detail, action, routing, stats …
