from django.db import migrations

ALL_CONDITIONS = ["drug_free", "conversations", "school_or_work", "programme", "parent_evenings"]

# The two standard templates (Bærum's two variants, seeds 000 and 002); administrators edit or add rows.
TEMPLATES = [
    dict(
        code="politi-ungdomskontrakt", name="Ungdomskontrakt som påtaleunnlatelse med vilkår", variant="police",
        min_age=15, max_age=17, default_months=6, max_months=24, test_interval_days=14, conversation_interval_days=14,
        default_conditions=ALL_CONDITIONS, guardians_sign_under_age=18, police_signs=True, followup_signs=True,
        legal_reference="Straffeprosessloven § 69 tredje ledd, jf. straffeloven § 37 (påtaleunnlatelse med vilkår)",
    ),
    dict(
        code="frivillig-ungdomskontrakt", name="Frivillig ungdomskontrakt", variant="voluntary",
        min_age=None, max_age=23, default_months=6, max_months=24, test_interval_days=14, conversation_interval_days=14,
        default_conditions=["drug_free", "conversations", "school_or_work"], guardians_sign_under_age=18, police_signs=False,
        followup_signs=True, legal_reference="Samtykke (pasient- og brukerrettighetsloven § 4-1)",
    ),
]


def forwards(apps, schema_editor):
    ContractTemplate = apps.get_model("referrals", "ContractTemplate")
    for row in TEMPLATES:
        values = dict(row)
        ContractTemplate.objects.get_or_create(code=values.pop("code"), defaults=values)


def backwards(apps, schema_editor):
    apps.get_model("referrals", "ContractTemplate").objects.filter(code__in=[t["code"] for t in TEMPLATES], contracts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0009_youth_contract")]
    operations = [migrations.RunPython(forwards, backwards)]
