"""viewflow's 403 to someone who holds a role on the process but not the task's permission answers
the uniform 404, like every other "not yours".

Personas: ``caseworker`` (Barneverntjenesten, handles the melding but may not cancel the process or
execute a task nobody assigned to them), ``bv_leader``.
"""
import pytest
from django.urls import reverse
from viewflow.workflow.status import STATUS

from workflows.flows.concern import ConcernFlow
from tests.factories import make_melding

pytestmark = pytest.mark.django_db


@pytest.fixture
def melding(org):
    return make_melding(org)


def open_task(concern):
    return ConcernFlow.task_class.objects.get(process=concern.process, status=STATUS.NEW)


def task_url(name, task):
    return reverse(
        f"workflow:flows:concern:{task.flow_task.name}:{name}", kwargs={"process_pk": task.process_id, "task_pk": task.pk}
    )


class FlowPermissionDeniedTests:
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_it_answers_404_to_the_caseworker_on_the_process_cancel_page(self, client, org, melding, method):
        client.force_login(org.caseworker)
        url = reverse("workflow:flows:concern:process_cancel", kwargs={"process_pk": melding.process.pk})
        assert getattr(client, method)(url).status_code == 404

    @pytest.mark.parametrize("name", ["execute", "unassign", "cancel", "undo"])
    def test_it_answers_404_to_the_caseworker_on_an_unassigned_task(self, client, org, melding, name):
        client.force_login(org.caseworker)
        assert client.get(task_url(name, open_task(melding))).status_code == 404

    def test_it_leaves_the_task_untouched(self, client, org, melding):
        task = open_task(melding)
        client.force_login(org.caseworker)
        client.post(task_url("execute", task), {})
        task.refresh_from_db()
        assert (task.status, task.owner_id) == (STATUS.NEW, None)

    def test_it_still_lets_the_caseworker_open_the_task(self, client, org, melding):
        client.force_login(org.caseworker)
        assert client.get(task_url("detail", open_task(melding))).status_code == 200
