"""After login each user lands on their own work (issue 7, point 4), from the registry's landing hooks."""
import dataclasses

from django.urls import reverse

from org.models import Service
from tests.factories import make_service, make_user, member
from tests.referral_factories import make_referral_org
from workflows import processes as registry


def landing(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    return response["Location"]


class LandingTests:
    def test_it_sends_each_role_to_its_own_work(self, client, org):
        assert landing(client, org.reporter) == reverse("concerns:index")
        assert landing(client, org.teacher) == reverse("concerns:index")
        assert landing(client, org.caseworker) == reverse("concerns:intake")
        assert landing(client, org.nav_staff) == reverse("referrals:incoming")

    def test_it_sends_the_slt_coordinator_to_the_insights(self, client, org):
        # SLT works at system level (issue 11): its members start on the insights, not a case list.
        assert landing(client, org.slt_staff) == reverse("insights:index")

    def test_it_sends_the_coordinator_to_the_routing_queue(self, client, db):
        ro = make_referral_org()
        assert landing(client, ro.coordinator) == reverse("referrals:coordinator")
        assert landing(client, ro.sender) == reverse("referrals:incoming")

    def test_it_sends_the_privacy_function_to_its_requests_and_an_administrator_to_the_admin(self, client, org):
        privacy = member(make_service(org.municipality, "Personvernombudet", Service.Kind.PERSONVERN))
        assert landing(client, privacy) == reverse("consent:access_requests")
        assert landing(client, make_user(is_staff=True, is_superuser=True)) == reverse("admin:index")

    def test_it_sends_a_user_without_a_membership_to_their_notifications(self, client, org):
        target = landing(client, make_user())
        assert target == reverse("notifications:index")
        assert client.get(target).status_code == 200

    def test_it_takes_the_first_landing_of_the_registry(self, client, org, monkeypatch):
        first = dataclasses.replace(registry.process_named("referral"), name="youth_contract",
                                    landing="tests.workflows.test_home.youth_landing")
        monkeypatch.setattr(registry, "REGISTRY", [first, *registry.REGISTRY])
        assert landing(client, org.caseworker) == reverse("referrals:catalogue")

    def test_it_asks_an_anonymous_visitor_to_log_in(self, client, db):
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def youth_landing(kinds):
    return "referrals:catalogue"
