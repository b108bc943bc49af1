"""The transparency report is reachable by clicking (issue 7, point 11): every page that shows a
person links it to exactly the users the report page lets in (a leader of a service holding a
role with the person), and to no one else.

Personas: the Rådgivning sender and its leader, the coordinator, Tildelingskontoret's caseworker
and its leader (tests/referral_factories.py); barnevern's caseworker and leader, the reporting
barnehage's staff and leader (tests/factories.py); a privacy-function member with no role.
"""
import pytest
from django.conf import settings
from django.urls import reverse

from org.models import Membership, Service
from tests.factories import make_melding, make_service, member
from tests.referral_factories import make_contact, make_referral, make_referral_org

pytestmark = pytest.mark.django_db

LINK = 'data-testid="report-link"'


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _check(client, page_url, person, users):
    """For each user: the link on ``page_url`` is shown exactly when the report opens. Returns
    {name: shown} for the users who could open the page at all."""
    report = reverse("consent:report", args=[person.code])
    shown = {}
    for name, user in users.items():
        client.force_login(user)
        page = client.get(page_url)
        if page.status_code == 404:
            continue
        assert page.status_code == 200, (name, page_url)
        has_link = LINK in page.content.decode()
        allowed = client.get(report).status_code == 200
        assert has_link == allowed, (name, page_url, has_link, allowed)
        if has_link:
            assert reverse("consent:report", args=[person.code]) in page.content.decode()
        shown[name] = has_link
    return shown


class ReferralPagesReportLinkTests:
    @pytest.fixture
    def world(self, db):
        ro = make_referral_org()
        ro.sender_leader = member(ro.radgivning, role=Membership.Role.LEADER)
        ro.tildeling_leader = member(ro.tildeling, role=Membership.Role.LEADER)
        ro.privacy = member(make_service(ro.org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))
        contact = make_contact(ro)
        referral = make_referral(ro, contact=contact)
        return ro, contact, referral

    def _users(self, ro):
        return {
            "sender": ro.sender, "sender_leader": ro.sender_leader, "tildeling": ro.tildeling_staff,
            "tildeling_leader": ro.tildeling_leader, "privacy": ro.privacy, **ro.outsiders,
        }

    def test_it_links_the_report_on_the_referral_page_to_leaders_only(self, client, world):
        ro, contact, referral = world
        shown = _check(client, reverse("referrals:detail", args=[referral.code]), referral.person, self._users(ro))
        assert shown == {"sender": False, "sender_leader": True, "tildeling": False, "tildeling_leader": True}

    def test_it_links_the_report_on_the_contact_and_send_pages(self, client, world):
        ro, contact, referral = world
        for url in (reverse("referrals:contact_detail", args=[contact.code]), reverse("referrals:create", args=[contact.code])):
            shown = _check(client, url, contact.person, self._users(ro))
            assert shown == {"sender": False, "sender_leader": True}, url

    def test_it_links_the_report_on_the_consent_pages(self, client, world):
        ro, contact, referral = world
        consent = referral.consent
        for url in (
            reverse("consent:detail", args=[consent.code]), reverse("consent:person", args=[contact.person.code]),
            reverse("consent:create", args=[contact.person.code]),
        ):
            shown = _check(client, url, contact.person, self._users(ro))
            assert shown.get("sender_leader") is True and shown.get("sender") is False, url
            assert not shown.get("privacy") and not shown.get("nav_staff"), url


class ConcernPageReportLinkTests:
    def test_it_links_the_report_on_the_concern_page_to_leaders_only(self, client, org):
        concern = make_melding(org)
        users = {"caseworker": org.caseworker, "bv_leader": org.bv_leader, "reporter": org.reporter,
                 "reporter_leader": org.reporter_leader, **org.outsiders}
        shown = _check(client, reverse("concerns:detail", args=[concern.code]), concern.person, users)
        assert shown["bv_leader"] is True and shown["caseworker"] is False
        assert shown["reporter"] is False
        assert not any(shown.get(name) for name in org.outsiders)
