"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the access log.

TRUNCATE is not refused: Django's test runner empties tables with it between transactional tests,
and truncating is a table owner's act that the hash chain and the database's own logs show anyway.
A database superuser can still disable the trigger; the hash chain (manage.py audit_verify) is what
shows such an edit afterwards.
"""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_accesslog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_accesslog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_accesslog_append_only
    BEFORE UPDATE OR DELETE ON audit_accesslog
    FOR EACH ROW EXECUTE FUNCTION audit_accesslog_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_accesslog_append_only ON audit_accesslog;
DROP FUNCTION IF EXISTS audit_accesslog_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_chain_existing_rows"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger),
    ]
