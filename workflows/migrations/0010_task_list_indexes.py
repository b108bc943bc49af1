"""Indexes on viewflow's task table for the inbox, queue, archive and the menu badges (issue 14).

viewflow 2.4 indexes its task columns one by one (status, created, owner); each task list filters on
two or three of them and orders by a time, so at a million tasks PostgreSQL read every task of the
status or the owner and sorted them. Each partial index below holds only the rows one list reads, in
the list's order, so a page is a walk of 26 index entries (workflows.task_lists):

* the queue: open human tasks by permission object (the service) — content type, object pk, then
  newest first;
* the inbox: assigned tasks by owner, newest first;
* the archive: finished tasks by owner, most recently finished first.

The table is viewflow's (its migrations own the model), so the indexes are plain SQL here; they are
built CONCURRENTLY on PostgreSQL (no write lock on a large table), hence a non-atomic migration.
No rows change: a task already names its service (``owner_permission_obj_pk``), so there is nothing
to backfill.
"""
from django.db import migrations

INDEXES = {
    "workflows_task_queue_idx": (
        "(owner_permission_content_type_id, owner_permission_obj_pk, created DESC, id DESC)"
        " WHERE status = 'NEW' AND flow_task_type = 'HUMAN'"
    ),
    "workflows_task_inbox_idx": "(owner_id, created DESC, id DESC) WHERE status = 'ASSIGNED'",
    "workflows_task_archive_idx": "(owner_id, finished DESC, id DESC) WHERE finished IS NOT NULL",
}


def create_indexes(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX{concurrently} IF NOT EXISTS {name} ON viewflow_task {definition}")


def drop_indexes(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0009_verbose_names"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
