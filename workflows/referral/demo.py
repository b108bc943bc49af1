"""The referral process's demo cases: the service catalogue, and contacts, consents and referrals in
every status (with some history)."""
import datetime

from people.models import Guardianship, Person
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from referrals.models import CatalogueEntry, Contact, Referral, ReferralKind
from workflows.demo import days_ago, years_ago


def seed(seeded: dict) -> None:
    """Seed the catalogue (entries an administrator edited are kept), then the demo referrals once."""
    services, users, muni = seeded["services"], seeded["users"], seeded["municipality"]
    _seed_catalogue(services, muni, users["admin"])
    if not Contact.objects.exists() and not Referral.objects.exists():
        _seed_referrals(services, users, muni)


# --- the service catalogue ---------------------------------------------------------------------

K = ReferralKind
CATALOGUE = {
    # service key: entry fields (texts after the municipal plans in the seeds: Bærum, Lier, Balsfjord)
    "solsiden": dict(
        description="Kommunal barnehage for barn fra 1 til 5 år. Tar ikke imot henvisninger; samarbeid om enkeltbarn avtales med styreren.",
        accepts=[], min_age=1, max_age=5, opening_hours="Mandag–fredag 07.00–17.00", phone="77 70 10 01", referral_required=False,
    ),
    "eventyr": dict(
        description="Privat barnehage for barn fra 1 til 5 år. Tar ikke imot henvisninger; samarbeid avtales med styreren.",
        accepts=[], min_age=1, max_age=5, opening_hours="Mandag–fredag 07.15–16.45", phone="77 70 10 02", referral_required=False,
    ),
    "fjordvik_skole": dict(
        description="Barneskole, 1.–7. trinn. Tar ikke imot henvisninger; kontakt rektor om samarbeid rundt en elev.",
        accepts=[], min_age=6, max_age=13, opening_hours="Skoledager 08.00–15.30", phone="77 70 11 00", referral_required=False,
    ),
    "fjordvik_us": dict(
        description="Ungdomsskole, 8.–10. trinn. Tar ikke imot henvisninger; kontakt rektor eller sosiallærer om samarbeid rundt en elev.",
        accepts=[], min_age=12, max_age=16, opening_hours="Skoledager 08.00–15.30", phone="77 70 11 50", referral_required=False,
    ),
    "barnevern": dict(
        description="Tar imot bekymringsmeldinger (bruk «Ny bekymring») og henvisninger om familie- og foreldrestøtte. Ettervern fram til 25 år.",
        accepts=[K.FAMILY], max_age=24, opening_hours="08.00–15.30. Etter kontortid: barnevernvakten, tlf. 116 123.",
        phone="77 70 12 00", intake_notes="Akutte situasjoner: ring. Meldinger om barn behandles innen én uke (barnevernsloven § 2-1).",
    ),
    "helsestasjon": dict(
        description="Helsestasjon 0–5 år og skolehelsetjeneste i grunnskolen: helsesykepleier, jordmor og lege.",
        accepts=[K.HEALTH, K.FAMILY], max_age=20, opening_hours="Mandag–fredag 08.00–15.00", phone="77 70 13 00", referral_required=False,
        intake_notes="Foreldre og elever kan ta kontakt selv. Helsesykepleier er på skolene faste dager.",
    ),
    "rus": dict(
        description="Kommunens tjeneste for psykisk helse og rus. Ruskoordinatoren fordeler henvisninger i fordelingskøen, "
                    "og ruskonsulenten henviser videre til spesialisthelsetjenesten (TSB: avrusning, døgn, poliklinikk, LAR).",
        accepts=[K.SUBSTANCE, K.MENTAL_HEALTH, K.SPECIALIST], min_age=16, opening_hours="Mandag–fredag 08.00–15.30",
        phone="77 70 14 00", intake_notes="Send gjerne til fordelingskøen når du er usikker på hvem som skal ha saken; vi fordeler innen tre virkedager.",
    ),
    "nav": dict(
        description="Arbeid, aktivitet, økonomisk sosialhjelp og midlertidig bolig. Ungdomsveileder for unge 16–29 år.",
        accepts=[K.WORK, K.HOUSING], min_age=16, opening_hours="Mandag–fredag 10.00–14.00", phone="55 55 33 33",
        intake_notes="Personen må være registrert som arbeidssøker eller søke om sosialhjelp. Akutt nødhjelp samme dag.",
    ),
    "slt": dict(
        description="SLT samordner rus- og kriminalitetsforebyggende tiltak for barn og unge: ungdomskontrakter, politiråd og oppfølging av ungdom i risiko.",
        accepts=[K.OTHER], min_age=12, max_age=24, opening_hours="Mandag–fredag 08.00–15.30", phone="77 70 15 00",
    ),
    "radgivning": dict(
        description="Åpen og tilgjengelig tjeneste for innbyggere over 18 år med utfordringer knyttet til rus, psykisk helse eller andre sosiale "
                    "problemer: kartlegging, kortvarig oppfølging og henvisning videre. Råd og veiledning til brukere, pårørende og samarbeidspartnere.",
        accepts=[K.SUBSTANCE, K.MENTAL_HEALTH, K.OTHER], min_age=18, referral_required=False,
        opening_hours="Åpen ekspedisjon 08.00–15.30, sentralbord 08.00–16.00", phone="77 70 16 00", address="Torget 2, Fjordvik sentrum",
        intake_notes="Ingen krav om henvisning eller vedtak. Personen kan møte opp eller ringe selv.",
    ),
    "tildeling": dict(
        description="Behandler søknader om helse- og omsorgstjenester: bolig med oppfølging, praktisk bistand, hjemmesykepleie og langvarig "
                    "oppfølging for rus og psykisk helse. Tjenestene gis etter vedtak.",
        accepts=[K.HOUSING, K.SUBSTANCE], min_age=18, opening_hours="Mandag–fredag 09.00–15.00", phone="77 70 17 00",
        intake_notes="Henvisning eller søknad med samtykke. Vedtak innen fire uker; kartlegging av rusbruk bør være gjort.",
    ),
    "rask": dict(
        description="Lavterskeltilbud for lettere og moderate psykiske plager (angst, depresjon, søvnvansker). Tilbyr «Brief intervention»: "
                    "kartlegging av alkoholvaner (AUDIT), kortvarig oppfølging og motiverende samtaler, sammen med Frisklivssentralen.",
        accepts=[K.MENTAL_HEALTH, K.SUBSTANCE], min_age=16, referral_required=False, capacity=CatalogueEntry.Capacity.WAITING_LIST,
        opening_hours="Mandag–torsdag 08.00–18.00", phone="77 70 18 00",
        intake_notes="Ikke primært rettet mot problematisk rusbruk, og ikke tilbud for andre rusmidler enn alkohol. Ventetid ca. tre uker.",
    ),
    "hfu": dict(
        description="Gratis helsetilbud for ungdom. Følger opp rustesting (urinprøver) ved ruskontrakter som politiet, barnevernet eller "
                    "konfliktrådet har opprettet.",
        accepts=[K.DRUG_TESTING, K.HEALTH], min_age=13, max_age=24, referral_required=False,
        opening_hours="Tirsdag og torsdag 14.00–18.00", phone="77 70 19 00",
        intake_notes="Rustesting: henvisning med kopi av kontrakten. Ungdom kan ellers komme uten timeavtale.",
    ),
    "legesenter": dict(
        description="Fastlegekontor med seks fastleger. Henviser til spesialisthelsetjenesten (DPS, TSB, BUP).",
        accepts=[K.HEALTH, K.MENTAL_HEALTH, K.SUBSTANCE], referral_required=False, opening_hours="Mandag–fredag 08.00–16.00",
        phone="77 70 20 00", intake_notes="Personen bestiller time selv; henvisning fra kommunen gir fastlegen bakgrunn.",
    ),
    "tsb": dict(
        description="Tverrfaglig spesialisert rusbehandling (TSB): avrusning, døgnbehandling, poliklinikk og legemiddelassistert rehabilitering (LAR).",
        accepts=[K.SPECIALIST], min_age=18, capacity=CatalogueEntry.Capacity.WAITING_LIST, opening_hours="Mandag–fredag 08.00–15.30",
        phone="77 70 21 00", intake_notes="Henvisning fra fastlege eller kommunens ruskonsulent. Vurdering innen ti virkedager (pasient- og brukerrettighetsloven § 2-2).",
    ),
    "politi": dict(
        description="Politiet tar ikke imot henvisninger. Forebyggende avsnitt samarbeider med SLT og barnevernet om ungdomskontrakter.",
        accepts=[], opening_hours="Døgnåpent: 02800, nødnummer 112", phone="02800", referral_required=False,
    ),
}
# Municipal services serve the demo municipality only; state services the whole region.
REGIONAL = {"nav", "tsb", "politi"}


