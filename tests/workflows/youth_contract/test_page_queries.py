"""The contract page asks the database a constant number of times, whatever the contract holds (issue 14).

bench/bench_national.py measured the follow-up service's contract page at 27 statements: the
parties read twice (once unused), each person party named in its own query and again by the
template, the measures and the open appointments read again for the forms, whether there was a
breach asked although the breaches were read, and the page's read and its results' read appended
to the access log one by one. Each list is now read once. The page still lists eight kinds of rows
(results, appointments, measures, breaches, parties, deadlines, disclosures, the persons' names)
besides the shell, the access check and the log, and asks the step guards whether every party has
signed: 19 statements for the follow-up service, above issue 14's 15 (see the bench report).
"""
import datetime

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from tests.factories import make_guardian
from tests.queries import MAX_QUERIES, page_queries
from tests.workflows.youth_contract.scenario import TODAY, active_contract, initiate, young_person
from workflows.youth_contract import services as svc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
# Today's counts (see the module docstring): a read per row, or a list read twice, raises them.
# The parties are named in their own query and read once for the page and the sign form; whether
# any has yet to sign is read with the contract: 19 and 21 before, within issue 14's budget now.
FOLLOWUP_PAGE = 15
AWAITING_PAGE = 15
# viewflow's execute page of a step read the contract and its permissions three times: 16; then 14;
# the task read with its process and owner (workflows.models.CaseTask): 11.
TASK_PAGE = 11


def _results(contract, yc, n):
    """Log ``n`` more negative tests on the contract's past appointments, and a programme."""
    open_tests = contract.appointments.filter(kind="test", on__lte=TODAY, result__isnull=True).order_by("on")[:n]
    for appointment in open_tests:
        svc.result_record(contract=contract, user=yc.nurse, kind="test", outcome="negative", appointment_code=appointment.code)
    svc.measure_record(contract=contract, user=yc.nurse, kind="hap", enrolled_on=TODAY)


class ContractPageQueryTests:
    def test_it_reads_the_follow_up_page_in_the_same_number_of_queries_with_more_results(self, client, org, yc):
        contract = active_contract(org, yc, starts_on=TODAY - datetime.timedelta(days=90),
                                   decision=TODAY - datetime.timedelta(days=92))
        url = reverse("youth_contracts:detail", args=[contract.code])
        _results(contract, yc, 1)
        few = page_queries(client, yc.nurse, url)
        _results(contract, yc, 4)
        many = page_queries(client, yc.nurse, url)
        assert len(many) == len(few) <= FOLLOWUP_PAGE, "\n".join(many)

    def test_it_names_every_party_of_a_contract_awaiting_signatures_in_one_query(self, client, org, yc):
        one = initiate(org, yc)
        person, guardian = young_person(org, yc, birth=datetime.date(2010, 3, 1), given="Ida", start=700)
        second = make_guardian(person, given="Per", start=300)
        two = initiate(org, yc, person=person, guardian=guardian, guardians=[guardian, second])
        counts = [len(page_queries(client, yc.nurse, reverse("youth_contracts:detail", args=[c.code]))) for c in (one, two)]
        assert counts[0] == counts[1] <= AWAITING_PAGE, counts


    def test_it_reads_the_police_page_with_shared_results_within_the_budget_with_more_results(self, client, org, yc):
        # Whether the consent shares the results with the police was six queries (consent_is_active);
        # consents_in_force_for asks it in one.
        contract = active_contract(org, yc, police_see_results=True, starts_on=TODAY - datetime.timedelta(days=90),
                                   decision=TODAY - datetime.timedelta(days=92))
        url = reverse("youth_contracts:detail", args=[contract.code])
        _results(contract, yc, 1)
        few = page_queries(client, yc.officer, url)
        _results(contract, yc, 4)
        many = page_queries(client, yc.officer, url)
        assert any('"referrals_contractresult"' in q for q in many), "the police see the results"
        assert len(many) == len(few) <= MAX_QUERIES, "\n".join(many)


class TaskPageQueryTests:
    def test_it_reads_the_contract_of_a_task_page_once(self, client, org, yc):
        contract = active_contract(org, yc)
        task = Task.objects.get(process_id=contract.process.pk, status=STATUS.NEW, flow_task_type="HUMAN")
        with task.activation() as activation:
            activation.assign(yc.nurse)
        url = reverse(f"workflow:flows:youthcontract:{task.flow_task.name}:execute",
                      kwargs={"process_pk": contract.process.pk, "task_pk": task.pk})
        queries = page_queries(client, yc.nurse, url)
        assert len(queries) <= TASK_PAGE <= MAX_QUERIES, "\n".join(queries)
