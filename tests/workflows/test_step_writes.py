"""What a step writes and how many statements it takes (issue 14, point 6: at least 100 workflow
transitions per second). The skeleton has no savepoint of its own, appends its access-log rows in
one INSERT at its end, reads its deadline policies in one query, opens its deadlines in one INSERT
and their reminders with its notices in another, meets a deadline and cancels its reminders in one
statement, writes the record's changed fields and its next deadline in one UPDATE (which reads the
deadlines its notices name), locks the process row once and reads it with the record only then (asking in the same
statement whether the user is a member of the acting service), and saves the task it completes once.

Personas: ``reporter`` (Solsiden barnehage) sends meldinger; ``caseworker`` (Barneverntjenesten)
confirms and reviews them.
"""
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AccessLog
from notifications.models import Reminder
from referrals.models import Concern
from tests.factories import advance, make_melding
from workflows.concern import services as csvc
from workflows.models import Deadline
from workflows.steps import record_version

pytestmark = pytest.mark.django_db


def statements(queries, pattern):
    return [q["sql"] for q in queries.captured_queries if re.search(pattern, q["sql"], re.I)]


class StepWritesTests:
    def test_it_refuses_out_of_order_and_leaves_the_callers_transaction_usable(self, org):
        """A withdrawal ends every open case it can in one transaction and skips the ones closed
        meanwhile: the refusal must not poison that transaction (the skeleton has no savepoint)."""
        closed = advance(make_melding(org), org, "closed")
        with transaction.atomic():
            with pytest.raises(ValidationError) as refusal:
                with csvc.RECEIPT.run(closed, user=org.caseworker):
                    pass
            assert refusal.value.code == "out_of_order"
            # Still usable: a query after the refusal runs.
            assert Concern.objects.filter(pk=closed.pk).exists()

    def test_it_refuses_a_non_member_and_leaves_the_callers_transaction_usable(self, org):
        concern = make_melding(org)
        with transaction.atomic():
            with pytest.raises(ValidationError) as refusal:
                with csvc.RECEIPT.run(concern, user=org.nav_staff):
                    pass
            assert refusal.value.code == "not_member"
            assert Concern.objects.filter(pk=concern.pk).exists()

    def test_it_asks_whether_the_user_acts_for_the_service_with_the_lock(self, postgresql_only, org):
        concern = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert not statements(queries, r'^\s*SELECT "org_membership"')
        [lock] = statements(queries, r'FOR UPDATE OF "referrals_concern"')
        assert 'EXISTS(SELECT 1 AS "a" FROM "org_membership"' in lock

    @pytest.mark.parametrize("ended", ["membership", "service", "user"])
    def test_it_refuses_a_member_whose_membership_no_longer_counts(self, org, ended):
        from org.models import Membership

        concern = make_melding(org)
        if ended == "membership":
            Membership.objects.filter(user=org.caseworker, service=org.barnevern).update(active=False)
        elif ended == "service":
            type(org.barnevern).objects.filter(pk=org.barnevern.pk).update(active=False)
        else:
            type(org.caseworker).objects.filter(pk=org.caseworker.pk).update(is_active=False)
            org.caseworker.refresh_from_db()
        with pytest.raises(ValidationError) as refusal:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert refusal.value.code == "not_member"
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED

    def test_it_undoes_the_step_and_its_log_when_the_body_fails(self, org):
        concern = make_melding(org)
        logged = AccessLog.objects.count()
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                with csvc.RECEIPT.run(concern, user=org.caseworker) as run:
                    run.record.status = Concern.Status.RECEIVED
                    run.record.save(update_fields=["status", "updated_at"])
                    raise RuntimeError("the body failed")
        assert Concern.objects.get(pk=concern.pk).status == Concern.Status.SUBMITTED
        assert AccessLog.objects.count() == logged

    def test_it_opens_no_savepoint_of_its_own(self, org):
        concern = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        # The test's transaction makes the service's atomic a savepoint: that one only. The
        # skeleton, the disclosure, the log and the flow lock make none.
        assert len(statements(queries, r"^\s*SAVEPOINT")) == 1

    def test_it_locks_the_process_row_once(self, postgresql_only, org):
        concern = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert len(statements(queries, r'FROM "workflows_concernprocess".*FOR UPDATE')) == 1

    def test_it_writes_its_deadlines_in_one_insert_their_reminders_and_notice_in_one_and_its_log_in_one(self, postgresql_only, org):
        child = make_melding(org, submit=False)
        with CaptureQueriesContext(connection) as queries:
            concern = csvc.concern_submit(concern=child, user=org.reporter)
        opened = Deadline.objects.filter(subject_id=concern.pk, subject_type__model="concern")
        assert opened.count() == 3
        assert len(statements(queries, r'^\s*INSERT INTO "workflows_deadline"')) == 1
        # The deadlines' reminders and escalations and the receiving service's notice.
        assert len(statements(queries, r'^\s*INSERT INTO "notifications_reminder"')) == 1
        assert len(statements(queries, r'^\s*INSERT INTO "audit_accesslog"')) == 1
        assert len(statements(queries, r'FROM "workflows_deadlinepolicy"')) == 1
        for deadline in opened:
            assert Reminder.objects.filter(obligation=f"deadline:{deadline.pk}", deadline_at=deadline.due_at).exists()
        notice = Reminder.objects.get(subject_id=concern.pk, kind=Reminder.Kind.INFO, service=org.barnevern)
        # The notice names the earliest deadline the receiving service owes: the receipt's.
        receipt = opened.get(policy__step="receipt")
        assert (notice.topic, notice.deadline_at) == (receipt.policy.title, receipt.due_at)

    def test_it_meets_a_deadline_and_cancels_its_reminders_in_one_statement(self, postgresql_only, org):
        concern = make_melding(org)
        receipt = Deadline.objects.get(subject_id=concern.pk, subject_type__model="concern", policy__step="receipt")
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert statements(queries, r'UPDATE "workflows_deadline"') == statements(queries, r'UPDATE "notifications_reminder"')
        assert len(statements(queries, r'UPDATE "workflows_deadline"')) == 1
        receipt.refresh_from_db()
        assert receipt.met_at is not None and receipt.cancelled_at is None
        pending = Reminder.objects.filter(obligation=f"deadline:{receipt.pk}", sent_at__isnull=True)
        assert pending.exists() and not pending.filter(cancelled_at__isnull=True).exists()
        # The other clocks and their reminders run on.
        review = Deadline.objects.get(subject_id=concern.pk, subject_type__model="concern", policy__step="review")
        assert review.is_open
        assert Reminder.objects.filter(obligation=f"deadline:{review.pk}", cancelled_at__isnull=True).exists()

    def test_it_leaves_a_deadline_already_met_as_it_was(self, org):
        from workflows.services import deadlines

        concern = make_melding(org)
        first = deadlines.deadline_meet(subject=concern, process="concern", step="receipt")
        again = deadlines.deadline_meet(subject=concern, process="concern", step="receipt")
        assert again.pk == first.pk and again.met_at == first.met_at
        assert Deadline.objects.get(pk=first.pk).met_at == first.met_at
        assert deadlines.deadline_meet(subject=concern, process="concern", step="investigation") is None

    def test_it_reads_the_process_and_the_record_once_and_saves_the_task_once(self, org):
        concern = make_melding(org)
        task = concern.process.task_set.get(flow_task_type="HUMAN", status="NEW")
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert len(statements(queries, r'^\s*SELECT .*(FROM|JOIN) "viewflow_process"')) == 1
        assert len(statements(queries, r'FROM "referrals_concern"')) == 1
        assert len(statements(queries, r'^\s*UPDATE "viewflow_task"')) == 1
        task.refresh_from_db()
        assert (task.status, task.owner_id) == ("DONE", org.caseworker.pk)
        assert task.started is not None and task.finished is not None
        # The next task is the receiving service's, as the flow's permission names it.
        review = concern.process.task_set.get(status="NEW")
        assert review.owner_permission_obj == org.barnevern

    def test_it_keeps_the_reminders_already_scheduled_on_a_repeated_key(self, org):
        concern = make_melding(org)
        reminder = Reminder.objects.filter(subject_id=concern.pk, obligation__startswith="deadline:").order_by("pk").first()
        from notifications.services import reminder_schedule

        kept = reminder_schedule(
            key=reminder.key, obligation=reminder.obligation, kind=reminder.kind, message="another text",
            service=org.barnevern, audience=reminder.audience, subject=concern, required_perm=reminder.required_perm,
            due_at=reminder.due_at, url=reminder.url,
        )
        assert kept.pk == reminder.pk and kept.message == reminder.message

    def test_it_stores_the_next_deadline_and_the_version_the_next_form_carries(self, org):
        concern = make_melding(org)
        received = csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        stored = Concern.objects.get(pk=concern.pk)
        assert received.next_deadline_at == stored.next_deadline_at
        assert received.next_deadline_at == Deadline.objects.filter(
            subject_id=concern.pk, subject_type__model="concern", met_at__isnull=True, cancelled_at__isnull=True,
        ).order_by("due_at").values_list("due_at", flat=True).first()
        # The returned record's version is the stored one: a form rendered from it is not stale.
        assert record_version(received) == record_version(stored)
        csvc.concern_review(concern=received, user=org.caseworker, decision="investigate", version=record_version(received))

    def test_it_writes_the_record_once_with_its_changes_and_next_deadline(self, postgresql_only, org):
        concern = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            received = csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        [update] = statements(queries, r'^\s*UPDATE "referrals_concern"')
        assert '"status"' in update and '"received_by_id"' in update and "next_deadline_at" in update
        stored = Concern.objects.get(pk=concern.pk)
        assert (stored.status, stored.received_at, stored.received_by_id) == (Concern.Status.RECEIVED, received.received_at, org.caseworker.pk)
        assert stored.updated_at == received.updated_at and stored.next_deadline_at == received.next_deadline_at

    @pytest.mark.parametrize("step, most", [("submit", 14), ("receipt", 10), ("review", 12)])
    def test_it_takes_a_bounded_number_of_statements(self, postgresql_only, org, step, most):
        """Before issue 14 point 6: 84, 36 and 47 statements (a third of them savepoints), then 38, 24
        and 31, then 20, 13 and 17; now the new tasks and their links go in one statement, the
        step's task is found and done in one, and the reminders and grants ride with the next
        statement (org.batch). The test's savepoint and its release stand for the transaction's BEGIN
        and COMMIT."""
        concern = make_melding(org, submit=False)
        calls = {
            "submit": lambda c: csvc.concern_submit(concern=c, user=org.reporter),
            "receipt": lambda c: csvc.concern_confirm_receipt(concern=c, user=org.caseworker),
            "review": lambda c: csvc.concern_review(concern=c, user=org.caseworker, decision="investigate"),
        }
        for name, call in calls.items():
            if name == step:
                with CaptureQueriesContext(connection) as queries:
                    call(concern)
                break
            concern = call(concern)
        assert len(queries.captured_queries) <= most


class StepLockTests:
    def test_it_locks_each_record_with_its_own_process_and_membership_answer(self, org):
        first, second = make_melding(org), make_melding(org)
        for concern in (second, first):
            locked = csvc.STEPS.lock(concern, members=(org.caseworker, ("receiving_service",)))
            assert locked.pk == concern.pk and locked.process.concern_id == concern.pk
            assert locked.receiving_service == org.barnevern and locked._acting_member_receiving_service is True
        # The reporter is no member of barnevern: the same compiled statement answers no for her.
        locked = csvc.STEPS.lock(first, members=(org.reporter, ("receiving_service",)))
        assert locked._acting_member_receiving_service is False

    def test_it_refuses_a_record_that_is_gone(self, org):
        concern = make_melding(org, submit=False)
        Concern.objects.filter(pk=concern.pk).delete()
        with pytest.raises(Concern.DoesNotExist):
            csvc.STEPS.lock(concern)
