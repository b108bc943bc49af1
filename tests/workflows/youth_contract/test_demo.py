"""The youth contract's demo data (issue 8, point 8): both variants in several states, the demo
users ``politi`` (police contact) and ``hfu`` (follow-up nurse), through the real services."""
import pytest

from referrals.models import YouthContract
from workflows.youth_contract.selectors import contract_roles, contracts_followed, contracts_for_police

pytestmark = pytest.mark.django_db
S = YouthContract.Status


class DemoYouthContractTests:
    def test_it_seeds_both_variants_in_every_state_the_issue_names(self):
        from workflows.demo import seed_demo

        seeded = seed_demo()
        contracts = YouthContract.objects.all()
        assert set(contracts.values_list("variant", flat=True)) == {"police", "voluntary"}
        assert {S.AWAITING_SIGNATURES, S.ACTIVE, S.BREACH_ASSESSMENT, S.COMPLETED, S.BROKEN} <= set(contracts.values_list("status", flat=True))
        active = contracts.get(status=S.ACTIVE)
        assert active.results.filter(outcome="missed").exists()
        assert contracts.get(status=S.COMPLETED).outcome_reported_at is not None
        politi, hfu = seeded["users"]["politi"], seeded["users"]["hfu"]
        assert hfu.check_password("demo") and politi.check_password("demo")
        assert all("followup" in contract_roles(hfu, c) for c in contracts)
        assert len(contracts_for_police(politi)) == contracts.filter(variant="police").count()
        assert {c.status for c in contracts_followed(hfu)} == {S.AWAITING_SIGNATURES, S.ACTIVE, S.BREACH_ASSESSMENT}

    def test_it_seeds_once(self):
        from workflows.demo import seed_demo

        seed_demo()
        count = YouthContract.objects.count()
        seed_demo()
        assert YouthContract.objects.count() == count == 5
