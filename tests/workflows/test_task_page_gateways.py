"""A step taken on viewflow's own task page writes its record with the step's closing UPDATE (Run.save),
after the task is completed: the gateway after the task must decide on the step's changes, not on the
row as it was (review, issue 14). Accepting a referral on the "decide" page opens its "close" task;
opening an investigation on the "review" page opens its "conclude" task; and the other answers end
the process.

Personas: a melding from Solsiden barnehage reviewed by Barneverntjenesten's caseworker; a referral
from Rådgivning received and decided by Tildelingskontoret (tests/referral_factories.py).
"""
import pytest
from django.urls import reverse
from viewflow.workflow.status import STATUS

from referrals.models import Concern, Referral
from tests.factories import advance, make_melding
from tests.referral_factories import make_referral, make_referral_org
from workflows.concern import services as csvc
from workflows.flows.concern import ConcernFlow
from workflows.flows.referral import ReferralFlow
from workflows.referral import services as rsvc

pytestmark = pytest.mark.django_db


def _on_task_page(client, flow, namespace, node, process, user, data):
    task = flow.task_class.objects.get(process=process, flow_task=getattr(flow, node), status__in=[STATUS.NEW, STATUS.ASSIGNED])
    kwargs = {"process_pk": process.pk, "task_pk": task.pk}
    client.force_login(user)
    client.post(reverse(f"workflow:flows:{namespace}:{node}:assign", kwargs=kwargs), {})
    response = client.post(reverse(f"workflow:flows:{namespace}:{node}:execute", kwargs=kwargs), data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context.get("form").errors
    return task


def _open_nodes(process) -> set[str]:
    return {t.flow_task.name for t in process.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED])}


class ConcernReviewPageTests:
    @pytest.mark.parametrize("decision, justification, open_after, status", [
        ("investigate", "", {"conclude"}, Concern.Status.INVESTIGATING),
        ("close", "Ingen grunn til undersøkelse.", set(), Concern.Status.CLOSED),
    ])
    def test_the_gateway_decides_on_the_review_just_made(self, client, org, decision, justification, open_after, status):
        concern = advance(make_melding(org), org, "received")
        _on_task_page(client, ConcernFlow, "concern", "review", concern.process, org.caseworker,
                      {"decision": decision, "justification": justification, "version": csvc.concern_version(concern)})
        concern = Concern.objects.get(pk=concern.pk)
        assert concern.status == status
        assert _open_nodes(concern.process) == open_after
        assert (concern.process.status == "DONE") == (not open_after)


class ReferralDecidePageTests:
    @pytest.mark.parametrize("decision, open_after, status", [
        ("accept", {"close"}, Referral.Status.ACCEPTED),
        ("decline", set(), Referral.Status.REJECTED),
    ])
    def test_the_gateway_decides_on_the_decision_just_made(self, client, decision, open_after, status):
        ro = make_referral_org()
        referral = rsvc.referral_receive(referral=make_referral(ro), user=ro.tildeling_staff)
        _on_task_page(client, ReferralFlow, "referral", "decide", referral.process, ro.tildeling_staff,
                      {"decision": decision, "reason": "Ikke vår målgruppe."})
        referral = Referral.objects.get(pk=referral.pk)
        assert referral.status == status
        assert _open_nodes(referral.process) == open_after
