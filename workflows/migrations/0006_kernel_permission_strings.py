"""Stored permission strings follow the organisation and person models to their new apps (issue 13).

Content types and permission rows were renamed in place (org 0001, people 0001), so ids did not
change. A few tables store a permission as "app_label.codename" text: viewflow's task
``owner_permission``, a reminder's ``required_perm`` and a disclosure's ``permission``. Those naming a
moved model's permission (only ``handle_concerns`` on a service is used) are rewritten here. The
access log's ``object_type`` is append-only and hash-chained: it keeps the label of the day it was
written, and audit.labels maps old labels to the current ones when the log is read.
"""
from django.db import migrations

MOVED = {
    "org": ["municipality", "service", "membership"],
    "people": ["person", "personrecord", "guardianship"],
}
# Custom permissions of the moved models (the default add/change/delete/view ones are derived).
CUSTOM = {"org": ["handle_concerns"], "people": []}


def renames():
    pairs = []
    for app, models in MOVED.items():
        codenames = list(CUSTOM[app])
        for model in models:
            codenames += [f"{action}_{model}" for action in ("add", "change", "delete", "view")]
        pairs += [(f"referrals.{codename}", f"{app}.{codename}") for codename in codenames]
    return pairs


def rewrite(apps, pairs):
    targets = [
        (apps.get_model("viewflow", "Task"), "owner_permission"),
        (apps.get_model("notifications", "Reminder"), "required_perm"),
        (apps.get_model("consent", "Disclosure"), "permission"),
    ]
    for model, field in targets:
        for old, new in pairs:
            model.objects.filter(**{field: old}).update(**{field: new})


def forwards(apps, schema_editor):
    rewrite(apps, renames())


def backwards(apps, schema_editor):
    rewrite(apps, [(new, old) for old, new in renames()])


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0005_kernel_models_moved"),
        ("referrals", "0005_kernel_models_moved"),
        ("notifications", "0003_kernel_models_moved"),
        ("consent", "0008_kernel_models_moved"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
