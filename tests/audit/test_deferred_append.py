"""A block's access-log rows appended at its end (access_log_deferred, around every workflow step):
one INSERT as the block's last statement, so the chain's head is locked only from there to the
commit, and the chain stays one line that `manage.py audit_verify` accepts and checks.

Personas: ``reporter`` (Solsiden barnehage) sends a melding; ``caseworker`` (Barneverntjenesten)
reads children; the tampering is done as a database administrator would (raw SQL).
"""
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from audit import chain
from audit.models import AccessLog
from audit.services import access_log_deferred, access_log_write
from tests.factories import make_child, next_child_identity


def children(org, n):
    out = []
    for _ in range(n):
        identity = next_child_identity()
        out.append(make_child(org, birth=identity["birth"], start=identity["start"]))
    return out


def read(org, person, purpose="deferred read"):
    return access_log_write(user=org.caseworker, action="view", obj=person, person=person, purpose=purpose, service=org.barnevern)


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", batch_size=2, stdout=out)
    return out.getvalue()


def log_statements(queries) -> list[int]:
    """Indexes of the statements that touch the log (its lock, its head, its insert)."""
    return [
        i for i, q in enumerate(queries.captured_queries)
        if re.search(r"audit_accesslog|pg_advisory_xact_lock", q["sql"], re.I)
    ]


@pytest.mark.django_db
class DeferredAppendTests:
    def test_it_appends_the_blocks_rows_when_it_ends_in_the_order_written(self, org):
        persons = children(org, 3)
        before = read(org, persons[0], purpose="before")
        with access_log_deferred():
            rows = [read(org, p) for p in persons]
            assert all(r.pk is None for r in rows)
            assert not AccessLog.objects.filter(purpose="deferred read").exists()
        stored = list(AccessLog.objects.filter(id__gte=before.id).order_by("id"))
        assert [r.id for r in stored] == [before.id, *[r.id for r in rows]]
        assert [r.person_id for r in stored[1:]] == [p.pk for p in persons]
        for previous, row in zip(stored, stored[1:]):
            assert row.prev_hash == previous.row_hash
        assert verify().startswith("OK:")

    def test_it_writes_them_in_one_insert_as_the_blocks_last_statements(self, org):
        persons = children(org, 3)
        with CaptureQueriesContext(connection) as queries:
            with access_log_deferred():
                for p in persons:
                    read(org, p)
                    # Work after each row: none of it may come after the log's statements.
                    p.refresh_from_db()
        touching = log_statements(queries)
        inserts = [q["sql"] for q in queries.captured_queries if re.match(r'\s*INSERT INTO "?audit_accesslog"?', q["sql"], re.I)]
        assert len(inserts) == 1
        # The statements on the log are the block's last ones (lock, head and ids, insert), in a row.
        assert touching == list(range(len(queries.captured_queries) - len(touching), len(queries.captured_queries)))

    def test_it_appends_nothing_when_the_block_fails(self, org):
        person = children(org, 1)[0]
        count = AccessLog.objects.count()
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                with access_log_deferred():
                    read(org, person)
                    raise RuntimeError("the step failed")
        assert AccessLog.objects.count() == count
        # The connection holds no rows of the failed block for a later one.
        with access_log_deferred():
            read(org, person, purpose="after")
        assert AccessLog.objects.order_by("-id").first().purpose == "after"
        assert AccessLog.objects.count() == count + 1

    def test_a_block_inside_another_leaves_its_rows_to_the_outer_one(self, org):
        persons = children(org, 2)
        with access_log_deferred():
            read(org, persons[0])
            with access_log_deferred():
                inner = read(org, persons[1])
            assert inner.pk is None
        assert inner.pk is not None
        assert list(AccessLog.objects.filter(purpose="deferred read").order_by("id").values_list("person_id", flat=True)) == [
            persons[0].pk, persons[1].pk,
        ]

    def test_it_names_an_edited_row_written_by_a_block(self, org, db_admin_sql):
        persons = children(org, 4)
        with access_log_deferred():
            rows = [read(org, p) for p in persons]
        db_admin_sql("UPDATE audit_accesslog SET purpose = %s WHERE id = %s", ["innocent", rows[1].id])
        with pytest.raises(CommandError, match=f"row id {rows[1].id}:"):
            verify()

    def test_it_names_the_row_after_one_deleted_from_a_block(self, org, db_admin_sql):
        persons = children(org, 4)
        with access_log_deferred():
            rows = [read(org, p) for p in persons]
        db_admin_sql("DELETE FROM audit_accesslog WHERE id = %s", [rows[1].id])
        with pytest.raises(CommandError, match=f"row id {rows[2].id}:"):
            verify()

    def test_it_names_a_row_inserted_between_a_blocks_rows(self, org, db_admin_sql):
        persons = children(org, 3)
        with access_log_deferred():
            rows = [read(org, p) for p in persons]
        forged = rows[0]
        db_admin_sql(
            "INSERT INTO audit_accesslog (id, at, user_id, service_id, action, object_type, object_id, person_id, purpose, via,"
            " changes, prev_hash, row_hash) SELECT %s, at, user_id, service_id, action, object_type, object_id, person_id,"
            " 'forged', via, changes, row_hash, row_hash FROM audit_accesslog WHERE id = %s",
            [rows[-1].id + 1000, forged.id],
        )
        with pytest.raises(CommandError, match=f"row id {rows[-1].id + 1000}:"):
            verify()

    def test_a_workflow_step_logs_as_its_last_statements(self, org):
        """Sending a melding logs the disclosure (early in the step) and the step: both rows in
        the step's one INSERT at its end, after every other write of the step."""
        from workflows.concern.services import concern_draft_create, concern_submit
        from referrals.models import Concern

        child = children(org, 1)[0]
        draft = concern_draft_create(
            user=org.reporter, kind=Concern.Kind.MELDING, reporting_service=org.barnehage, receiving_service=org.barnevern,
            observations="Far virket beruset ved henting.", categories=[Concern.Category.PARENT_INTOXICATED],
            person=child, parents_informed=True, child_informed=True,
        )
        with CaptureQueriesContext(connection) as queries:
            concern_submit(concern=draft, user=org.reporter)
        statements = [q["sql"] for q in queries.captured_queries if not re.match(r"\s*(SAVEPOINT|RELEASE)", q["sql"])]
        touching = [i for i, sql in enumerate(statements) if re.search(r"audit_accesslog|pg_advisory_xact_lock", sql)]
        # The lock with the head and the ids (one round trip, which carries the step's reminders
        # written before it: org.batch), then the insert.
        assert touching == list(range(len(statements) - 2, len(statements)))
        carried, lock = re.match(r"(.*?)\s*(SELECT pg_advisory_xact_lock\(\d+\);.*)", statements[-2], re.S).groups()
        assert lock.startswith("SELECT pg_advisory_xact_lock(%s); SELECT (SELECT row_hash" % chain.CHAIN_LOCK_KEY)
        assert carried.startswith('INSERT INTO "notifications_reminder"') and carried.endswith(";")
        rows = list(AccessLog.objects.filter(object_type="referrals.concern", object_id=draft.pk, action__in=["disclose", "update"]).order_by("id"))
        assert [r.action for r in rows] == ["disclose", "update"]
        assert verify().startswith("OK:")


