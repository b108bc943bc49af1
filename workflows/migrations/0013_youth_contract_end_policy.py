from django.db import migrations


def forwards(apps, schema_editor):
    # The contract's end approaching: the follow-up service is reminded two weeks before the last day
    # (to complete it, or end it) and its leaders alarmed if it is still open when the period is over.
    apps.get_model("workflows", "DeadlinePolicy").objects.update_or_create(
        process="youth_contract", step="contract_end",
        defaults=dict(title="Ungdomskontraktens slutt", amount=0, unit="days", counted_from="kontraktens siste dag",
                      legal_reference="Lokal rutine", remind_before_hours=14 * 24, remind="staff", escalate="leaders"),
    )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="youth_contract", step="contract_end").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0012_youth_contract_policies")]
    operations = [migrations.RunPython(forwards, backwards)]
