"""URLs of the youth contract pages. Contracts are addressed by their ``code`` UUID only."""
from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from workflows.youth_contract import views
from workflows.youth_contract.services import FOLLOWUP_KINDS, INITIATOR_KINDS


class YouthContractsApp(Application):
    app_name = "youth_contracts"
    title = _("Youth contracts")
    icon = "handshake"
    menu_template_name = "samhandling/menu_youth_contracts.html"

    index_path = path("", views.contract_list, name="index")
    initiate_path = path("ny/", views.contract_initiate, name="initiate")
    week_path = path("uke/", views.week, name="week")
    feed_renew_path = path("kalender/ny/", views.feed_renew, name="feed_renew")
    feed_revoke_path = path("kalender/stopp/", views.feed_revoke, name="feed_revoke")
    detail_path = path("<uuid:code>/", views.contract_detail, name="detail")
    action_path = path("<uuid:code>/handling/<slug:action>/", views.contract_action, name="action")


def landing(kinds: set[str]) -> str | None:
    """The contracts list for any service that takes part in youth contracts. Who starts here is the
    registry's choice: the police, whose kind the process claims (``home_kinds``), ask it first;
    every other service reaches it only if no process before it in the registry has a page for them."""
    return "youth_contracts:index" if kinds & (INITIATOR_KINDS | FOLLOWUP_KINDS) else None


def menu_flags(facts) -> dict[str, bool]:
    """The contracts section (``facts``: org.access.MemberFacts): to the police, the follow-up
    services and the other initiators."""
    kinds = facts.kinds
    return {
        "youth_contracts": bool(kinds & (INITIATOR_KINDS | FOLLOWUP_KINDS)),
        "youth_contract_initiate": bool(kinds & INITIATOR_KINDS),
        "youth_contract_followup": bool(kinds & FOLLOWUP_KINDS),
    }
