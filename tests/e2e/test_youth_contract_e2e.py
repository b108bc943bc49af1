"""A police youth contract from initiation to the outcome, in real Chromium (issue 8, "Must show").

Personas: ``officer`` in Fjordvik politistasjon initiates; ``nurse`` in HFU records every party's
signature, starts the contract, logs a negative test and a missed one, assesses the breach (talk and
continue), completes the contract and reports the outcome; the officer then sees the outcome, and
never a test. axe-core checks every page of the process on the way.
"""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from org.models import Service
from people.validators import synthetic_national_id
from referrals.models import ContractAppointment, ContractTemplate, YouthContract
from tests.e2e.support import exact, label, nb, settled, submit
from tests.factories import make_org, make_service, member
from workflows.deadlines import is_working_day
from workflows.youth_contract.forms import BreachForm, CompleteForm, InitiateForm, ResultForm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
OUTCOME = "Alle vilkår er oppfylt; saken er henlagt."


@pytest.fixture(autouse=True)
def seeded_rows():
    """The rows the migrations seed (templates, deadline policies), in case the serialized restore
    did not bring them back (a reused test database)."""
    import importlib

    from django.apps import apps

    for module in ("consent.migrations.0004_default_age_rules", "referrals.migrations.0010_contract_templates", "workflows.migrations.0012_youth_contract_policies",
                   "workflows.migrations.0013_youth_contract_end_policy"):
        importlib.import_module(module).forwards(apps, None)


def last_working_day():
    day = timezone.localdate()
    while not is_working_day(day):
        day -= datetime.timedelta(days=1)
    return day


class YouthContractRoundTripTests:
    def test_police_initiate_the_nurse_follows_up_and_the_police_see_the_outcome(self, new_page, login, axe_scan):
        org = make_org()
        police = make_service(org.municipality, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
        hfu = make_service(org.municipality, "Helsestasjon for ungdom (HFU)", Service.Kind.HELSESTASJON)
        officer, nurse = member(police), member(hfu)
        start = last_working_day()
        born = start.replace(year=start.year - 16) - datetime.timedelta(days=30)

        # --- The police initiate the contract -----------------------------------------------------
        p = login(new_page(), officer.username)
        p.goto(reverse("youth_contracts:initiate"))
        form = p.get_by_test_id("initiate-form")
        axe_scan(settled(p), "the initiation form")
        form.get_by_label(label(InitiateForm, "initiating_service")).select_option(label=police.name)
        form.get_by_label(label(InitiateForm, "template")).select_option(label=ContractTemplate.objects.get(variant="police").name)
        form.get_by_label(label(InitiateForm, "followup_service")).select_option(label=hfu.name)
        form.get_by_label(label(InitiateForm, "police_decision_on")).fill(start.isoformat())
        form.get_by_label(label(InitiateForm, "starts_on")).fill(start.isoformat())
        form.get_by_label(label(InitiateForm, "national_id")).fill(synthetic_national_id(born, 600))
        form.get_by_label(label(InitiateForm, "given_name")).fill("Emil")
        form.get_by_label(label(InitiateForm, "family_name")).fill("Strand")
        form.get_by_label(label(InitiateForm, "guardian1_national_id")).fill(synthetic_national_id(datetime.date(1982, 1, 9), 100))
        form.get_by_label(label(InitiateForm, "guardian1_given_name")).fill("Kari")
        form.get_by_label(label(InitiateForm, "guardian1_family_name")).fill("Strand")
        submit(p, form.get_by_role("button", name=nb("Initiate the contract")))
        expect(p.get_by_test_id("status")).to_have_attribute("data-status", "awaiting_signatures")
        contract = YouthContract.objects.get()
        assert "Emil" not in p.url
        axe_scan(settled(p), "the police's contract page")

        # --- The nurse records the four signatures and starts the contract ------------------------
        n = login(new_page(), nurse.username)
        n.goto(reverse("youth_contracts:detail", args=[contract.code]))
        axe_scan(settled(n), "the contract page awaiting signatures")
        parties = contract.parties.count()
        for _party in range(parties):
            submit(n, n.get_by_test_id("action-sign").get_by_role("button"))
        expect(n.get_by_test_id("action-sign")).to_have_count(0)
        assert parties == 4 and not contract.parties.filter(signature__isnull=True).exists()
        submit(n, n.get_by_test_id("action-activate").get_by_role("button"))
        expect(n.get_by_test_id("status")).to_have_attribute("data-status", "active")
        axe_scan(settled(n), "the active contract page")

        # --- Two tests: the scheduled one negative, an extra one missed ----------------------------
        result = n.get_by_test_id("action-result")
        test_label = f"{start:%d.%m.%Y} – {nb(ContractAppointment.Kind.TEST.label)}"
        result.get_by_label(label(ResultForm, "appointment")).select_option(label=test_label)
        submit(n, result.get_by_role("button"))
        expect(n.get_by_test_id("results").get_by_test_id("result")).to_have_count(1)
        result = n.get_by_test_id("action-result")
        result.get_by_label(label(ResultForm, "outcome")).select_option(value="missed")
        result.get_by_label(label(ResultForm, "taken_on")).fill(start.isoformat())
        submit(n, result.get_by_role("button"))
        expect(n.get_by_test_id("status")).to_have_attribute("data-status", "breach_assessment")
        axe_scan(settled(n), "the contract page in breach assessment")

        # --- Breach assessment: talk and continue; then completion and the report -----------------
        assess = n.get_by_test_id("action-assess_breach")
        assess.get_by_label(exact(nb(BreachForm.base_fields["decision"].choices[0][1]))).check()
        assess.get_by_label(label(BreachForm, "note")).fill("Samtale med Emil og foreldrene; fortsetter.")
        submit(n, assess.get_by_role("button"))
        expect(n.get_by_test_id("status")).to_have_attribute("data-status", "active")
        end = n.get_by_test_id("action-follow_up")
        end.get_by_label(exact(nb(CompleteForm.base_fields["result"].choices[0][1]))).check()
        end.get_by_label(label(CompleteForm, "outcome")).fill(OUTCOME)
        submit(n, end.get_by_role("button"))
        expect(n.get_by_test_id("status")).to_have_attribute("data-status", "completed")
        submit(n, n.get_by_test_id("action-report_outcome").get_by_role("button"))
        expect(n.get_by_test_id("action-report_outcome")).to_have_count(0)
        axe_scan(settled(n), "the completed contract page")
        n.goto(reverse("youth_contracts:week"))
        axe_scan(settled(n), "the worker's week")

        # --- The police see the outcome, breaches as yes, and never a test -----------------------
        p.goto(reverse("youth_contracts:detail", args=[contract.code]))
        expect(p.get_by_test_id("outcome")).to_have_text(OUTCOME)
        expect(p.get_by_test_id("had-breach")).to_have_attribute("data-value", "yes")
        expect(p.get_by_test_id("results")).to_have_count(0)
        # The consent did not cover the tests and conversations to the police (the box left unticked).
        expect(p.get_by_test_id("police-results")).to_have_count(0)
        axe_scan(settled(p), "the police's page of the completed contract")
        p.goto(reverse("youth_contracts:index"))
        expect(p.get_by_test_id("police-contracts").get_by_role("link", name=contract.reference)).to_be_visible()
        axe_scan(settled(p), "the police's contract list")
        assert YouthContract.objects.get().outcome_reported_at is not None
