"""The demo municipality's substance-policy plan 2025–2030, kept by SLT Fjordvik (the ``slt`` user).

Twelve measures modelled on the seeds (Bærum's Tiltak 1–29 of its plan 2020–2024 and Randaberg's
eight priorities of its plan 2025–2030), paraphrased: responsible and co-responsible services from
the demo's, statuses of every kind, and evaluations for the years whose evaluation day (1 December)
has passed, recorded then by the responsible service's demo user (or by SLT for a service without
one). Everything through the real services (insights.measures), so the grants and the yearly
reminders are written as in use. Seeded once: nothing is done when the plan exists.
"""
import datetime

from django.utils import timezone

from insights import measures as svc
from insights.models import PolicyMeasure, PolicyPlan

TITLE = "Rusmiddelpolitisk handlingsplan 2025–2030"
FROM_YEAR, TO_YEAR = 2025, 2030
S = PolicyMeasure.Status

# The demo user who records a service's evaluations (workflows/demo.py USERS); SLT for the others.
EVALUATOR = {"helsestasjon": "helsesykepleier", "barnevern": "barnevern", "solsiden": "barnehage", "fjordvik_skole": "skole",
             "slt": "slt", "brukerplan": "brukerplan", "radgivning": "radgiver", "rus": "ruskoordinator", "tildeling": "tildeling",
             "nav": "nav", "politi": "politi"}

BARN_OG_UNGE, BISTAND, SAMHANDLING = "Barn og unge", "Bistand og omsorg", "Samhandling og kompetanse"

# number, area, text, responsible, co-responsible, other partners,
# evaluations: {year offset from 2025: (status, text)} — the last one's status is the measure's.
MEASURES = [
    ("1", BARN_OG_UNGE, "Følge opp gravide og småbarnsforeldre etter de nasjonale retningslinjene, med en ekstra kontroll ved "
     "åtte måneder.", "helsestasjon", (), "",
     {0: (S.ONGOING, "Ekstrakontrollen ved åtte måneder er innført for alle. Rus tas opp i samtalen etter fødsel."),
      1: (S.ONGOING, "Fast del av programmet. Oppmøtet ved åttemånederskontrollen var godt.")}),
    ("2", BARN_OG_UNGE, "Styrke samarbeidet mellom barnevernet og barnehagene: årlige samarbeidsmøter med kompetanseheving der rus "
     "er tema, og jevnlige påminnelser om at barnehagene kan be om anonym veiledning hos barnevernet.", "barnevern",
     ("solsiden", "eventyr"), "",
     {0: (S.IN_PROGRESS, "Første samarbeidsmøte holdt i oktober med rus som tema. De private barnehagene er ennå ikke nådd."),
      1: (S.ONGOING, "Samarbeidsmøtet holdes nå hver høst og omfatter også de private barnehagene.")}),
    ("3", BARN_OG_UNGE, "Oppfordre barnehagene til å ta opp foreldrenes forhold til rusmidler i den første foreldresamtalen, også i "
     "de private barnehagene.", "solsiden", ("eventyr",), "",
     {1: (S.IN_PROGRESS, "Malen for foreldresamtalen har fått spørsmål om alkohol og rus. Prøves ut i to barnehager.")}),
    ("4", BARN_OG_UNGE, "Lære opp ressurspersoner i hver barnehage og skole, slik at bekymring for barn med rusavhengige foreldre "
     "håndteres godt og familien får hjelp.", "fjordvik_skole", ("helsestasjon", "rus"), "",
     {0: (S.NOT_STARTED, "Opplæringen er utsatt til neste år fordi kursholder ikke var tilgjengelig.")}),
    ("5", BARN_OG_UNGE, "Gi elevene på 7.–10. trinn oppdatert undervisning om rusmidler og skadevirkninger i relevante fag.",
     "fjordvik_us", (), "KoRus-Vest",
     {0: (S.ONGOING, "Undervisningsopplegget er revidert sammen med KoRus."),
      1: (S.ONGOING, "Gjennomført på alle trinn etter planen.")}),
    ("6", BARN_OG_UNGE, "Holde foreldremøtet «Utsett» på alle trinn i ungdomsskolen, i tråd med skolens plan for det "
     "rusforebyggende arbeidet.", "fjordvik_us", ("slt",), "KoRus-Vest", {}),
    ("7", BARN_OG_UNGE, "Bidra til en trygg russetid: samarbeide med politiet om organiserte og uorganiserte russetreff, og gå i "
     "dialog med russen om å begrense skadeomfang og hindre at mindreårige deltar.", "slt", ("politi",), "Fylkeskommunen",
     {0: (S.IN_PROGRESS, "Dialogmøte med russestyret og politiet før 17. mai. Avtale om rusfri russebuss."),
      1: (S.IN_PROGRESS, "Dialogmøtet videreført. Ønske om felles informasjon til foreldre neste år.")}),
    ("8", BARN_OG_UNGE, "Invitere SLT og politiet til ungdomsrådet hvert halvår, for å drøfte utfordringsbildet og arrangementer "
     "for ungdom.", "slt", ("politi",), "Ungdomsrådet",
     {0: (S.ONGOING, "To møter holdt. Ungdomsrådet ønsket mer om cannabis."),
      1: (S.ONGOING, "To møter holdt, ett av dem med tema cannabis og sosiale medier.")}),
    ("9", BARN_OG_UNGE, "Gjennomføre ny Ungdata-undersøkelse i 2027 og bruke resultatene i SLT-arbeidet.", "slt",
     ("fjordvik_us", "helsestasjon"), "KoRus-Vest, NOVA", {}),
    ("10", BISTAND, "Få flere tjenester til å delta i BrukerPlan-kartleggingen: NAV, psykisk helse og rus, barnevernet, fastlegene og "
     "hjemmetjenesten.", "brukerplan", ("nav", "rus", "barnevern", "legesenter"), "",
     {0: (S.IN_PROGRESS, "NAV og psykisk helse og rus deltok. Fastlegene er invitert."),
      1: (S.DONE, "Alle de fem tjenestene deltok i årets kartlegging.")}),
    ("11", BISTAND, "Sikre et lett tilgjengelig lavterskeltilbud for dem som vil avklare om de drikker for mye, eller opplever at de "
     "gjør det.", "radgivning", ("rask",), "Frisklivssentralen",
     {0: (S.ONGOING, "Åpen ekspedisjon på hverdager. Tilbudet om kort samtale om alkohol er gjort kjent på nettsiden.")}),
    ("12", BISTAND, "Utarbeide en plan for overdoseforebyggende arbeid etter den nasjonale anbefalingen.", "rus",
     ("tsb", "legesenter"), "",
     {0: (S.IN_PROGRESS, "Arbeidsgruppe nedsatt med TSB-poliklinikken og legesenteret.")}),
    ("13", SAMHANDLING, "Lage rutiner for tverrfaglig samhandling internt og med spesialisthelsetjenesten, og evaluere praksis hvert "
     "år.", "rus", ("tsb", "tildeling"), "", {}),
    ("14", SAMHANDLING, "Etablere et boligkontor som prioriterer og følger opp personer med rusvansker, slik at boforholdene ikke "
     "hindrer behandling og oppfølging.", "tildeling", ("nav", "rus"), "",
     {0: (S.DROPPED, "Lagt inn i kommunens boligsosiale handlingsplan i stedet; følges opp der.")}),
]


