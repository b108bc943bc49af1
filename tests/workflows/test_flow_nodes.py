"""The start, gateways and end of every flow (workflows.flows.nodes): the rows viewflow's own nodes
write, with fewer statements, and a failing gateway still undoes the whole step (issue 14, point 6).

Personas: ``reporter`` (Solsiden barnehage) sends meldinger; ``caseworker`` (Barneverntjenesten)
confirms and reviews them.
"""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.status import PROCESS, STATUS

from referrals.models import Concern
from tests.factories import advance, make_consultation, make_melding
from workflows.concern import services as csvc
from workflows.flows.concern import ConcernFlow
from org.permissions import HANDLE_TASKS_PERM
from workflows.flows import nodes
from workflows.flows.nodes import switch_target
from workflows.models import CaseTask, ConcernProcess

pytestmark = pytest.mark.django_db


def tasks_of(concern) -> dict[str, CaseTask]:
    process = ConcernProcess.objects.get(concern=concern)
    return {task.flow_task.name: task for task in CaseTask.objects.filter(process=process).prefetch_related("previous")}


def previous_names(task) -> set[str]:
    return {previous.flow_task.name for previous in task.previous.all()}


class StartAndGatewayTests:
    def test_a_sent_melding_writes_viewflows_rows_without_a_savepoint_or_a_second_lock(self, org):
        draft = make_melding(org, submit=False)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_submit(concern=draft, user=org.reporter)
        sql = [q["sql"] for q in queries.captured_queries]
        # Only the service's own atomic block makes one (here, inside the test's transaction).
        savepoints = [i for i, s in enumerate(sql) if s.startswith("SAVEPOINT")]
        assert savepoints == [0]
        assert not [s for s in sql if "NOWAIT" in s]
        # The gateway's task is inserted once, done, and never updated.
        assert not [s for s in sql if s.startswith('UPDATE "viewflow_task"')]
        tasks = tasks_of(draft)
        assert set(tasks) == {"start", "route_by_kind", "receipt"}
        assert tasks["start"].status == STATUS.DONE and tasks["start"].finished
        gateway = tasks["route_by_kind"]
        assert gateway.status == STATUS.DONE and gateway.finished and gateway.flow_task_type == "EXCLUSIVE_GATEWAY"
        assert previous_names(gateway) == {"start"}
        assert tasks["receipt"].status == STATUS.NEW and previous_names(tasks["receipt"]) == {"route_by_kind"}
        assert ConcernProcess.objects.get(concern=draft).status == PROCESS.NEW

    def test_a_consultation_takes_the_other_branch(self, org):
        consultation = make_consultation(org)
        tasks = tasks_of(consultation)
        assert set(tasks) == {"start", "route_by_kind", "answer"}
        assert previous_names(tasks["answer"]) == {"route_by_kind"}

    def test_a_failing_gateway_undoes_the_whole_step(self, org, monkeypatch):
        draft = make_melding(org, submit=False)

        def broken(activation):
            raise RuntimeError("the condition failed")

        monkeypatch.setattr(ConcernFlow.route_by_kind, "_condition", broken)
        with pytest.raises(RuntimeError, match="the condition failed"):
            csvc.concern_submit(concern=draft, user=org.reporter)
        assert Concern.objects.get(pk=draft.pk).status == Concern.Status.DRAFT
        assert not ConcernProcess.objects.filter(concern=draft).exists()
        assert not CaseTask.objects.filter(flow_task=ConcernFlow.route_by_kind).filter(process__concernprocess__concern=draft).exists()


