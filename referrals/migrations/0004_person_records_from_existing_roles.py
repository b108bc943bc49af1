"""Give every service that registered a person its own record of the name it holds.

Before, one shared name was shown to every service linked to the person. Each service that
registered the person (a contact, a consent, a concern it reported, a referral it sent) now gets a
record with that name; other services see the name only as it was disclosed to them.
"""
from django.db import migrations


def forward(apps, schema_editor):
    Person = apps.get_model("referrals", "Person")
    PersonRecord = apps.get_model("referrals", "PersonRecord")
    Contact = apps.get_model("referrals", "Contact")
    Concern = apps.get_model("referrals", "Concern")
    Referral = apps.get_model("referrals", "Referral")
    Consent = apps.get_model("consent", "Consent")
    pairs = set()
    pairs |= set(Contact.objects.values_list("person_id", "service_id"))
    pairs |= set(Concern.objects.filter(person__isnull=False).values_list("person_id", "reporting_service_id"))
    pairs |= set(Referral.objects.values_list("person_id", "sender_service_id"))
    pairs |= set(Consent.objects.values_list("person_id", "recorded_by_service_id"))
    names = {p.pk: (p.given_name, p.family_name) for p in Person.objects.filter(pk__in={p for p, _ in pairs}).only("given_name", "family_name")}
    PersonRecord.objects.bulk_create(
        [PersonRecord(person_id=p, service_id=s, given_name=names[p][0], family_name=names[p][1]) for p, s in pairs if p in names],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_alter_service_kind_breakglassaccess_personrecord"),
        ("consent", "0004_default_age_rules"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