def _seed_catalogue(services, muni, admin):
    """One catalogue entry per demo service; an existing entry is left as the administrator edited it."""
    today = datetime.date.today()
    for i, (key, fields) in enumerate(CATALOGUE.items()):
        fields = dict(fields)
        # One entry verified long ago, so the catalogue shows what a stale entry looks like.
        verified = today - datetime.timedelta(days=420 if key == "legesenter" else 7 * (i % 10))
        entry, created = CatalogueEntry.objects.get_or_create(
            service=services[key],
            defaults={"last_verified_at": verified, "verified_by": admin, "email": services[key].email, **fields},
        )
        if created and key not in REGIONAL:
            entry.areas.set([muni])


def _seed_referrals(services, users, muni):
    from django.utils import timezone

    from consent.models import Consent, LegalBasis
    from consent.services import consent_record, reconsent_tasks_create
    from workflows.referral import services as rsvc
    from workflows.withdrawal import consent_withdraw_cascade

    s, u = services, users
    radgiver, coordinator = u["radgiver"], u["ruskoordinator"]

    def contact(name, age, summary, *, service="radgivning", user=radgiver, days=0, person=None):
        with days_ago(days):
            return rsvc.contact_register(user=user, service=s[service], given_name=name, approx_age=age, summary=summary, person=person)

    def identified(c, birth, family):
        return rsvc.person_identify(user=radgiver, contact=c, national_id=synthetic_national_id(birth), family_name=family)

    def consent(c, grantees, *, days=0, valid_to=None, user=radgiver, service="radgivning", **extra):
        with days_ago(days):
            return consent_record(
                user=user, service=s[service], person=Person.objects.get(pk=Contact.objects.get(pk=c.pk).person_id),
                purpose=extra.pop("purpose", Consent.Purpose.REFERRAL),
                information="Navn, alder, kontaktopplysninger og hva henvisningen gjelder.",
                grantees=[s[g] for g in grantees], valid_from=timezone.localdate(), valid_to=valid_to,
                method=extra.pop("method", Consent.Method.VERBAL), given_by_person=extra.pop("given_by_person", True), **extra,
            )

    def send(c, kind, reason, *, to=None, via=None, cons=None, days=0, user=radgiver, service="radgivning", **basis):
        c = Contact.objects.get(pk=c.pk) if c is not None else None
        with days_ago(days):
            return rsvc.referral_send(
                user=user, sender_service=s[service], person=basis.pop("person", None) or c.person, kind=kind, reason=reason,
                target_service=s[to] if to else None, routing_service=s[via] if via else None, consent=cons, contact=c, **basis,
            )

    def staff(key):
        return {"tildeling": u["tildeling"], "rask": u["rask"], "nav": u["nav"], "tsb": u["tsb"], "hfu": u["hfu"]}[key]

    def step(r, to_status, *, days=0, reason="", outcome=""):
        """Move a referral addressed to a service on to ``to_status`` through the real services."""
        S = Referral.Status
        r = Referral.objects.get(pk=r.pk)
        who = staff(next(k for k in ("tildeling", "rask", "nav", "tsb", "hfu") if s[k].pk == r.target_service_id))
        with days_ago(days):
            if to_status == S.RECEIVED:
                return rsvc.referral_receive(referral=r, user=who)
            if to_status == S.ACCEPTED:
                return rsvc.referral_accept(referral=r, user=who)
            if to_status == S.REJECTED:
                return rsvc.referral_decline(referral=r, user=who, reason=reason)
            if to_status in (S.IN_PROGRESS, S.ON_HOLD):
                return rsvc.referral_set_progress(referral=r, user=who, status=to_status, reason=reason)
            return rsvc.referral_close(referral=r, user=who, completed=to_status == S.COMPLETED, outcome=outcome)

    S = Referral.Status
    ALL = ["rus", "tildeling", "rask", "nav", "tsb", "legesenter"]

    # Last year at Rådgivning: contacts, most not referred on, some to Tildelingskontoret and Rask psykisk helsehjelp.
    today = timezone.localdate()
    for i, (name, age) in enumerate([("Anne", 44), ("Bjørn", 37), ("Camilla", 29), ("Dag", 58), ("Elin", 33), ("Frode", 49),
                                     ("Gunn", 62), ("Hans", 41), ("Ida", 25), ("Jan", 53), ("Kjersti", 36), ("Leif", 70)]):
        days = (today - datetime.date(today.year - 1, 1 + i, 10)).days
        c = contact(name, age, "Samtale om alkoholbruk og økonomi.", days=days)
        if i % 3 == 0:
            cons = consent(c, ALL, days=days)
            target = "tildeling" if i % 2 == 0 else "rask"
            r = send(c, K.SUBSTANCE, "Ønsker oppfølging.", to=target, cons=cons, days=days)
            step(r, S.RECEIVED, days=days - 1)
            step(r, S.ACCEPTED, days=days - 2)
            step(r, S.COMPLETED, days=days - 15, outcome="Fulgt opp; avsluttet etter avtale.")

    # In the coordinator's routing queue (NAV → rustjenesten), waiting two days.
    kari = contact("Kari", 34, "Ringer for å få hjelp med alkohol; har mistet jobben.", service="nav", user=u["nav"], days=2)
    cons = consent(kari, ["rus", "tildeling", "rask", "tsb"], user=u["nav"], service="nav", days=2)
    send(kari, K.SUBSTANCE, "Ønsker hjelp med alkoholbruken. Usikker på hvilket tilbud som passer.", via="rus", cons=cons,
         user=u["nav"], service="nav", days=2)

    # The coordinator's own contact, sent to its own routing queue on a consent that names its service.
    stein = contact("Stein", 41, "Møtte opp hos ruskonsulenten; usikker på hva slags hjelp han trenger.", service="rus", user=coordinator, days=1)
    cons = consent(stein, ["rus", "tildeling", "rask", "tsb"], user=coordinator, service="rus", days=1)
    send(stein, K.SUBSTANCE, "Ønsker hjelp med alkohol og søvn; vurderes i fordelingsmøtet.", via="rus", cons=cons,
         user=coordinator, service="rus", days=1)

    # Requested: straight to Tildelingskontoret today, not yet received.
    per = contact("Per", 46, "Bor på hospits; ønsker fast bolig.", days=1)
    identified(per, datetime.date(1979, 3, 12), "Demo")
    cons = consent(per, ALL)
    send(per, K.HOUSING, "Bor midlertidig på hospits og trenger bolig med oppfølging.", to="tildeling", cons=cons)

    # Routed by the coordinator nine days ago and never answered: overdue, at risk on the coordinator's view.
    ahmed = contact("Ahmed", 31, "Spør om behandling for kokainbruk.", days=10)
    identified(ahmed, datetime.date(1994, 8, 23), "Demo")
    cons = consent(ahmed, ALL, days=10)
    r = send(ahmed, K.SPECIALIST, "Ønsker vurdering for poliklinisk rusbehandling (kokain).", via="rus", cons=cons, days=10)
    with days_ago(9):
        rsvc.referral_route(referral=r, user=coordinator, target_service=s["tsb"])

    # Received, awaiting the decision.
    lise = contact("Lise", 45, "Søvnvansker og bekymret for eget drikkemønster.", days=3)
    r = send(lise, K.MENTAL_HEALTH, "Søvnvansker og økende alkoholbruk. Ønsker samtaler.", to="rask", cons=consent(lise, ALL, days=3), days=3)
    step(r, S.RECEIVED, days=2)

    # Accepted.
    mona = contact("Mona", 52, "Trenger hjelp i hjemmet etter operasjon.", days=6)
    r = send(mona, K.HOUSING, "Trenger praktisk bistand i hjemmet og oppfølging av alkoholbruk.", to="tildeling", cons=consent(mona, ALL, days=6), days=6)
    step(r, S.RECEIVED, days=5)
    step(r, S.ACCEPTED, days=4)

    # Declined with a reason (not forwarded).
    geir = contact("Geir", 38, "Vil ha hjelp til å komme i jobb.", days=12)
    r = send(geir, K.WORK, "Ønsker arbeidsrettet oppfølging.", to="nav", cons=consent(geir, ALL, days=12), days=12)
    step(r, S.RECEIVED, days=11)
    step(r, S.REJECTED, days=11, reason="Personen har allerede en veileder hos NAV i nabokommunen; kontakt dem direkte.")

    # In progress, with internal notes.
    jon = contact("Jon", 28, "Angst og mye alkohol i helgene.", days=20)
    r = send(jon, K.MENTAL_HEALTH, "Angst og høyt alkoholinntak i helgene. Motivert for samtaler.", to="rask", cons=consent(jon, ALL, days=20), days=20)
    step(r, S.RECEIVED, days=19)
    step(r, S.ACCEPTED, days=18)
    step(r, S.IN_PROGRESS, days=14)
    rsvc.referral_notes_save(referral=r, user=u["rask"], notes="AUDIT-skår 18. Fire samtaler avtalt.")

    # On hold, with the reason the sender sees.
    eva = contact("Eva", 61, "Søker omsorgsbolig.", days=25)
    r = send(eva, K.HOUSING, "Søker omsorgsbolig; har falt flere ganger hjemme.", to="tildeling", cons=consent(eva, ALL, days=25), days=25)
    step(r, S.RECEIVED, days=24)
    step(r, S.ACCEPTED, days=23)
    step(r, S.ON_HOLD, days=15, reason="Venter på legeerklæring fra fastlegen.")

    # Completed with an outcome, via specialist intake.
    ole = contact("Ole", 57, "Ønsker avrusning.", days=40)
    identified(ole, datetime.date(1968, 11, 5), "Demo")
    r = send(ole, K.SPECIALIST, "Ønsker avrusning og vurdering for LAR.", to="tsb", cons=consent(ole, ALL, days=40), days=40)
    step(r, S.RECEIVED, days=39)
    step(r, S.ACCEPTED, days=35)
    step(r, S.IN_PROGRESS, days=30)
    step(r, S.COMPLETED, days=8, outcome="Avrusning gjennomført. Videre poliklinisk oppfølging ved TSB; LAR-vurdering om tre måneder.")

    # Cancelled by the sender.
    siv = contact("Siv", 39, "Usikker på om hun vil ha hjelp.", days=9)
    r = send(siv, K.MENTAL_HEALTH, "Ønsker samtaler om nedstemthet.", to="rask", cons=consent(siv, ALL, days=9), days=9)
    with days_ago(8):
        rsvc.referral_cancel(referral=r, user=radgiver, reason="Personen ønsket likevel ikke å bli henvist nå.")

    # Failed, with the reason.
    tom = contact("Tom", 44, "Trenger bolig etter samlivsbrudd.", days=50)
    r = send(tom, K.HOUSING, "Trenger bolig etter samlivsbrudd.", to="tildeling", cons=consent(tom, ALL, days=50), days=50)
    step(r, S.RECEIVED, days=49)
    step(r, S.ACCEPTED, days=48)
    step(r, S.FAILED, days=20, outcome="Personen møtte ikke til tre avtalte møter og svarer ikke på telefon.")

    # A forwarded chain: to the queue, routed to Tildelingskontoret, declined, forwarded to Rask psykisk helsehjelp.
    nina = contact("Nina", 31, "Drikker for å dempe panikkanfall; kan miste leiligheten.", days=15)
    r = send(nina, K.SUBSTANCE, "Drikker for å dempe panikkanfall og har vansker med å beholde leiligheten.", via="rus", cons=consent(nina, ALL, days=15), days=15)
    with days_ago(14):
        rsvc.referral_route(referral=r, user=coordinator, target_service=s["tildeling"])
    step(r, S.RECEIVED, days=13)
    step(r, S.REJECTED, days=12, reason="Behovet er først og fremst psykisk helsehjelp; boligsøknad kan komme senere.")
    with days_ago(11):
        r2 = rsvc.referral_forward(referral=r, user=coordinator, target_service=s["rask"])
    step(r2, S.RECEIVED, days=10)
    step(r2, S.ACCEPTED, days=9)
    step(r2, S.IN_PROGRESS, days=7)

    # A withdrawn consent: the open referral that rested on it was cancelled with it.
    arne = contact("Arne", 57, "Vurderer hjelp for alkohol.", days=18)
    cons = consent(arne, ["tildeling", "rask"], days=18)
    send(arne, K.SUBSTANCE, "Ønsker oppfølging for alkohol.", to="tildeling", cons=cons, days=18)
    with days_ago(16):
        consent_withdraw_cascade(consent=cons, user=radgiver, note="Personen trakk samtykket muntlig i telefonsamtale.")

    # An expired consent (last year), nothing sent on it.
    berit = contact("Berit", 48, "Spurte om støttesamtaler i fjor.", days=300)
    consent(berit, ["rask"], days=300, valid_to=today - datetime.timedelta(days=120))

    # A 15-year-old at HFU: guardians consent for health matters (under 16), and a drug-testing referral from the police.
    sander_birth = years_ago(today, 15) - datetime.timedelta(days=100)
    sander = person_get_or_create(user=u["hfu"], given_name="Sander", family_name="Demo", national_id=synthetic_national_id(sander_birth),
                                  municipality=muni, service=s["hfu"])
    mother = person_get_or_create(user=u["hfu"], given_name="Mari", family_name="Demo", national_id=synthetic_national_id(datetime.date(1982, 2, 3)),
                                  municipality=muni, service=s["hfu"])
    father = person_get_or_create(user=u["hfu"], given_name="Morten", family_name="Demo", national_id=synthetic_national_id(datetime.date(1980, 7, 19)),
                                  municipality=muni, service=s["hfu"])
    for g in (mother, father):
        Guardianship.objects.get_or_create(child=sander, guardian=g)
    hfu_contact = contact("Sander", None, "Ungdomskontrakt; kommer til urinprøver hver uke.", service="hfu", user=u["hfu"], days=5, person=sander)
    consent(hfu_contact, ["legesenter", "rus"], user=u["hfu"], service="hfu", days=5, given_by_person=False, guardians=[mother, father],
            purpose=Consent.Purpose.YOUTH_CONTRACT)
    r = send(None, K.DRUG_TESTING, "Ungdomskontrakt (påtaleunnlatelse med vilkår): rustesting hver uke i seks måneder.", to="hfu",
             user=u["politi"], service="politi", days=6, person=sander, basis="statutory",
             legal_basis=LegalBasis.objects.get(code="politiregisterloven-27"))
    step(r, S.RECEIVED, days=5)
    step(r, S.ACCEPTED, days=5)
    step(r, S.IN_PROGRESS, days=4)

    # A 16-year-old whose guardian-only consent stopped being enough on the birthday: a re-consent task.
    emilie_birth = years_ago(today, 16) - datetime.timedelta(days=20)
    emilie = person_get_or_create(user=u["hfu"], given_name="Emilie", family_name="Demo", national_id=synthetic_national_id(emilie_birth),
                                  municipality=muni, service=s["hfu"])
    guardian = person_get_or_create(user=u["hfu"], given_name="Grete", family_name="Demo", national_id=synthetic_national_id(datetime.date(1979, 5, 30)),
                                    municipality=muni, service=s["hfu"])
    Guardianship.objects.get_or_create(child=emilie, guardian=guardian)
    emilie_contact = contact("Emilie", None, "Samtaler om rus og trivsel.", service="hfu", user=u["hfu"], days=60, person=emilie)
    consent(emilie_contact, ["legesenter"], user=u["hfu"], service="hfu", days=60, given_by_person=False, guardians=[guardian])
    reconsent_tasks_create()
