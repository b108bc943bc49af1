"""The demo municipality's SLT forums (issue 11, point 5), run by SLT Fjordvik (the ``slt`` user):

- Politirådet, twice a year (Balsfjord's rhythm), with the police, NAV, barnevern, the health
  service and Psykisk helse og rus;
- Arbeidsutvalget for politirådet, about every six weeks, with the leaders of the same services
  and the lower secondary school;
- SLT-koordineringsgruppen, monthly, with barnevern, the health service, the police and the school.

A year of past meetings, each with a de-identified agenda and minutes, and the meetings ahead for
about four months (their reminders scheduled as the services schedule them). Seeded once, through
the real services, the past under time travel (workflows.demo.days_ago's way). Call
``seed(seeded)`` with workflows.demo.seed_demo's ``seeded`` dict.
"""
import datetime

from django.utils import timezone

from insights import forums as svc
from insights.models import Forum, ForumMeeting

THEMES = [
    ("Ungdata: resultatene for ungdomstrinnet", "Gjennomgang av tallene for rusbruk, trivsel og skjermtid."),
    ("Uro i sentrum i helgene", "Politiets bilde av situasjonen; behov for natteravner og åpen fritidsklubb."),
    ("Russefeiringen", "Felles informasjon til foresatte og avtaler med arrangørene."),
    ("Ungdomskontrakter: status", "Antall kontrakter i gang og avsluttet, og erfaringer fra oppfølgingen."),
    ("Tiltak i ruspolitisk handlingsplan", "Status for tiltakene med frist i år."),
    ("Skolefravær på ungdomstrinnet", "Tendenser og samarbeid om tidlig oppfølging."),
    ("Nettvett og deling av bilder", "Undervisningsopplegg for 8. trinn og foreldremøter."),
    ("Aktivitetstilbud i sommerferien", "Sommerjobb og ferietilbud for ungdom som trenger det."),
]
MINUTES = ("Gjennomgang av sakene på sakslisten. Politiet orienterte om situasjonen siden forrige møte. "
           "Tiltakene følges opp av de ansvarlige tjenestene og tas opp igjen i neste møte.")
PLACE = "Fjordvik rådhus, møterom Fjorden"
DAYS_BACK = 365
DAYS_AHEAD = 120


def _forums(seeded) -> list[tuple[Forum, datetime.time, datetime.timedelta]]:
    services, slt = seeded["services"], seeded["users"]["slt"]
    s = services

    def forum(kind, name, recurrence, members):
        return svc.forum_create(user=slt, owner=s["slt"], municipality=seeded["municipality"], kind=kind, name=name,
                                recurrence=recurrence, members=[s[key] for key in members])

    return [
        (forum(Forum.Kind.POLITIRAD, "Politirådet", Forum.Recurrence.TWICE_A_YEAR,
               ["politi", "nav", "barnevern", "helsestasjon", "rus"]), datetime.time(13, 0), datetime.timedelta(hours=2)),
        (forum(Forum.Kind.POLITIRAD_WORKING_GROUP, "Arbeidsutvalget for politirådet", Forum.Recurrence.SIX_WEEKS,
               ["politi", "nav", "barnevern", "helsestasjon", "rus", "fjordvik_us"]), datetime.time(9, 0), datetime.timedelta(hours=2)),
        (forum(Forum.Kind.SLT_GROUP, "SLT-koordineringsgruppen", Forum.Recurrence.MONTHLY,
               ["barnevern", "helsestasjon", "politi", "fjordvik_us"]), datetime.time(12, 30), datetime.timedelta(hours=1, minutes=30)),
    ]


def _first_workday(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def seed(seeded: dict) -> None:
    """Seed the demo's forums, their past year and the months ahead; does nothing if SLT Fjordvik
    runs a forum already. ``seeded``: workflows.demo.seed_demo's dict (municipality, services, users)."""
    import time_machine

    if Forum.objects.filter(owner=seeded["services"]["slt"]).exists():
        return
    slt = seeded["users"]["slt"]
    today = timezone.localdate()
    first_day = _first_workday(today - datetime.timedelta(days=DAYS_BACK))
    made = []
    with time_machine.travel(timezone.now() - datetime.timedelta(days=DAYS_BACK + 7), tick=True):
        for forum, starts, length in _forums(seeded):
            first = timezone.make_aware(datetime.datetime.combine(first_day, starts))
            made.append((forum, svc.meetings_schedule(user=slt, forum=forum, starts_at=first, ends_at=first + length, place=PLACE,
                                                      until=today + datetime.timedelta(days=DAYS_AHEAD))))
    now = timezone.now()
    for n, (forum, meetings) in enumerate(made):
        for i, meeting in enumerate(meetings):
            themes = [THEMES[(n + i + k) % len(THEMES)] for k in range(2)]
            if meeting.ends_at >= now:
                if i and meetings[i - 1].ends_at < now:  # the next meeting has its agenda already
                    for title, text in themes:
                        svc.agenda_item_add(user=slt, meeting=meeting, title=title, text=text)
                continue
            with time_machine.travel(meeting.starts_at - datetime.timedelta(days=7), tick=True):
                for title, text in themes:
                    svc.agenda_item_add(user=slt, meeting=meeting, title=title, text=text)
            with time_machine.travel(meeting.ends_at + datetime.timedelta(hours=2), tick=True):
                svc.minutes_record(user=slt, meeting=ForumMeeting.objects.get(pk=meeting.pk), text=MINUTES)
