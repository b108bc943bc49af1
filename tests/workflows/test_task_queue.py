"""viewflow's queue, read through task_queue_for_user: the user's services' open tasks, no others."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from org.services import membership_set
from tests.factories import make_melding
from workflows.flows.concern import ConcernFlow
from workflows.task_lists import task_queue_for_user

pytestmark = pytest.mark.django_db


class TaskQueueTests:
    def test_it_holds_the_open_receipt_task_of_the_caseworkers_service(self, org):
        melding = make_melding(org)
        tasks = list(task_queue_for_user(org.caseworker, [ConcernFlow]))
        assert [(t.process_id, t.flow_task.name) for t in tasks] == [(melding.process.pk, "receipt")]

    def test_it_is_empty_for_a_member_whose_membership_was_deactivated(self, org):
        make_melding(org)
        membership_set(user=org.caseworker, service=org.barnevern, active=False)
        assert list(task_queue_for_user(org.caseworker, [ConcernFlow])) == []

    def test_it_is_empty_for_the_reporter(self, org):
        make_melding(org)
        assert list(task_queue_for_user(org.reporter, [ConcernFlow])) == []

    def test_it_renders_the_queue_page_with_as_many_queries_for_many_tasks_as_for_one(self, client, org):
        client.force_login(org.caseworker)
        make_melding(org)
        client.get(reverse("workflow:queue"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("workflow:queue"))
        for _ in range(6):
            make_melding(org)
        with CaptureQueriesContext(connection) as many:
            response = client.get(reverse("workflow:queue"))
        assert response.status_code == 200
        assert len(many.captured_queries) == len(few.captured_queries)
