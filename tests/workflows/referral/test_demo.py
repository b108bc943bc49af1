"""The demo data for referrals (issue #3 item 9): the catalogue, consents and referrals in every status."""
import pytest
from django.core.management import call_command

from consent.models import Consent, ReconsentTask
from consent.selectors import consent_status
from org.models import Service
from referrals.models import CatalogueEntry, Contact, Referral
from workflows.referral import selectors as selectors

pytestmark = pytest.mark.django_db


class DemoReferralDataTests:
    def test_it_seeds_a_catalogue_entry_for_every_service_and_referrals_in_every_status(self):
        from workflows.demo import seed_demo

        seeded = seed_demo()
        # Every service one can refer to; the privacy function and the BrukerPlan round's coordinating
        # unit (a planning function, issue 10) take no referrals.
        referable = Service.objects.exclude(kind=Service.Kind.PERSONVERN).exclude(name="BrukerPlan-koordinering")
        assert set(CatalogueEntry.objects.values_list("service_id", flat=True)) == set(referable.values_list("pk", flat=True))
        assert set(Referral.objects.values_list("status", flat=True)) == set(Referral.Status.values)
        assert Referral.objects.filter(forwarded_from__isnull=False).exists()
        coordinator = seeded["users"]["ruskoordinator"]
        queue = selectors.routing_queue(coordinator).rows
        # NAV's referral, and the coordinator's own, sent to its own routing queue (issue 7, point 10).
        assert len(queue) == 2
        assert {r.sender_service.name for r in queue} == {"NAV Fjordvik", "Psykisk helse og rus"}
        at_risk = selectors.referral_at_risk_list(coordinator).rows
        assert at_risk, "an overdue referral shows on the coordinator's view"
        states = {consent_status(c) for c in Consent.objects.all()}
        assert {"active", "withdrawn", "expired", "insufficient"} <= states
        assert Consent.objects.filter(given_by_person=False, guardians__isnull=False).exists()
        assert ReconsentTask.objects.exists()

    def test_it_leaves_no_grant_without_an_ownership_reason_or_a_live_ledger_row(self):
        from consent.grants import grants_without_reason
        from workflows.demo import seed_demo

        seed_demo()
        assert list(grants_without_reason()) == []

    def test_it_is_idempotent(self):
        call_command("seed_demo")
        counts = (Contact.objects.count(), Referral.objects.count(), Consent.objects.count(), CatalogueEntry.objects.count())
        call_command("seed_demo")
        assert (Contact.objects.count(), Referral.objects.count(), Consent.objects.count(), CatalogueEntry.objects.count()) == counts


class DemoRouteChoicesTests:
    def test_it_offers_the_coordinator_no_barnehage_school_or_police_to_route_to(self):
        from workflows.demo import seed_demo
        from workflows.referral.forms import RouteForm

        seed_demo()
        queued = Referral.objects.filter(target_service__isnull=True, status=Referral.Status.REQUESTED)
        assert queued.exists()
        for referral in queued:
            offered = set(RouteForm(referral=referral).fields["target_service"].queryset.values_list("kind", flat=True))
            assert offered and not offered & {Service.Kind.BARNEHAGE, Service.Kind.SKOLE, Service.Kind.POLITI}