# Serialized rollback: see ConcurrentAppendTests in test_hash_chain.py.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class ConcurrentDeferredAppendTests:
    def test_two_transactions_log_without_waiting_for_each_others_work_and_end_in_one_chain(self, org, postgresql_only):
        """A logs a read and then keeps working; meanwhile B logs and commits. B must not wait for
        A's work (the head is not locked until A's block ends), and both end in one valid chain."""
        persons = children(org, 2)
        a_logged, b_done = threading.Event(), threading.Event()
        errors, order = [], []

        def a():
            try:
                with transaction.atomic(), access_log_deferred():
                    read(org, persons[0], purpose="race a")
                    a_logged.set()
                    # A's step goes on working; B commits meanwhile (with an immediate append, B
                    # would wait for A's lock and this wait would time out).
                    if not b_done.wait(timeout=10):
                        raise AssertionError("B waited for A's transaction")
                    order.append("a")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        def b():
            try:
                a_logged.wait(timeout=10)
                with transaction.atomic(), access_log_deferred():
                    read(org, persons[1], purpose="race b")
                order.append("b")
                b_done.set()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert order == ["b", "a"]
        rows = list(AccessLog.objects.filter(purpose__startswith="race").order_by("id"))
        # B committed first, so its row comes first on the chain; A's follows it.
        assert [r.purpose for r in rows] == ["race b", "race a"]
        assert rows[1].prev_hash == rows[0].row_hash
        assert verify().startswith("OK:")

    def test_many_concurrent_steps_keep_one_chain(self, org, postgresql_only):
        persons = children(org, 3)
        errors = []
        start = threading.Barrier(3)

        def writer(n):
            try:
                start.wait()
                for _ in range(6):
                    with transaction.atomic(), access_log_deferred():
                        for p in persons:
                            read(org, p, purpose=f"race {n}")
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_sleep(0.005)")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rows = list(AccessLog.objects.filter(purpose__startswith="race").order_by("id"))
        assert len(rows) == 3 * 6 * 3
        # Each block's rows lie together, in the order written.
        for i in range(0, len(rows), 3):
            block = rows[i:i + 3]
            assert len({r.purpose for r in block}) == 1
            assert [r.person_id for r in block] == [p.pk for p in persons]
        assert len({r.prev_hash for r in AccessLog.objects.all()}) == AccessLog.objects.count()
        assert verify().startswith("OK:")
