"""The individual plan's demo cases, held by Psykisk helse og rus (its koordinator ``koordinator``).

Seeded once (when no plan exists), through the real services, the first plan's history in the past
(workflows.demo.days_ago):
- Jonas, 34: a plan with NAV and Rask psykisk helsehjelp taking part, two measures, and a hand-over
  of the main responsibility to NAV waiting for NAV's answer (a task in NAV's queue);
- Maja, 27: a kriseplan with Tildelingskontoret taking part and one measure; the main responsibility
  was offered to Tildelingskontoret, which declined it with a reason.
  Maja's ansvarsgruppe met five days ago (everyone present); the minutes' decision became a measure
  owned by Tildelingskontoret. Its next meeting is in two weeks.
"""
import datetime

from django.utils import timezone

from consent.services import consent_record
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from referrals.models import IndividualPlan, PlanOffer
from workflows.demo import days_ago
from workflows.individual_plan import meetings
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import group_members


def seed(seeded: dict) -> None:
    if IndividualPlan.objects.exists():
        return
    services, users = seeded["services"], seeded["users"]
    rus, koordinator = services["rus"], users["koordinator"]
    today = timezone.localdate()

    def plan_for(n, given, family, age, *, grantees, ago, **content):
        with days_ago(ago):
            day = timezone.localdate()
            birth = day - datetime.timedelta(days=int(age * 365.25) + 20 * n)
            person = person_get_or_create(user=koordinator, given_name=given, family_name=family,
                                          national_id=synthetic_national_id(birth, 400 + n), municipality=seeded["municipality"], service=rus)
            consent = consent_record(user=koordinator, service=rus, person=person, purpose="individual_plan", grantees=[rus, *grantees],
                                     information="Den individuelle planen: mål, tiltak og deltakere.", valid_from=day, method="signed",
                                     given_by_person=True)
            offer = svc.offer_register(user=koordinator, service=rus, person=person, reason="Trenger langvarige og koordinerte tjenester.")
            svc.offer_answer(user=koordinator, offer=offer, answer=PlanOffer.Answer.ACCEPTED, by_person=True)
            plan = svc.plan_create(user=koordinator, service=rus, offer=offer, consent=consent, period_start=day,
                                   period_end=day + datetime.timedelta(days=365), revision_due_on=day + datetime.timedelta(days=180),
                                   koordinator=koordinator, **content)
            for service in grantees:
                svc.participant_add(user=koordinator, plan=plan, role="service", service=service)
            return plan

    jonas = plan_for(1, "Jonas", "Eide", 34, grantees=[services["nav"], services["rask"]], ago=30,
                     goals="Jeg vil ha en fast jobb og klare meg uten rus.", resources="Godt forhold til søsteren; liker å trene.",
                     participation="wrote")
    with days_ago(30):
        svc.measure_add(user=koordinator, plan=jonas, description="Arbeidstrening tre dager i uka.", responsible_service=services["nav"],
                        starts_on=timezone.localdate(), evaluate_on=today + datetime.timedelta(days=30))
        svc.measure_add(user=koordinator, plan=jonas, description="Samtaler om angst annenhver uke.", responsible_service=services["rask"],
                        starts_on=timezone.localdate(), evaluate_on=today + datetime.timedelta(days=14))
    with days_ago(2):
        svc.handover_propose(user=koordinator, plan=jonas, to_service=services["nav"],
                             note="Arbeid er nå det viktigste for Jonas; NAV følger ham tettest.")

    maja = plan_for(2, "Maja", "Holm", 27, grantees=[services["tildeling"]], ago=10, kind=IndividualPlan.Kind.CRISIS,
                    goals="Når jeg blir dårlig, vil jeg at noen jeg kjenner tar kontakt.", participation="consulted",
                    participation_note="Planen er lest opp og godtatt av Maja.")
    with days_ago(10):
        svc.measure_add(user=koordinator, plan=maja, description="Hjemmebesøk hver uke.", responsible_service=services["tildeling"],
                        starts_on=timezone.localdate(), evaluate_on=today + datetime.timedelta(days=60))
        declined = svc.handover_propose(user=koordinator, plan=maja, to_service=services["tildeling"])
    with days_ago(8):
        svc.handover_decline(user=users["tildeling"], handover=declined, reason="Vi har ikke vedtak om tjenester til Maja ennå.")

    _maja_meetings(maja, koordinator, services)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _maja_meetings(plan, koordinator, services) -> None:
    """A held meeting whose minutes made a measure, and the next meeting, through the services."""
    with days_ago(7):
        held_on = timezone.localdate() + datetime.timedelta(days=2)
        (held,) = meetings.meeting_schedule(user=koordinator, plan=plan, starts_at=_at(held_on, 13), ends_at=_at(held_on, 14),
                                            place="Psykisk helse og rus, møterom 1")
    with days_ago(4):
        meetings.minutes_record(
            user=koordinator, meeting=held, present=[m["key"] for m in group_members(plan)],
            text="Maja fortalte hvordan hun har hatt det siden sist. Hjemmebesøkene fungerer godt. Vi ble enige om en fast kontaktperson.",
            decisions=[{"text": "Fast kontaktperson i Tildelingskontoret som Maja kan ringe.", "responsible_service": services["tildeling"],
                        "starts_on": timezone.localdate(), "evaluate_on": timezone.localdate() + datetime.timedelta(days=42)}],
        )
    next_on = timezone.localdate() + datetime.timedelta(days=14)
    meetings.meeting_schedule(user=koordinator, plan=plan, starts_at=_at(next_on, 13), ends_at=_at(next_on, 14),
                              place="Psykisk helse og rus, møterom 1")
