"""Several access-log rows in one INSERT (a list read): the chain stays one line that
`manage.py audit_verify` accepts, exactly as if the rows had been appended one by one.

Personas: ``caseworker`` (Barneverntjenesten) reads lists naming children; ``reporter`` (Solsiden
barnehage) writes single rows in between; the tampering is done as a database administrator would.
"""
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from audit import chain
from audit.models import AccessLog
from audit.services import access_log_entry, access_log_list_read, access_log_write, access_log_write_many
from tests.factories import make_child, next_child_identity


def children(org, n):
    out = []
    for _ in range(n):
        identity = next_child_identity()
        out.append(make_child(org, birth=identity["birth"], start=identity["start"]))
    return out


def entries(org, persons, purpose="concern list"):
    return [
        access_log_entry(user=org.caseworker, action="view", obj=p, person=p, purpose=purpose, service=org.barnevern)
        for p in persons
    ]


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", batch_size=3, stdout=out)
    return out.getvalue()


def log_inserts(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if re.match(r"\s*INSERT INTO \"?audit_accesslog\"?", q["sql"], re.I)]


@pytest.mark.django_db
class BulkAppendTests:
    def test_it_chains_the_rows_onto_the_head_in_order(self, org):
        persons = children(org, 5)
        before = access_log_write(user=org.reporter, action="view", obj=persons[0], person=persons[0], purpose="concern page")
        rows = access_log_write_many(entries(org, persons))
        after = access_log_write(user=org.reporter, action="view", obj=persons[1], person=persons[1], purpose="concern page")
        stored = list(AccessLog.objects.filter(id__gte=before.id).order_by("id"))
        assert [r.id for r in stored] == [before.id, *[r.id for r in rows], after.id]
        assert [r.id for r in rows] == list(range(before.id + 1, before.id + 6))
        assert [r.person_id for r in stored[1:6]] == [p.pk for p in persons]
        for previous, row in zip(stored, stored[1:]):
            assert row.prev_hash == previous.row_hash
            assert row.row_hash == chain.row_hash(row.prev_hash, row.hashed_values())
        assert verify().startswith("OK:")

    def test_it_writes_every_row_in_one_insert(self, org):
        persons = children(org, 7)
        with CaptureQueriesContext(connection) as queries:
            access_log_write_many(entries(org, persons))
        assert len(log_inserts(queries)) == 1
        assert AccessLog.objects.filter(purpose="concern list").count() == 7

    def test_it_writes_nothing_for_no_rows(self, org):
        with CaptureQueriesContext(connection) as queries:
            assert access_log_write_many([]) == []
        assert queries.captured_queries == []

    def test_it_refuses_a_row_already_written(self, org):
        [person] = children(org, 1)
        written = access_log_write(user=org.caseworker, action="view", obj=person, person=person)
        count = AccessLog.objects.count()
        with pytest.raises(ValueError):
            access_log_write_many([written, *entries(org, [person])])
        assert AccessLog.objects.count() == count

    def test_it_still_refuses_bulk_create_to_everyone_else(self, org):
        [person] = children(org, 1)
        with pytest.raises(NotImplementedError):
            AccessLog.objects.bulk_create(entries(org, [person]))

    def test_it_logs_a_list_read_once_per_distinct_person(self, org):
        a, b = children(org, 2)
        rows = access_log_list_read(
            user=org.caseworker, purpose="concern list",
            shown=[(a, a.pk, org.barnevern.pk), (b, b.pk, org.barnevern.pk), (a, a.pk, org.barnevern.pk), (b, None, org.barnevern.pk)],
        )
        assert [(r.person_id, r.service_id, r.user_id, r.action) for r in rows] == [
            (a.pk, org.barnevern.pk, org.caseworker.pk, "view"), (b.pk, org.barnevern.pk, org.caseworker.pk, "view"),
        ]
        assert access_log_list_read(user=org.caseworker, purpose="concern list", shown=[]) == []

    def test_it_names_a_row_edited_inside_a_bulk_write(self, org, db_admin_sql):
        rows = access_log_write_many(entries(org, children(org, 4)))
        db_admin_sql("UPDATE audit_accesslog SET person_id = NULL WHERE id = %s", [rows[2].id])
        with pytest.raises(CommandError, match=f"row id {rows[2].id}:"):
            verify()

    def test_it_names_the_row_after_one_deleted_from_a_bulk_write(self, org, db_admin_sql):
        rows = access_log_write_many(entries(org, children(org, 4)))
        db_admin_sql("DELETE FROM audit_accesslog WHERE id = %s", [rows[1].id])
        with pytest.raises(CommandError, match=f"row id {rows[2].id}:"):
            verify()

    def test_it_reserves_the_ids_from_the_sequence_in_one_statement_on_postgresql(self, org, postgresql_only):
        persons = children(org, 6)
        access_log_write(user=org.reporter, action="view", obj=persons[0], person=persons[0])
        with CaptureQueriesContext(connection) as queries:
            rows = access_log_write_many(entries(org, persons))
        reserved = [q["sql"] for q in queries.captured_queries if "nextval" in q["sql"]]
        assert len(reserved) == 1 and "generate_series" in reserved[0]
        assert [r.id for r in rows] == sorted(r.id for r in rows)
        # The sequence moved past the rows, so the next single write follows them on the chain.
        last = access_log_write(user=org.reporter, action="view", obj=persons[1], person=persons[1])
        assert last.id > rows[-1].id and last.prev_hash == rows[-1].row_hash
        assert verify().startswith("OK:")


# Serialized rollback: see ConcurrentAppendTests in test_hash_chain.py.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class ConcurrentBulkAppendTests:
    def test_it_keeps_one_chain_when_bulk_and_single_writers_overlap(self, org, postgresql_only):
        """List reads (bulk) and page reads (single) in overlapping transactions: each waits for
        the head's lock, so no batch forks the chain or interleaves with another writer's rows."""
        persons = children(org, 5)
        errors = []
        start = threading.Barrier(4)

        def bulk_writer():
            try:
                start.wait()
                for _ in range(4):
                    with transaction.atomic():
                        access_log_write_many(entries(org, persons, purpose="race list"))
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_sleep(0.01)")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        def single_writer():
            try:
                start.wait()
                for _ in range(8):
                    with transaction.atomic():
                        access_log_write(user=org.reporter, action="view", obj=persons[0], person=persons[0], purpose="race page")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=bulk_writer) for _ in range(3)] + [threading.Thread(target=single_writer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rows = list(AccessLog.objects.filter(purpose__startswith="race").order_by("id"))
        assert len(rows) == 3 * 4 * 5 + 8
        # Each batch of five lies together, in the order it was given.
        batches = [r for r in rows if r.purpose == "race list"]
        for i in range(0, len(batches), 5):
            batch = batches[i:i + 5]
            assert [r.id for r in batch] == list(range(batch[0].id, batch[0].id + 5))
            assert [r.person_id for r in batch] == [p.pk for p in persons]
        assert len({r.prev_hash for r in AccessLog.objects.all()}) == AccessLog.objects.count()
        assert verify().startswith("OK:")
