"""Helpers for the migrations that moved the kernel models out of ``referrals`` (org 0001, people 0001).

Kept importable forever: the migrations import them by name.
"""


def rename_tables(pairs):
    """(forwards, backwards) RunPython functions renaming each (old, new) table."""

    def forwards(apps, schema_editor):
        for old, new in pairs:
            schema_editor.alter_db_table(None, old, new)

    def backwards(apps, schema_editor):
        for old, new in pairs:
            schema_editor.alter_db_table(None, new, old)

    return forwards, backwards


def move_content_types(old_app: str, new_app: str, models: list[str]):
    """(forwards, backwards) RunPython functions renaming content types in place, keeping their ids,
    so permissions, guardian's rows, admin log entries and viewflow's task permission objects keep
    pointing at them. A fresh database has none yet (they are created after migrating): no-op."""

    def move(apps, source, target):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if ContentType.objects.filter(app_label=target, model=model).exists():
                continue
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)

    def forwards(apps, schema_editor):
        move(apps, old_app, new_app)

    def backwards(apps, schema_editor):
        move(apps, new_app, old_app)

    return forwards, backwards
