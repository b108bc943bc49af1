"""The BrukerPlan demo round, run by BrukerPlan-koordinering (its coordinator ``brukerplan``).

Seeded once (when no round exists), through the real services, opened twelve days ago with its
reference date ten days ago and its deadline in five days (so the week-ahead reminders are due):
- Psykisk helse og rus (``ruskoordinator``) has mapped everyone in scope and marked its mapping done;
- NAV Fjordvik (``nav``) has mapped some of its users; one of them (Ola) is mapped by Psykisk helse
  og rus too, so the report counts him once; one mapping says the person cares for children under
  18, which starts NAV's follow-up of the children;
- Tildelingskontoret (``tildeling``) is behind schedule: one person marked in scope, none mapped.
"""
import datetime

from django.utils import timezone

from people.services import person_get_or_create, service_period_record
from people.validators import synthetic_national_id
from referrals.models import BrukerPlanRound, LifeArea
from workflows.brukerplan import services as svc
from workflows.demo import days_ago

# given, family, age, the services (keys) that gave the person a service in the last year
PERSONS = [
    ("Ola", "Berg", 41, ("rus", "nav")),
    ("Siv", "Lund", 29, ("rus",)),
    ("Arne", "Dahl", 55, ("rus", "tildeling")),
    ("Linn", "Moe", 23, ("nav",)),
    ("Knut", "Vik", 37, ("nav",)),
    ("Eva", "Strand", 62, ("tildeling",)),
    ("Tor", "Aas", 19, ("tildeling", "nav")),
    ("Mona", "Lie", 17, ("rus",)),  # under the round's threshold (18): on no worklist
]
MAPPER = {"rus": "ruskoordinator", "nav": "nav", "tildeling": "tildeling"}


def _levels(seed: int) -> dict:
    return {area: 1 + (seed + i) % 3 for i, area in enumerate(LifeArea.values)}


def seed(seeded: dict) -> None:
    if BrukerPlanRound.objects.exists():
        return
    services, users = seeded["services"], seeded["users"]
    coordinator = users["brukerplan"]
    today = timezone.localdate()
    persons = {}
    with days_ago(200):
        for n, (given, family, age, keys) in enumerate(PERSONS):
            birth = today - datetime.timedelta(days=int(age * 365.25) + 30 * n)
            first = keys[0]
            person = person_get_or_create(user=users[MAPPER[first]], given_name=given, family_name=family,
                                          national_id=synthetic_national_id(birth, (950 if birth.year >= 2000 else 450) + n), municipality=seeded["municipality"],
                                          service=services[first])
            for key in keys:
                if key != first:
                    person_get_or_create(user=users[MAPPER[key]], given_name=given, family_name=family, national_id=person.national_id,
                                         service=services[key])
                service_period_record(user=users[MAPPER[key]], service=services[key], person=person,
                                      started_on=timezone.localdate() - datetime.timedelta(days=60 + 10 * n))
            persons[given] = person

    with days_ago(12):
        day = timezone.localdate()
        round_ = svc.round_create(
            user=coordinator, coordinator_service=services["brukerplan"], title=f"BrukerPlan {day.year}", period_start=day - datetime.timedelta(days=8),
            period_end=day + datetime.timedelta(days=30), reference_date=day + datetime.timedelta(days=2), deadline=day + datetime.timedelta(days=17),
            age_threshold=BrukerPlanRound.AgeThreshold.EIGHTEEN, services=[services["rus"], services["nav"], services["tildeling"]],
        )
        svc.round_open(user=coordinator, round=round_)

    def mapped(key, given, *, seed_, children=False, ago):
        with days_ago(ago):
            user, service = users[MAPPER[key]], services[key]
            mapping = svc.mapping_scope_mark(user=user, round=round_, service=service, person_code=persons[given].code, in_scope=True,
                                             reason="both")
            return svc.mapping_save(user=user, mapping=mapping, version=mapping.version, sex="male" if seed_ % 2 else "female",
                                    has_children=children, levels=_levels(seed_), services_used=["gp", "municipal_substance"],
                                    expected_need=["housing_services"], lar=seed_ % 3 == 0, tsb=seed_ % 2 == 0, ansvarsgruppe="yes",
                                    individual_plan="no")

    mapped("rus", "Ola", seed_=1, ago=7)
    mapped("rus", "Arne", seed_=2, ago=6)
    with days_ago(6):
        svc.mapping_scope_mark(user=users["ruskoordinator"], round=round_, service=services["rus"], person_code=persons["Siv"].code,
                               in_scope=False)
    with days_ago(5):
        svc.service_complete(user=users["ruskoordinator"], round=round_, service=services["rus"])
    mapped("nav", "Ola", seed_=3, ago=3)
    mapped("nav", "Linn", seed_=4, children=True, ago=2)
    with days_ago(1):
        svc.mapping_scope_mark(user=users["tildeling"], round=round_, service=services["tildeling"], person_code=persons["Eva"].code,
                               in_scope=True, reason="mental_health")
