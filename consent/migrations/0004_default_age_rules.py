"""Who consents at which age (domain brief, "Consent and legal basis"), as editable rows."""
from django.db import migrations

RULES = [
    # code, domain, from, to, consenter, heard from, great weight from, reference, description
    ("health-under-16", "health", 0, 16, "guardians", 7, 12,
     "pasient- og brukerrettighetsloven § 4-4 og § 4-5; barneloven § 31",
     "Foreldrene samtykker i helsespørsmål. Barnet skal høres fra 7 år, og barnets mening skal tillegges stor vekt fra 12 år."),
    ("health-16-18", "health", 16, 18, "person", None, None,
     "pasient- og brukerrettighetsloven § 4-3 første ledd bokstav b (helserettslig myndighetsalder)",
     "Fra 16 år samtykker den unge selv til helsehjelp."),
    ("health-adult", "health", 18, None, "person", None, None, "pasient- og brukerrettighetsloven § 4-3", "Fra 18 år samtykker personen alene."),
    ("barnevern-under-15", "barnevern", 0, 15, "guardians", 7, 12, "barnevernsloven § 1-4 (barnets rett til medvirkning)",
     "Foreldrene samtykker. Barnet skal høres, og barnets mening skal tillegges stor vekt fra 12 år."),
    ("barnevern-15-18", "barnevern", 15, 18, "person_and_guardians", None, None, "barnevernsloven § 12-3 (part fra 15 år)",
     "Fra 15 år er barnet part i barnevernssaken: både den unge og foreldrene samtykker."),
    ("barnevern-adult", "barnevern", 18, None, "person", None, None, "vergemålsloven § 2", "Fra 18 år samtykker personen alene."),
    ("general-under-15", "general", 0, 15, "guardians", 7, 12, "forvaltningsloven § 13 a; barneloven §§ 31 og 33",
     "Foreldrene samtykker. Barnet skal høres fra 7 år, med stor vekt fra 12 år."),
    ("general-15-18", "general", 15, 18, "person_and_guardians", None, None, "barneloven § 33; BTI-praksis",
     "Fra 15 år spør vi også den unge selv (BTI-praksis)."),
    ("general-adult", "general", 18, None, "person", None, None, "vergemålsloven § 2", "Fra 18 år samtykker personen alene."),
]


def forwards(apps, schema_editor):
    AgeRule = apps.get_model("consent", "AgeRule")
    for code, domain, frm, to, who, heard, weight, ref, desc in RULES:
        AgeRule.objects.update_or_create(code=code, defaults=dict(
            domain=domain, from_age=frm, to_age=to, consenter=who, heard_from_age=heard,
            great_weight_from_age=weight, legal_reference=ref, description=desc))


def backwards(apps, schema_editor):
    apps.get_model("consent", "AgeRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_agerule_consent_disclosure_consent_reconsenttask_and_more")]
    operations = [migrations.RunPython(forwards, backwards)]
