"""On PostgreSQL the database refuses UPDATE and DELETE on the access log, whoever asks.

Runs only on PostgreSQL; in CI (which runs on PostgreSQL) a skip is a failure instead.
"""
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AccessLog
from audit.services import access_log_write
from tests.factories import make_child

pytestmark = pytest.mark.django_db


def logged_row(org) -> AccessLog:
    child = make_child(org)
    return access_log_write(user=org.caseworker, action="view", obj=child, person=child, service=org.barnevern)


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


class AppendOnlyTriggerTests:
    def test_it_refuses_an_update(self, org, postgresql_only):
        row = logged_row(org)
        with pytest.raises(DatabaseError, match="append-only"):
            raw("UPDATE audit_accesslog SET purpose = 'rewritten' WHERE id = %s", [row.id])
        assert AccessLog.objects.get(pk=row.pk).purpose == row.purpose

    def test_it_refuses_a_delete(self, org, postgresql_only):
        row = logged_row(org)
        with pytest.raises(DatabaseError, match="append-only"):
            raw("DELETE FROM audit_accesslog WHERE id = %s", [row.id])
        assert AccessLog.objects.filter(pk=row.pk).exists()

    def test_it_refuses_a_delete_of_every_row(self, org, postgresql_only):
        logged_row(org)
        with pytest.raises(DatabaseError, match="append-only"):
            raw("DELETE FROM audit_accesslog")
        assert AccessLog.objects.exists()

    def test_it_still_appends(self, org, postgresql_only):
        row = logged_row(org)
        assert AccessLog.objects.filter(pk=row.pk, purpose=row.purpose).exists()
