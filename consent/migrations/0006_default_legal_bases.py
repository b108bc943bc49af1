"""The statutory bases a disclosure may cite, as editable rows (issue 6, point 4).

A modest, conservative starting catalogue: the administrators keep it in line with the law and the
municipality's own assessments (admin: Consent › Legal bases). The duty to report to the child
welfare service (barnevernsloven § 13-2, helsepersonelloven § 33 and the like) is not a row here: it
is its own basis (``Disclosure.Basis.OPPLYSNINGSPLIKT``), fixed by law to one kind of recipient.

Work on an individual plan or with a coordinator (helse- og omsorgstjenesteloven §§ 7-1 to 7-3)
rests on the person's consent to the plan, so it is shared on a consent, not on a row here.
"""
from django.db import migrations

HEALTH = ["helsestasjon", "skolehelsetjeneste", "fastlege", "rustjeneste"]

BASES = [
    dict(
        code="helsepersonelloven-45", statute="Helsepersonelloven", paragraph="§ 45",
        title="Opplysninger til annet helsepersonell", title_en="Information to other health personnel",
        description=(
            "Taushetsplikten er ikke til hinder for at helsepersonell gir opplysninger til annet helsepersonell "
            "når det er nødvendig for å gi pasienten forsvarlig helsehjelp, med mindre pasienten motsetter seg det. "
            "Gjelder bare mellom tjenester som gir pasienten helsehjelp."
        ),
        purposes=["referral"], sender_kinds=HEALTH, recipient_kinds=HEALTH, requires_approval=False,
    ),
    dict(
        code="helsepersonelloven-25", statute="Helsepersonelloven", paragraph="§ 25",
        title="Opplysninger til samarbeidende personell", title_en="Information to cooperating personnel",
        description=(
            "Taushetsplikten er ikke til hinder for at opplysninger gis til samarbeidende personell når det er "
            "nødvendig for å gi forsvarlig helsehjelp, med mindre pasienten motsetter seg det."
        ),
        purposes=["referral"], sender_kinds=HEALTH, recipient_kinds=HEALTH, requires_approval=False,
    ),
    dict(
        code="forvaltningsloven-13b-1-5", statute="Forvaltningsloven", paragraph="§ 13 b første ledd nr. 5",
        title="Opplysninger til annet forvaltningsorgan for å fremme avgiverorganets oppgaver",
        title_en="Information to another public body to carry out the sending body's own tasks",
        description=(
            "Bare når opplysningene er nødvendige for at tjenesten som deler, skal løse sine egne oppgaver etter lov, "
            "instruks eller oppnevningsgrunnlag – ikke mottakerens. Gjelder ikke helsepersonells taushetsplikt. "
            "En leder i tjenesten som deler, må godkjenne hver deling."
        ),
        purposes=["referral"], sender_kinds=["barnehage", "skole", "ppt", "slt"],
        recipient_kinds=["ppt", "helsestasjon", "skolehelsetjeneste", "rustjeneste", "slt"], requires_approval=True,
    ),
    dict(
        code="politiregisterloven-27", statute="Politiregisterloven", paragraph="§ 27",
        title="Utlevering til offentlige organer for å forebygge lovbrudd",
        title_en="Disclosure to public bodies to prevent offences",
        description=(
            "Politiet kan gi opplysninger til andre offentlige organer når det er nødvendig for å forebygge lovbrudd, "
            "for eksempel i oppfølgingen av en ungdomskontrakt."
        ),
        purposes=["referral", "youth_contract"], sender_kinds=["politi"],
        recipient_kinds=["helsestasjon", "skolehelsetjeneste", "rustjeneste", "slt"], requires_approval=False,
    ),
]


def forwards(apps, schema_editor):
    LegalBasis = apps.get_model("consent", "LegalBasis")
    for row in BASES:
        row = dict(row)
        LegalBasis.objects.update_or_create(code=row.pop("code"), defaults=row)


def backwards(apps, schema_editor):
    LegalBasis = apps.get_model("consent", "LegalBasis")
    LegalBasis.objects.filter(code__in=[b["code"] for b in BASES], disclosures__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_legal_basis_catalogue")]

    operations = [migrations.RunPython(forwards, backwards)]