def _at(day: datetime.date):
    """Run the block as on ``day`` at 10:00 (demo mode only: time-machine is a development package)."""
    import time_machine

    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10), tzinfo=timezone.get_current_timezone()), tick=True)


def seed(seeded: dict) -> None:
    """The plan, its measures (as set up on 1 March 2025) and their evaluations (each recorded on
    5 December of its year), as far as the demo's today has come. Idempotent: nothing when the plan exists."""
    municipality, services, users = seeded["municipality"], seeded["services"], seeded["users"]
    if PolicyPlan.objects.filter(municipality=municipality, title=TITLE).exists():
        return
    today = timezone.localdate()
    set_up = min(datetime.date(FROM_YEAR, 3, 1), today)
    with _at(set_up):
        plan = svc.policy_plan_create(user=users["slt"], municipality=municipality, owner_service=services["slt"], title=TITLE,
                                      from_year=FROM_YEAR, to_year=TO_YEAR)
        measures = {}
        for number, theme, text, responsible, co, partners, _evaluations in MEASURES:
            measures[number] = svc.measure_create(
                user=users["slt"], plan=plan, number=number, theme=theme, text=text, responsible_service=services[responsible],
                co_responsible=[services[key] for key in co], partners=partners,
                status=S.IN_PROGRESS if number in ("6", "13") else S.NOT_STARTED,
            )
    for offset in range(TO_YEAR - FROM_YEAR + 1):
        year = FROM_YEAR + offset
        day = datetime.date(year, 12, 5)
        if day > today:
            break
        with _at(day):
            for number, _theme, _text, responsible, _co, _partners, evaluations in MEASURES:
                if offset not in evaluations:
                    continue
                measure = PolicyMeasure.objects.get(pk=measures[number].pk)
                if measure.is_closed:
                    continue
                status, text = evaluations[offset]
                svc.measure_evaluate(user=users[EVALUATOR.get(responsible, "slt")], measure=measure, version=measure.version, year=year,
                                     status=status, text=text)
