"""The statutory clocks of the concern process, as editable rows (see DeadlinePolicy)."""
from django.db import migrations

POLICIES = [
    # step, title, amount, unit, counted_from, legal reference, remind before (h), remind, escalate
    ("receipt", "Bekreft mottak av melding", 24, "hours", "meldingen er sendt",
     "Lokal rutine: sporing av meldinger til mottak er bekreftet", None, "staff", "both_leaders"),
    ("review", "Gjennomgang av melding", 1, "weeks", "meldingen er mottatt",
     "barnevernsloven § 2-1", 48, "staff", "leaders"),
    ("investigation", "Undersøkelse", 3, "months", "utløpet av gjennomgangsfristen (én uke etter mottak)",
     "barnevernsloven § 2-2", 14 * 24, "staff", "leaders"),
    ("investigation_extended", "Undersøkelse, forlenget (maksimalt)", 6, "months",
     "utløpet av gjennomgangsfristen (én uke etter mottak)", "barnevernsloven § 2-2 annet ledd", 14 * 24, "staff", "leaders"),
    ("feedback_initial", "Tilbakemelding til melder etter mottak", 3, "weeks", "meldingen er mottatt",
     "barnevernsloven § 2-1 (tilbakemelding til offentlig melder)", 72, "staff", "leaders"),
    ("feedback_final", "Ny tilbakemelding til melder etter undersøkelsen", 3, "weeks", "undersøkelsen er avsluttet",
     "barnevernsloven § 2-2 (tilbakemelding etter undersøkelse)", 72, "staff", "leaders"),
    ("consultation_answer", "Svar på anonym drøfting", 5, "working_days", "drøftingen er sendt",
     "Lokal rutine", 24, "staff", "leaders"),
]


def forwards(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflows", "DeadlinePolicy")
    for step, title, amount, unit, counted_from, ref, remind, remind_who, escalate in POLICIES:
        DeadlinePolicy.objects.update_or_create(
            process="concern", step=step,
            defaults=dict(title=title, amount=amount, unit=unit, counted_from=counted_from, legal_reference=ref,
                          remind_before_hours=remind, remind=remind_who, escalate=escalate),
        )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="concern").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
