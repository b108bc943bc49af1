from django.db import migrations

# The default scale of every life area (issue 10): green / yellow / red, with what each means. Data,
# edited in the admin (BrukerPlanScaleLevel rows without a round); a round copies them when it is set
# up. The official BrukerPlan manual is not in the sources: these follow its shape (the
# living-conditions index: green satisfactory, yellow partly, red not satisfactory).
SCALES = {
    "housing": ("Har egnet, stabil bolig", "Bor ustabilt eller i bolig som ikke passer", "Bostedsløs eller i akutt/midlertidig bolig"),
    "activity": ("Har meningsfull aktivitet (arbeid, skole, annet) det meste av tiden", "Har noe meningsfull aktivitet",
                 "Har ingen meningsfull aktivitet"),
    "finances": ("Har ordnet økonomi", "Har noen økonomiske problemer", "Har store økonomiske problemer"),
    "physical_health": ("Har god fysisk helse", "Har noen fysiske helseplager", "Har alvorlige fysiske helseplager"),
    "mental_health": ("Har god psykisk helse", "Har noen psykiske plager", "Har alvorlige psykiske plager"),
    "substance_use": ("Bruker ikke rusmidler på en skadelig måte", "Har et risikofylt eller skadelig rusmiddelbruk",
                      "Har en avhengighet som gir store problemer"),
    "social_functioning": ("Fungerer godt sosialt", "Har noe nedsatt sosial fungering", "Har sterkt nedsatt sosial fungering"),
    "social_network": ("Har et støttende nettverk", "Har et lite eller delvis støttende nettverk", "Har ikke et støttende nettverk"),
    "violence": ("Er ikke utsatt for eller utøver vold", "Har vært utsatt for eller utøvd vold tidligere",
                 "Er utsatt for eller utøver vold nå"),
}
COLOURS = ("green", "yellow", "red")


def forwards(apps, schema_editor):
    Level = apps.get_model("referrals", "BrukerPlanScaleLevel")
    for area, texts in SCALES.items():
        for level, (colour, text) in enumerate(zip(COLOURS, texts), start=1):
            Level.objects.update_or_create(round=None, area=area, level=level, defaults={"colour": colour, "description": text})


def backwards(apps, schema_editor):
    apps.get_model("referrals", "BrukerPlanScaleLevel").objects.filter(round__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0020_brukerplan")]
    operations = [migrations.RunPython(forwards, backwards)]
