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
        # Every service one can refer to; the privacy function takes no referrals.
        referable = Service.objects.exclude(kind=Service.Kind.PERSONVERN)
        assert set(CatalogueEntry.objects.values_list("service_id", flat=True)) == set(referable.values_list("pk", flat=True))
        assert set(Referral.objects.values_list("status", flat=True)) == set(Referral.Status.values)
        assert Referral.objects.filter(forwarded_from__isnull=False).exists()
        coordinator = seeded["users"]["ruskoordinator"]
        queue, _cursor = selectors.routing_queue(coordinator)
        assert len(queue) == 1
        at_risk, _cursor = selectors.referral_at_risk_list(coordinator)
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
