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
            moving = ContentType.objects.filter(app_label=source, model=model).first()
            if moving is None:
                continue
            existing = ContentType.objects.filter(app_label=target, model=model).first()
            if existing is not None:
                # A content type under the target label already exists: Django creates one after
                # a rollback (the model is installed under its new app). Unused, it is dropped so the
                # used one can take its label; if anything points at it, merging is a human decision.
                used = _rows_pointing_at(apps, existing)
                if used:
                    raise RuntimeError(
                        f"content types {source}.{model} (id {moving.pk}) and {target}.{model} (id {existing.pk}) are both "
                        f"in use ({', '.join(used)}); merge them by hand before migrating"
                    )
                apps.get_model("auth", "Permission").objects.filter(content_type=existing).delete()
                existing.delete()
            ContentType.objects.filter(pk=moving.pk).update(app_label=target)

    def forwards(apps, schema_editor):
        move(apps, old_app, new_app)

    def backwards(apps, schema_editor):
        move(apps, new_app, old_app)

    return forwards, backwards


def _rows_pointing_at(apps, content_type) -> list[str]:
    """Which tables hold rows that point at ``content_type`` or at one of its permissions."""
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    permission_ids = list(Permission.objects.filter(content_type=content_type).values_list("pk", flat=True))
    used = []
    for model in apps.get_models(include_auto_created=True):
        if model in (ContentType, Permission):
            continue
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            if field.related_model._meta.label_lower == "contenttypes.contenttype":
                found = model._default_manager.filter(**{field.name: content_type.pk}).exists()
            elif field.related_model._meta.label_lower == "auth.permission" and permission_ids:
                found = model._default_manager.filter(**{f"{field.name}__in": permission_ids}).exists()
            else:
                continue
            if found:
                used.append(f"{model._meta.db_table}.{field.column}")
    return used
