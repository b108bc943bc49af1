from django.db import migrations

# The individual plan's clocks (issue 9): rows, edited in the admin, never constants.
# (step, title, amount, unit, counted from, legal reference, remind hours before, remind, escalate)
IP_LAW = "Pasient- og brukerrettighetsloven § 2-5; helse- og omsorgstjenesteloven §§ 7-1 og 7-2"
REGULATION = "Forskrift om habilitering og rehabilitering, individuell plan og koordinator kap. 5"
POLICIES = [
    # The offer is a tracked step: the answer (accepted, declined, a koordinator only) is recorded
    # within ten working days of the offer, or the offering service's leaders hear of it.
    ("offer_answer", "Svar på tilbud om individuell plan", 10, "working_days", "tilbudet er gitt", IP_LAW, 24, "staff", "leaders"),
    # The receiving service answers a proposed hand-over of the main responsibility; until it
    # accepts, the old holder keeps it, so a silent receiver is escalated to both services' leaders.
    ("handover", "Svar på overføring av hovedansvar og koordinator", 5, "working_days", "overføringen er foreslått", IP_LAW, 24, "staff",
     "both_leaders"),
    # Per measure: evaluated by the end of its evaluation day; the responsible service is reminded a
    # week before and its leaders alarmed when the day passes without an evaluation.
    ("measure_evaluation", "Evaluering av tiltak i individuell plan", 1, "days", "evalueringsdatoens start", REGULATION, 168, "staff",
     "leaders"),
    # The plan is revised by its revision date; the holder is reminded two weeks before.
    ("revision", "Revisjon av individuell plan", 1, "days", "revisjonsdatoens start", REGULATION, 336, "staff", "leaders"),
    # A meeting of the ansvarsgruppe: the members' services are reminded two days before it starts.
    ("meeting", "Møte i ansvarsgruppen", 0, "hours", "møtets start", "Lokal rutine", 48, "staff", "none"),
    # The minutes are written within two working days of the meeting's end, or the holder's leaders hear of it.
    ("minutes", "Referat fra møte i ansvarsgruppen", 2, "working_days", "møtets slutt", "Lokal rutine", 24, "staff", "leaders"),
]


def forwards(apps, schema_editor):
    DeadlinePolicy = apps.get_model("workflows", "DeadlinePolicy")
    for step, title, amount, unit, counted_from, ref, remind, remind_who, escalate in POLICIES:
        DeadlinePolicy.objects.update_or_create(
            process="individual_plan", step=step,
            defaults=dict(title=title, amount=amount, unit=unit, counted_from=counted_from, legal_reference=ref,
                          remind_before_hours=remind, remind=remind_who, escalate=escalate),
        )


def backwards(apps, schema_editor):
    apps.get_model("workflows", "DeadlinePolicy").objects.filter(process="individual_plan").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0014_individualplanprocess")]
    operations = [migrations.RunPython(forwards, backwards)]
