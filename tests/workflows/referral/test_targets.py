"""Which services a referral may go to (issue 7, point 10): the coordinator's own routing queue on
a consent it recorded, and the route / forward / send choices narrowed to the catalogue entries
that take the referral's kind at the person's age; a forged choice outside them changes nothing.

Personas: see tests/referral_factories.py. Besides them a barnehage and the police have catalogue
entries that take no referral (as in the demo), and NAV takes work referrals only.
"""
import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from consent.models import Consent, Disclosure
from org.models import Service
from referrals.models import Referral, ReferralEvent, ReferralKind
from tests.factories import make_service
from tests.referral_factories import catalogue_entry, make_contact, make_referral, make_referral_org
from workflows.referral import selectors
from workflows.referral import services as svc
from workflows.referral.forms import ForwardForm, RouteForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def ro(db):
    ro = make_referral_org()
    catalogue_entry(ro.org.barnehage, accepts=[], min_age=1, max_age=5, referral_required=False)
    police = make_service(ro.org.municipality, "Politistasjonen", Service.Kind.POLITI, Service.Owner.STATE)
    catalogue_entry(police, accepts=[], referral_required=False)
    ro.police = police
    return ro


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _choices(form):
    return set(form.fields["target_service"].queryset)


def _consent_post(ro, grantees):
    return {
        "purpose": "referral", "grantees": [s.pk for s in grantees], "information": "Navn og alder.",
        "given_by_person": "on", "domain": "health", "method": "verbal", "valid_from": datetime.date.today().isoformat(),
    }


class CoordinatorOwnQueueTests:
    def test_it_lets_the_coordinator_name_its_own_service_and_refer_to_its_own_queue(self, client, ro):
        contact = svc.contact_register(user=ro.coordinator, service=ro.rus, given_name="Kari", approx_age=34)
        client.force_login(ro.coordinator)
        page = client.get(reverse("referrals:contact_detail", args=[contact.code])).content.decode()
        assert f'value="{ro.rus.pk}"' in page  # its own routing service is a recipient on offer

        response = client.post(reverse("referrals:contact_consent", args=[contact.code]), _consent_post(ro, [ro.rus, ro.tildeling]))
        assert response.status_code == 302
        consent = contact.person.consents.get()
        assert set(consent.grantees.all()) == {ro.rus, ro.tildeling}

        response = client.post(reverse("referrals:create", args=[contact.code]), {
            "destination": "coordinator", "routing_service": ro.rus.pk, "kind": "substance", "reason": "Ønsker hjelp.",
            "basis": "consent", "consent": consent.pk,
        })
        assert response.status_code == 302
        referral = Referral.objects.get()
        assert (referral.routing_service, referral.target_service, referral.status) == (ro.rus, None, Referral.Status.REQUESTED)
        rows = selectors.routing_queue(ro.coordinator).rows
        assert [r.pk for r in rows] == [referral.pk]

    def test_it_still_leaves_out_a_service_that_routes_nothing_from_its_own_consents(self, client, ro):
        contact = make_contact(ro)
        client.force_login(ro.sender)
        page = client.get(reverse("referrals:contact_detail", args=[contact.code])).content.decode()
        assert f'name="grantees" value="{ro.radgivning.pk}"' not in page
        assert f'name="grantees" value="{ro.rus.pk}"' in page