class EndTests:
    def test_a_closed_melding_ends_the_process_and_writes_only_its_status_and_finish_time(self, org):
        received = advance(make_melding(org), org, "received")
        process = ConcernProcess.objects.get(concern=received)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_review(concern=received, user=org.caseworker, decision="close", justification="Ingen grunn.")
        process_updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "viewflow_process"')]
        assert len(process_updates) == 1 and re.match(r'UPDATE "viewflow_process" SET "status" = [^,]+, "finished" = [^,]+ WHERE', process_updates[0])
        assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "workflows_concernprocess"')]
        process.refresh_from_db()
        assert process.status == PROCESS.DONE and process.finished
        assert process.flow_class is ConcernFlow and process.concern_id == received.pk
        tasks = tasks_of(received)
        assert tasks["end"].status == STATUS.DONE and tasks["end"].finished and tasks["end"].started
        assert previous_names(tasks["end"]) == {"route_by_review"}
        assert all(task.finished for task in tasks.values())

    def test_an_investigation_leaves_the_process_open(self, org):
        investigating = advance(make_melding(org), org, "investigating")
        process = ConcernProcess.objects.get(concern=investigating)
        assert process.status == PROCESS.NEW and process.finished is None
        tasks = tasks_of(investigating)
        assert "end" not in tasks and tasks["conclude"].status == STATUS.NEW

    def test_the_end_after_an_investigation_finishes_the_process(self, org):
        concluded = advance(make_melding(org), org, "investigated")
        process = ConcernProcess.objects.get(concern=concluded)
        assert process.status == PROCESS.DONE and process.finished
        assert previous_names(tasks_of(concluded)["end"]) == {"conclude"}


def task_statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"viewflow_task' in q["sql"]]


