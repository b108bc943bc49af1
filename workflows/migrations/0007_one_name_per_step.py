"""One name per step (issue 13): the flow nodes take the names of their steps.

viewflow stores each task's node as "<flow module path>.<Flow>.<node>"; the tasks of the renamed
nodes, open or done, are renamed with them so every process, queue and history still resolves.
Deadline policies keep their names: they name clocks (a step may stop one and start another;
``Step.meets`` and ``Step.opens`` link them).
"""
from django.db import migrations

RENAMED = {
    "workflows/flows.concern.ConcernFlow": {"answer_consultation": "answer", "confirm_receipt": "receipt", "investigate": "conclude"},
    "workflows/flows.referral.ReferralFlow": {"triage": "route", "follow_up": "close"},
}


def rename(schema_editor, backwards=False):
    # Plain SQL: the task reference field resolves a stored name to a flow node, and the old names
    # no longer exist on the flow classes.
    with schema_editor.connection.cursor() as cursor:
        for flow, nodes in RENAMED.items():
            for old, new in nodes.items():
                if backwards:
                    old, new = new, old
                cursor.execute("UPDATE viewflow_task SET flow_task = %s WHERE flow_task = %s", [f"{flow}.{new}", f"{flow}.{old}"])


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0006_kernel_permission_strings"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(lambda apps, schema_editor: rename(schema_editor), lambda apps, schema_editor: rename(schema_editor, backwards=True))]
