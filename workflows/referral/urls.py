"""URLs of the referral pages (contacts, catalogue, referrals, coordinator view, statistics).

Objects are addressed by their ``code`` UUID only; no name or identity number is ever in a URL.
"""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from org.models import Service
from workflows.referral import views
from workflows.referral.services import ROUTING_KINDS


class ReferralsApp(Application):
    app_name = "referrals"
    title = _("Referrals")
    icon = "alt_route"
    menu_template_name = "samhandling/menu_referrals.html"

    index_path = path("", views.referral_sent_list, name="index")
    incoming_path = path("innkommende/", views.referral_incoming_list, name="incoming")
    catalogue_path = path("katalog/", views.catalogue_search, name="catalogue")
    coordinator_path = path("koordinator/", views.coordinator, name="coordinator")
    coordinator_list_path = path("koordinator/liste/", views.coordinator_list, name="coordinator_list")
    stats_path = path("statistikk/", views.referral_stats, name="stats")
    stats_csv_path = path("statistikk/<slug:table>.csv", views.referral_stats_csv, name="stats_csv")
    contact_list_path = path("kontakter/", views.contact_list, name="contacts")
    contact_create_path = path("kontakter/ny/", views.contact_create, name="contact_create")
    contact_detail_path = path("kontakter/<uuid:code>/", views.contact_detail, name="contact_detail")
    contact_identify_path = path("kontakter/<uuid:code>/identifiser/", views.contact_identify, name="contact_identify")
    contact_consent_path = path("kontakter/<uuid:code>/samtykke/", views.contact_consent, name="contact_consent")
    create_path = path("kontakter/<uuid:code>/henvis/", views.referral_create, name="create")
    detail_path = path("<uuid:code>/", views.referral_detail, name="detail")
    action_path = path("<uuid:code>/handling/<slug:action>/", views.referral_action, name="action")


def landing(kinds: set[str]) -> str | None:
    """A routing service's coordinator starts on the routing queue; any other service on the
    referrals that came to it."""
    if kinds & set(ROUTING_KINDS):
        return "referrals:coordinator"
    return "referrals:incoming" if kinds - {Service.Kind.PERSONVERN} else None


def menu_flags(facts) -> dict[str, bool]:
    """Which referral sections the menu shows (``facts``: org.access.MemberFacts): the referral pages
    (and the consents they rest on) to every service but the privacy function, the coordinator's
    pages to a routing service."""
    kinds = facts.kinds
    return {
        "uses_referrals": bool(kinds - {Service.Kind.PERSONVERN}),
        "coordinator": bool(kinds & set(ROUTING_KINDS)),
    }