class TaskWritesTests:
    """A step's new tasks and their links in one statement, its own task done in one (issue 14 point 6)."""

    def test_a_sent_melding_writes_its_three_tasks_and_their_two_links_in_one_statement(self, postgresql_only, org):
        draft = make_melding(org, submit=False)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_submit(concern=draft, user=org.reporter)
        written = task_statements(queries)
        assert len(written) == 1 and written[0].startswith("WITH inserted AS (INSERT INTO \"viewflow_task\"")
        tasks = tasks_of(draft)
        # The ids ascend in the order the flow made them; each link names the task before it.
        assert tasks["start"].pk < tasks["route_by_kind"].pk < tasks["receipt"].pk
        assert previous_names(tasks["start"]) == set() and previous_names(tasks["route_by_kind"]) == {"start"}
        assert previous_names(tasks["receipt"]) == {"route_by_kind"}

    def test_a_started_process_is_inserted_with_its_own_row_in_one_statement(self, postgresql_only, org):
        draft = make_melding(org, submit=False)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_submit(concern=draft, user=org.reporter)
        inserts = [q["sql"] for q in queries.captured_queries if 'INSERT INTO "viewflow_process"' in q["sql"]]
        assert len(inserts) == 1 and 'INSERT INTO "workflows_concernprocess"' in inserts[0]
        assert not [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "workflows_concernprocess"')]
        process = ConcernProcess.objects.get(concern=draft)
        assert process.flow_class is ConcernFlow and process.status == PROCESS.NEW and process.created and process.finished is None
        assert {task.process_id for task in tasks_of(draft).values()} == {process.pk}

    def test_a_step_completes_its_task_in_the_statement_that_finds_it_and_links_the_next_to_it(self, postgresql_only, org):
        sent = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=sent, user=org.caseworker)
        written = task_statements(queries)
        assert len(written) == 2 and written[0].startswith('UPDATE "viewflow_task"') and written[1].startswith("WITH inserted")
        assert not [sql for sql in written if sql.startswith("SELECT")]
        tasks = tasks_of(sent)
        receipt, review = tasks["receipt"], tasks["review"]
        assert (receipt.status, receipt.owner_id) == (STATUS.DONE, org.caseworker.pk)
        assert receipt.started and receipt.finished == receipt.started
        # The next human task as viewflow's View makes it: open, for the holders of the flow's permission.
        assert review.status == STATUS.NEW and review.owner_id is None and review.flow_task_type == "HUMAN"
        assert review.owner_permission == HANDLE_TASKS_PERM and review.owner_permission_obj == org.barnevern
        assert previous_names(review) == {"receipt"}

    def test_a_step_whose_task_is_done_already_is_refused_and_changes_nothing(self, org):
        received = advance(make_melding(org), org, "received")
        before = {t.pk: (t.status, t.finished) for t in tasks_of(received).values()}
        process = ConcernProcess.objects.get(concern=received)
        from django.core.exceptions import ValidationError
        from django.db import transaction
        from workflows.services.tasks import task_complete

        with pytest.raises(ValidationError) as refused, transaction.atomic():
            task_complete(ConcernFlow, process, "receipt", org.caseworker)
        assert refused.value.code == "out_of_order"
        assert {t.pk: (t.status, t.finished) for t in tasks_of(received).values()} == before

    def test_outside_a_step_a_task_is_written_at_once(self, org):
        process = ConcernProcess.objects.get(concern=make_melding(org))
        receipt = tasks_of(process.concern)["receipt"]
        task = CaseTask(process=process, flow_task=ConcernFlow.review, token=receipt.token)
        nodes.write_task(task, receipt)
        assert task.pk is not None and task.flow_task_type == "HUMAN"
        assert previous_names(CaseTask.objects.get(pk=task.pk)) == {"receipt"}

    def test_the_end_counts_a_task_kept_for_writing_as_open(self, org):
        process = ConcernProcess.objects.get(concern=make_melding(org))
        other = ConcernProcess.objects.get(concern=make_melding(org))
        receipt = tasks_of(process.concern)["receipt"]
        with nodes.task_writes():
            assert not nodes.pending_open_tasks(process)
            nodes.write_task(CaseTask(process=other, flow_task=ConcernFlow.review, token=receipt.token))
            assert not nodes.pending_open_tasks(process)
            kept = CaseTask(process=process, flow_task=ConcernFlow.review, token=receipt.token)
            nodes.write_task(kept, receipt)
            assert nodes.pending_open_tasks(process) and kept.pk is None
        assert kept.pk is not None and not nodes.pending_open_tasks(process)

    def test_nothing_is_written_when_the_block_fails(self, org):
        process = ConcernProcess.objects.get(concern=make_melding(org))
        count = CaseTask.objects.filter(process=process).count()
        token = tasks_of(process.concern)["receipt"].token
        with pytest.raises(RuntimeError), nodes.task_writes():
            nodes.write_task(CaseTask(process=process, flow_task=ConcernFlow.review, token=token))
            raise RuntimeError("the step failed")
        assert CaseTask.objects.filter(process=process).count() == count


class SwitchTargetTests:
    """viewflow's choice: the first case that holds, else the default wherever it was declared."""

    def test_a_holding_case_wins_over_a_default_declared_before_it(self):
        assert switch_target([("end", None), ("follow_up", lambda a: False), ("breach", lambda a: True)], object()) == "breach"

    def test_the_first_holding_case_wins(self):
        assert switch_target([("follow_up", lambda a: True), ("breach", lambda a: True), ("end", None)], object()) == "follow_up"

    def test_the_default_when_no_case_holds(self):
        assert switch_target([("follow_up", lambda a: False), ("end", None)], object()) == "end"

    def test_nothing_without_a_default(self):
        assert switch_target([("follow_up", lambda a: False)], object()) is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class StartOutsideATransactionTests:
    def test_it_starts_as_viewflows_start_does(self, org):
        # A shell or a script starting a process outside any transaction: viewflow's own start (its
        # savepoint and lock) runs, and writes the same rows.
        draft = make_melding(org, submit=False)
        assert connection.get_autocommit()
        ConcernFlow.start.run(concern=draft)
        tasks = tasks_of(draft)
        assert set(tasks) == {"start", "route_by_kind", "receipt"}
        assert tasks["route_by_kind"].status == STATUS.DONE and previous_names(tasks["receipt"]) == {"route_by_kind"}
