from django.db import migrations

# (step, title, amount, unit, counted from, legal reference, remind hours before, remind, escalate)
POLICIES = [
    ("signatures", "Signaturer på ungdomskontrakten", 10, "working_days", "kontrakten er opprettet", "Lokal rutine", 24, "staff", "leaders"),
    ("breach", "Bruddvurdering", 5, "working_days", "en positiv eller uteblitt prøve er registrert", "Lokal rutine", 24, "staff", "leaders"),
    ("outcome_report", "Melding om utfallet til politiet", 10, "working_days", "kontrakten er fullført eller brutt",
     "Lokal rutine (påtaleunnlatelse med vilkår, straffeprosessloven § 69)", 24, "staff", "leaders"),
    # Per appointment: the result is due by the end of its day (counted from the day's start);
    # the worker is reminded the afternoon before, the leader alarmed when none was registered.
    ("appointment", "Resultat av prøve eller samtale", 1, "days", "avtaledagens start", "Lokal rutine", 30, "staff", "leaders"),
]


def forwards(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflows", "DeadlinePolicy")
    for step, title, amount, unit, counted_from, ref, remind, remind_who, escalate in POLICIES:
        DeadlinePolicy.objects.update_or_create(
            process="youth_contract", step=step,
            defaults=dict(title=title, amount=amount, unit=unit, counted_from=counted_from, legal_reference=ref,
                          remind_before_hours=remind, remind=remind_who, escalate=escalate),
        )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="youth_contract").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0011_youthcontractprocess")]
    operations = [migrations.RunPython(forwards, backwards)]
