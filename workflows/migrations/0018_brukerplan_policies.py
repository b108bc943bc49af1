from django.db import migrations

# The BrukerPlan round's clocks (issue 10): rows, edited in the admin, never constants.
# (step, title, amount, unit, counted from, legal reference, remind hours before, remind, escalate)
POLICIES = [
    # Each participating service maps by the end of the round's deadline day (the national cycle:
    # mapping in December, deadline about 15 December). A service that has not marked its mapping
    # done is reminded a week before; at the deadline its leaders and the coordinator's are told.
    ("mapping", "Kartlegging i BrukerPlan", 1, "days", "rundens fristdag (start)", "Lokal rutine for BrukerPlan", 168, "staff", "both_leaders"),
    # A mapped person who cares for children under 18: the mapping service follows the children up
    # as next of kin (helsepersonelloven § 10 a) within ten working days, or its leaders hear of it.
    ("children_follow_up", "Oppfølging av barn som pårørende", 10, "working_days", "kartleggingen er lagret", "Helsepersonelloven § 10 a",
     24, "staff", "leaders"),
]


def forwards(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflows", "DeadlinePolicy")
    for step, title, amount, unit, counted_from, ref, remind, remind_who, escalate in POLICIES:
        DeadlinePolicy.objects.update_or_create(
            process="brukerplan", step=step,
            defaults=dict(title=title, amount=amount, unit=unit, counted_from=counted_from, legal_reference=ref,
                          remind_before_hours=remind, remind=remind_who, escalate=escalate),
        )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="brukerplan").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0017_brukerplanprocess")]
    operations = [migrations.RunPython(forwards, backwards)]
