"""Chain the rows written before the log was chained, in id order."""
from django.db import migrations

from audit import chain

BATCH = 2000


def chain_rows(apps, schema_editor):
    AccessLog = apps.get_model("audit", "AccessLog")
    db = schema_editor.connection.alias
    prev = chain.GENESIS
    last_id = 0
    while True:
        rows = list(AccessLog.objects.using(db).filter(id__gt=last_id).order_by("id")[:BATCH])
        if not rows:
            break
        for row in rows:
            values = {name: getattr(row, name) for name in chain.HASHED_FIELDS}
            row.prev_hash = prev
            row.row_hash = chain.row_hash(prev, values)
            prev = row.row_hash
        # The historical model's manager is a plain one: bulk_update is the migration's own write.
        AccessLog.objects.using(db).bulk_update(rows, ["prev_hash", "row_hash"])
        last_id = rows[-1].id


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_rows, migrations.RunPython.noop),
    ]