class TargetChoicesTests:
    def test_it_offers_exactly_the_services_that_would_take_the_referral(self, ro):
        for kind, age in [(ReferralKind.SUBSTANCE, 34), (ReferralKind.SUBSTANCE, 16), (ReferralKind.WORK, 20), (ReferralKind.HOUSING, 17)]:
            contact = make_contact(ro, age=age)
            offered = set(selectors.referral_targets(person=contact.person, kind=kind))
            for service in Service.objects.filter(catalogue__isnull=False):
                eligible = not svc.eligibility_errors(service=service, person=contact.person, kind=kind)
                assert (service in offered) == eligible, (kind, age, service.name)

    def test_it_routes_only_to_services_taking_the_kind_at_the_persons_age(self, ro):
        referral = make_referral(ro, contact=make_contact(ro, age=34), via_coordinator=True)
        offered = _choices(RouteForm(referral=referral))
        assert offered == {ro.rus, ro.tildeling, ro.rask}
        assert not offered & {ro.org.barnehage, ro.police, ro.org.nav, ro.radgivning}

        young = make_referral(ro, contact=make_contact(ro, age=16), via_coordinator=True)
        assert _choices(RouteForm(referral=young)) == {ro.rus, ro.rask}  # Tildelingskontoret takes 18+

    def test_it_forwards_only_to_services_taking_the_kind_at_the_persons_age(self, ro):
        referral = make_referral(ro, contact=make_contact(ro, age=34), via_coordinator=True)
        svc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        svc.referral_decline(referral=referral, user=ro.tildeling_staff, reason="Feil tjeneste.")
        referral.refresh_from_db()
        offered = _choices(ForwardForm(referral=referral))
        assert offered == {ro.rus, ro.rask}
        assert not offered & {ro.org.barnehage, ro.police, ro.org.nav, ro.tildeling, ro.radgivning}

    def test_it_offers_no_barnehage_or_police_on_the_send_form(self, client, ro):
        contact = make_contact(ro, age=4)
        client.force_login(ro.sender)
        page = client.get(reverse("referrals:create", args=[contact.code])).content.decode()
        for service in (ro.org.barnehage, ro.police):
            assert f'<option value="{service.pk}"' not in page


class ForgedTargetTests:
    def _queued(self, ro):
        return make_referral(ro, contact=make_contact(ro, age=34), via_coordinator=True)

    def test_it_refuses_a_forged_route_and_changes_nothing(self, client, ro):
        referral = self._queued(ro)
        disclosures, events = Disclosure.objects.count(), ReferralEvent.objects.count()
        client.force_login(ro.coordinator)
        for forged in (ro.org.barnehage, ro.police, ro.org.nav):
            response = client.post(reverse("referrals:action", args=[referral.code, "route"]), {
                "route-target_service": forged.pk, "route-basis": "consent",
            })
            assert response.status_code == 422
            assert "only a service in the catalogue that takes this kind of referral" in response.content.decode()
        referral.refresh_from_db()
        assert (referral.target_service, referral.status) == (None, Referral.Status.REQUESTED)
        assert (Disclosure.objects.count(), ReferralEvent.objects.count()) == (disclosures, events)

    def test_it_says_so_in_bokmaal_too(self, client, ro):
        referral = self._queued(ro)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
        client.force_login(ro.coordinator)
        response = client.post(reverse("referrals:action", args=[referral.code, "route"]), {
            "route-target_service": ro.police.pk, "route-basis": "consent",
        })
        assert response.status_code == 422
        assert 'class="errorlist' in response.content.decode()
        assert Referral.objects.get(pk=referral.pk).target_service is None

    def test_it_refuses_a_forged_forward_and_sends_nothing(self, client, ro):
        referral = self._queued(ro)
        svc.referral_route(referral=referral, user=ro.coordinator, target_service=ro.tildeling)
        svc.referral_receive(referral=referral, user=ro.tildeling_staff)
        svc.referral_decline(referral=referral, user=ro.tildeling_staff, reason="Feil tjeneste.")
        client.force_login(ro.coordinator)
        response = client.post(reverse("referrals:action", args=[referral.code, "forward"]), {
            "forward-target_service": ro.org.barnehage.pk, "forward-basis": "consent",
        })
        assert response.status_code == 422
        assert "only a service in the catalogue that takes this kind of referral" in response.content.decode()
        assert Referral.objects.count() == 1
        assert not hasattr(Referral.objects.get(pk=referral.pk), "forwarded_to")
        assert Consent.objects.count() == 1
