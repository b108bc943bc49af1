from django.db import migrations

POLICIES = [
    ("routing", "Ruting av henvisning", 3, "working_days", "henvisningen kom til koordinator", "Lokal rutine", 24, "staff", "leaders"),
    ("answer", "Svar på henvisning (mottatt og akseptert eller avvist)", 5, "working_days", "henvisningen er sendt",
     "Lokal rutine (forvaltningsloven § 11 a: svar uten ugrunnet opphold)", 24, "staff", "leaders"),
]


def forwards(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflows", "DeadlinePolicy")
    for step, title, amount, unit, counted_from, ref, remind, remind_who, escalate in POLICIES:
        DeadlinePolicy.objects.update_or_create(
            process="referral", step=step,
            defaults=dict(title=title, amount=amount, unit=unit, counted_from=counted_from, legal_reference=ref,
                          remind_before_hours=remind, remind=remind_who, escalate=escalate),
        )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="referral").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_default_policies")]
    operations = [migrations.RunPython(forwards, backwards)]
