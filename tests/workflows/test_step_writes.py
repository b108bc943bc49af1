"""What a step writes and how many statements it takes (issue 14, point 6: at least 100 workflow
transitions per second). The skeleton has no savepoint of its own, appends its access-log rows in
one INSERT at its end, reads its deadline policies in one query, writes each deadline's reminders in
one INSERT and the record's next deadline in one UPDATE, and locks the process row once.

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

    def test_it_locks_the_process_row_once(self, org):
        concern = make_melding(org)
        with CaptureQueriesContext(connection) as queries:
            csvc.concern_confirm_receipt(concern=concern, user=org.caseworker)
        assert len(statements(queries, r'FROM "workflows_concernprocess".*FOR UPDATE')) == 1

    def test_it_writes_a_deadlines_reminders_in_one_insert_and_its_log_in_one(self, org):
        child = make_melding(org, submit=False)
        with CaptureQueriesContext(connection) as queries:
            concern = csvc.concern_submit(concern=child, user=org.reporter)
        opened = Deadline.objects.filter(subject_id=concern.pk, subject_type__model="concern").count()
        # One INSERT per deadline opened, one for the receiving service's notice.
        assert len(statements(queries, r'^\s*INSERT INTO "notifications_reminder"')) == opened + 1
        assert len(statements(queries, r'^\s*INSERT INTO "audit_accesslog"')) == 1
        assert len(statements(queries, r'FROM "workflows_deadlinepolicy"')) == 1
        assert Reminder.objects.filter(subject_id=concern.pk).count() > opened

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

    @pytest.mark.parametrize("step, most", [("submit", 38), ("receipt", 24), ("review", 31)])
    def test_it_takes_a_bounded_number_of_statements(self, org, step, most):
        """Before issue 14 point 6: 84, 36 and 47 statements (a third of them savepoints); the
        test's transaction adds two (the service's savepoint and its release)."""
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
