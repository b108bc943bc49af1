"""The access log is a hash chain: `manage.py audit_verify` finds an edited, deleted or inserted row.

Personas: ``reporter`` (Solsiden barnehage) and ``caseworker`` (Barneverntjenesten), whose reads of
a child fill the log; the tampering is done as a database administrator would (raw SQL).
"""
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from audit import chain
from audit.models import AccessLog
from audit.services import access_log_write
from tests.factories import make_child


def fill_log(org, n=5):
    child = make_child(org)
    for i in range(n):
        user = org.reporter if i % 2 else org.caseworker
        access_log_write(user=user, action="view", obj=child, person=child, purpose="test read", service=org.barnehage)
    return list(AccessLog.objects.order_by("id"))


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", batch_size=2, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class HashChainTests:
    def test_it_chains_each_row_onto_the_one_before(self, org):
        rows = fill_log(org)
        first_before = AccessLog.objects.filter(id__lt=rows[0].id).order_by("-id").first()
        assert rows[0].prev_hash == (first_before.row_hash if first_before else chain.GENESIS)
        for before, row in zip(rows, rows[1:]):
            assert row.prev_hash == before.row_hash
            assert row.row_hash == chain.row_hash(row.prev_hash, row.hashed_values())

    def test_it_reports_an_untouched_chain_as_ok(self, org):
        rows = fill_log(org)
        out = verify()
        assert out.startswith("OK:") and f"{len(rows)} access log rows" in out and f"head id {rows[-1].id}" in out

    def test_it_hashes_the_changes_and_how_the_user_got_in(self, org):
        child = make_child(org)
        row = access_log_write(user=org.caseworker, action="update", obj=child, person=child, via="admin", changes={"given_name": None})
        row.refresh_from_db()
        assert (row.via, row.changes) == ("admin", {"given_name": None})
        assert row.row_hash == chain.row_hash(row.prev_hash, row.hashed_values())
        assert verify().startswith("OK:")

    @pytest.mark.parametrize(
        "column, value", [("purpose", "innocent"), ("user_id", None), ("via", "break_glass"), ("changes", '{"x": 1}')]
    )
    def test_it_names_the_row_whose_content_was_edited(self, org, db_admin_sql, column, value):
        rows = fill_log(org)
        victim = rows[2]
        db_admin_sql(f"UPDATE audit_accesslog SET {column} = %s WHERE id = %s", [value, victim.id])
        with pytest.raises(CommandError, match=f"row id {victim.id}:"):
            verify()

    def test_it_names_the_row_after_a_deleted_one(self, org, db_admin_sql):
        rows = fill_log(org)
        db_admin_sql("DELETE FROM audit_accesslog WHERE id = %s", [rows[2].id])
        with pytest.raises(CommandError, match=f"row id {rows[3].id}:"):
            verify()

    def test_it_notices_an_edit_that_also_recomputes_the_rows_own_hash(self, org, db_admin_sql):
        rows = fill_log(org)
        victim = rows[1]
        values = victim.hashed_values() | {"purpose": "nothing to see"}
        db_admin_sql(
            "UPDATE audit_accesslog SET purpose = %s, row_hash = %s WHERE id = %s",
            ["nothing to see", chain.row_hash(victim.prev_hash, values), victim.id],
        )
        with pytest.raises(CommandError, match=f"row id {rows[2].id}:"):
            verify()

    def test_it_names_a_row_inserted_outside_the_chain(self, org, db_admin_sql):
        rows = fill_log(org)
        db_admin_sql(
            "INSERT INTO audit_accesslog (at, action, object_type, object_id, purpose, via, changes, prev_hash, row_hash) "
            "VALUES (%s, 'view', 'referrals.person', 1, '', 'role', '{}', %s, %s)",
            [rows[-1].at, "0" * 64, "f" * 64],
        )
        inserted = connection.cursor()
        inserted.execute("SELECT MAX(id) FROM audit_accesslog")
        with pytest.raises(CommandError, match=f"row id {inserted.fetchone()[0]}:"):
            verify()

    def test_it_refuses_edits_and_bulk_writes_through_the_orm(self, org):
        rows = fill_log(org, n=2)
        with pytest.raises(ValueError):
            AccessLog.objects.filter(pk=rows[0].pk).update(purpose="x")
        with pytest.raises(ValueError):
            AccessLog.objects.filter(pk=rows[0].pk).delete()
        with pytest.raises(NotImplementedError):
            AccessLog.objects.bulk_create([AccessLog(action="view", object_type="x", object_id=1)])


# Serialized rollback: its teardown flush then skips post_migrate, so the content types the
# migrations made keep their ids for the reliability and browser tests that restore them after it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class ConcurrentAppendTests:
    def test_it_chains_rows_written_by_concurrent_transactions_in_one_line(self, org, postgresql_only):
        """Writers that hold their transaction open after appending cannot fork the chain: each
        waits for the head's lock, so every row names the one before it."""
        child = make_child(org)
        errors = []
        start = threading.Barrier(4)

        def writer(user):
            try:
                start.wait()
                for _ in range(5):
                    with transaction.atomic():
                        access_log_write(user=user, action="view", obj=child, person=child, purpose="race")
                        # Hold the transaction open a moment so the writers overlap.
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_sleep(0.01)")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(u,)) for u in (org.reporter, org.caseworker, org.teacher, org.bv_leader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rows = list(AccessLog.objects.filter(purpose="race").order_by("id"))
        assert len(rows) == 20
        assert len({r.prev_hash for r in AccessLog.objects.all()}) == AccessLog.objects.count()
        assert verify().startswith("OK:")
