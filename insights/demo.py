"""The insights' demo: the demo municipality's school and kindergarten areas, and a year of
de-identified history so that the charts say something (issue 11, point 7).

Run by ``manage.py seed_insights_demo`` after ``seed_demo`` (workflows cannot import insights, so
``seed_demo`` cannot call this). Demo mode only, like ``seed_demo``.

The history is archive data, bulk-created with the ORM rather than through the services (a year of
cases through the services would take minutes): several hundred concerns, referrals, youth
contracts and individual plan offers and plans, opened over the last twelve months, each in the
status its timeline has reached by now (so more are open recently), with the deadline rows of its
steps met in time, met late, open or breached. What keeps it out of every worker's day:

* no service is granted a permission on it, so no list, page or search of a worker shows it (the
  lists filter by the object permission);
* no viewflow task, so no inbox or queue holds it; each concern, referral and youth contract has its
  viewflow process (done when the case is over and owes nothing, else new), as every delivered case
  has (the coordinator's counts read a referral without one as not yet delivered), with no task;
* no reminder row, so no notification, escalation or digest names it;
* its persons are fictional, unnumbered (no fødselsnummer, a birth date only) and never share a
  full name with a person already in the database (the demo's named personas).

Every row is created by one user, ``historikk`` (inactive, no password, no membership), which is
also how a second run knows the history is there.
"""
import datetime
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from consent.models import Consent
from org.models import Area, Service
from people.models import Person, PersonRecord
from referrals.models import (
    Concern, ConcernFeedback, ContractTemplate, IndividualPlan, PlanHolder, PlanOffer, PlanVersion, Referral, ReferralEvent,
    ReferralKind, YouthContract,
)
from viewflow.workflow.models import Process
from viewflow.workflow.status import PROCESS

from workflows.models import ConcernProcess, Deadline, DeadlinePolicy, ReferralProcess, YouthContractProcess

HISTORY_USERNAME = "historikk"
# The texts every history row carries where a case has free text: they say what the row is, and nothing of a person.
HISTORY_TEXT = "Historisk demosak: innholdet er ikke med i demoen."
FEEDBACK_TEXT = "Meldingen er mottatt og behandlet."
HISTORY_SEED = 11  # the same history on every run

# Areas of the demo municipality and the services (workflows.demo.SERVICES keys) in each.
AREAS = [
    ("Sentrum skolekrets", ("fjordvik_skole", "fjordvik_us")),
    ("Sentrum barnehageområde", ("solsiden",)),
    ("Nordbygda barnehageområde", ("eventyr",)),
]

# How many cases of each kind the year holds.
MELDINGER, CONSULTATIONS, REFERRALS, CONTRACTS, OFFERS = 260, 60, 260, 60, 80

GIVEN_NAMES = (
    "Aksel", "Amalie", "Anders", "Andrea", "Astrid", "Benjamin", "Camilla", "Dina", "Elias", "Elise", "Erik", "Filip", "Frida",
    "Guro", "Hedda", "Henrik", "Hilde", "Ingrid", "Isak", "Jakob", "Johanne", "Julie", "Kasper", "Karin", "Kristian", "Leah",
    "Liv", "Magnus", "Marius", "Martine", "Mathias", "Mia", "Mikkel", "Nora", "Oliver", "Oskar", "Pernille", "Philip", "Ragnhild",
    "Sander", "Selma", "Signe", "Sigurd", "Sofie", "Steinar", "Stine", "Synne", "Theo", "Thea", "Tiril", "Tobias", "Trond",
    "Ulrik", "Vilde", "Vilja", "William", "Yasmin", "Åse", "Øystein", "Aylin",
)
FAMILY_NAMES = (
    "Andersen", "Andreassen", "Amundsen", "Antonsen", "Arnesen", "Bakke", "Bakken", "Berntsen", "Birkeland", "Brekke", "Bøe",
    "Christensen", "Danielsen", "Edvardsen", "Eliassen", "Ellingsen", "Eriksen", "Evensen", "Fredriksen", "Gulbrandsen",
    "Gundersen", "Hagen", "Halvorsen", "Hansen", "Haug", "Haugen", "Haugland", "Helland", "Henriksen", "Isaksen", "Iversen",
    "Jacobsen", "Jensen", "Johannessen", "Johansen", "Jørgensen", "Karlsen", "Knudsen", "Knutsen", "Kristiansen", "Larsen",
    "Lien", "Lunde", "Madsen", "Martinsen", "Mathisen", "Mikkelsen", "Myhre", "Myklebust", "Nguyen", "Nilsen", "Nygård",
    "Næss", "Olsen", "Paulsen", "Pedersen", "Pettersen", "Rasmussen", "Ruud", "Rønning", "Sandvik", "Simonsen", "Sivertsen",
    "Solberg", "Solheim", "Strøm", "Svendsen", "Sæther", "Sørensen", "Tangen", "Thomassen", "Thorsen", "Tveit", "Ødegård",
)


def seed(seeded: dict, *, now: datetime.datetime | None = None) -> None:
    """The areas, the history (once: nothing when the history user has created a case) and a
    refresh of the insights' rollup, in one transaction. ``seeded`` is workflows.demo.seed_demo's
    result; ``now`` the end of the year of history (default: now)."""
    from insights.services import rollup_refresh

    now = now or timezone.now()
    with transaction.atomic():
        areas_seed(seeded)
        history_seed(seeded, now=now)
        rollup_refresh(now=now)


def areas_seed(seeded: dict) -> dict[str, Area]:
    """The demo municipality's areas, and its barnehager and schools in them. A service an
    administrator has already put in an area stays there."""
    muni, services = seeded["municipality"], seeded["services"]
    areas = {}
    for name, keys in AREAS:
        areas[name], _ = Area.objects.get_or_create(municipality=muni, name=name)
        Service.objects.filter(pk__in=[services[key].pk for key in keys], area__isnull=True).update(area=areas[name])
    return areas


def history_user():
    user, created = get_user_model().objects.get_or_create(
        username=HISTORY_USERNAME, defaults={"first_name": "Historiske", "last_name": "demodata", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def history_seed(seeded: dict, *, now: datetime.datetime) -> bool:
    """Create the year of history ending at ``now``, unless it exists. Returns whether it created it."""
    user = history_user()
    if Concern.objects.filter(created_by=user).exists():
        return False
    History(seeded, user=user, now=now).create()
    return True


# --- the history ---------------------------------------------------------------------------------


@dataclass
class Clock:
    """One deadline of a case being built: its step, the service that owes it, start, due and when met
    (None: still open). ``subject`` is the row it is on (a case, or an offer)."""

    subject: object
    process: str
    step: str
    service: Service
    starts_at: datetime.datetime
    due_at: datetime.datetime
    met_at: datetime.datetime | None = None
    cancelled_at: datetime.datetime | None = None


@dataclass
class Batch:
    """Rows of one model waiting to be inserted, with the times the database would otherwise stamp
    (``auto_now_add``/``auto_now``), put back after the insert."""

    model: type
    rows: list = field(default_factory=list)
    stamps: list = field(default_factory=list)

    def add(self, row, **stamps):
        self.rows.append(row)
        self.stamps.append(stamps)
        return row

    def save(self):
        if not self.rows:
            return
        self.model.objects.bulk_create(self.rows, batch_size=500)
        fields = sorted({name for stamps in self.stamps for name in stamps})
        if fields:
            for row, stamps in zip(self.rows, self.stamps):
                for name, value in stamps.items():
                    setattr(row, name, value)
            self.model.objects.bulk_update(self.rows, fields, batch_size=500)


class History:
    """Builds the year in memory, then inserts each model's rows in a few statements."""

    def __init__(self, seeded: dict, *, user, now: datetime.datetime):
        self.muni, self.services, self.user, self.now = seeded["municipality"], seeded["services"], user, now
        self.random = random.Random(HISTORY_SEED)
        self.policies = {(p.process, p.step): p for p in DeadlinePolicy.objects.all()}
        taken = set(Person.objects.values_list("given_name", "family_name")) | set(PersonRecord.objects.values_list("given_name", "family_name"))
        self.names = [(g, f) for g in GIVEN_NAMES for f in FAMILY_NAMES if (g, f) not in taken]
        random.Random(HISTORY_SEED).shuffle(self.names)  # its own generator: the cases do not change with the personas
        self.persons, self.records = Batch(Person), []
        self.clocks: list[Clock] = []

    # -- helpers --

    def opened_at(self) -> datetime.datetime:
        """A working-day office hour in the last year (before ``now``), more in the last two months (the
        work grows), fewer in the summer holidays and at Christmas."""
        while True:
            back = self.random.randint(0, 60) if self.random.random() < 0.2 else self.random.randint(0, 364)
            day = timezone.localdate(self.now) - datetime.timedelta(days=back)
            quiet = day.month == 7 or (day.month == 12 and day.day > 20)
            at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(self.random.randint(8, 14), self.random.randint(0, 59))))
            if day.weekday() < 5 and at < self.now and not (quiet and self.random.random() < 0.6):
                return at

    def later(self, at, *, days=0.0, hours=0.0) -> datetime.datetime:
        return at + datetime.timedelta(days=days, hours=hours)

    def happened(self, at) -> bool:
        return at is not None and at <= self.now

    def person(self, at, age, service) -> Person:
        """A fictional person aged ``age`` at ``at``, with ``service``'s record of the name."""
        given, family = self.names.pop()
        opened = timezone.localdate(at)
        birth = opened.replace(year=opened.year - age, day=min(opened.day, 28)) - datetime.timedelta(days=self.random.randint(1, 360))
        person = self.persons.add(
            Person(given_name=given, family_name=family, id_kind=Person.IdKind.NONE, birth_date=birth, municipality=self.muni),
            created_at=at,
        )
        self.records.append((person, service, at))
        return person

    def clock(self, subject, process, step, service, starts_at, met_at=None, *, cancelled_at=None) -> Clock:
        """The step's deadline from its policy; ``met_at`` and ``cancelled_at`` only if they have happened."""
        due_at = self.policies[(process, step)].due_from(starts_at)
        met_at = met_at if self.happened(met_at) else None
        cancelled_at = cancelled_at if met_at is None and self.happened(cancelled_at) else None
        clock = Clock(subject, process, step, service, starts_at, due_at, met_at, cancelled_at)
        self.clocks.append(clock)
        return clock

    def late(self, share) -> bool:
        return self.random.random() < share

    # -- the build --

    def create(self):
        concerns, feedbacks = self.concerns()
        referrals, events = self.referrals()
        contracts = self.contracts()
        offers, consents, plans, holders, versions = self.plans()
        self.persons.save()
        records = Batch(PersonRecord)
        for person, service, at in self.records:
            records.add(PersonRecord(person=person, service=service, given_name=person.given_name, family_name=person.family_name),
                        created_at=at, updated_at=at)
        records.save()
        for batch in (concerns, feedbacks, referrals, events, contracts, offers, consents):
            batch.save()
        Consent.grantees.through.objects.bulk_create(
            [Consent.grantees.through(consent_id=c.pk, service_id=c.recorded_by_service_id) for c in consents.rows]
        )
        for batch in (plans, holders, versions):
            batch.save()
        self.deadlines_save()
        self.processes_save(concerns.rows, ConcernProcess, "concern", "workflows.flows.concern.ConcernFlow")
        self.processes_save(referrals.rows, ReferralProcess, "referral", "workflows.flows.referral.ReferralFlow")
        self.processes_save(contracts.rows, YouthContractProcess, "contract", "workflows.flows.youth_contract.YouthContractFlow")

    def processes_save(self, records, model, field_name, flow):
        """Each record's viewflow process, without a task: new while the record is open or owes a
        deadline, else done when it last changed. Django cannot bulk-insert a multi-table child, so
        the parents are bulk-created and the children's rows inserted in one statement."""
        flow_class = import_string(flow)
        parents = []
        for record in records:
            over = not record.is_open and record.next_deadline_at is None
            parents.append(Process(
                flow_class=flow_class, status=PROCESS.DONE if over else PROCESS.NEW,
                created=getattr(record, "sent_at", None) or getattr(record, "submitted_at", None) or record.created_at,
                finished=record.updated_at if over else None,
            ))
        Process.objects.bulk_create(parents, batch_size=500)
        qn = connection.ops.quote_name
        column = model._meta.get_field(field_name).column
        ptr = model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {qn(model._meta.db_table)} ({qn(ptr)}, {qn(column)}) VALUES (%s, %s)",
                [(parent.pk, record.pk) for parent, record in zip(parents, records)],
            )

    def deadlines_save(self):
        types = {}
        rows = []
        for clock in self.clocks:
            model = type(clock.subject)
            types.setdefault(model, ContentType.objects.get_for_model(model))
            rows.append(Deadline(
                policy=self.policies[(clock.process, clock.step)], subject_type=types[model], subject_id=clock.subject.pk,
                responsible_service=clock.service, starts_at=clock.starts_at, due_at=clock.due_at, met_at=clock.met_at,
                cancelled_at=clock.cancelled_at,
            ))
        Deadline.objects.bulk_create(rows, batch_size=1000)

    def next_deadline(self, clocks) -> datetime.datetime | None:
        """The earliest due of the open ones (what the services keep in ``next_deadline_at``)."""
        return min((c.due_at for c in clocks if c.met_at is None and c.cancelled_at is None), default=None)

    # Concerns: meldinger to barnevern from the barnehager, the schools and the health clinic, and
    # anonymous consultations.

    def concerns(self):
        s = self.services
        reporters = [(s["solsiden"], (1, 5), 5), (s["eventyr"], (1, 5), 3), (s["fjordvik_skole"], (6, 12), 5),
                     (s["fjordvik_us"], (13, 15), 4), (s["helsestasjon"], (0, 17), 3)]
        weights = [w for *_, w in reporters]
        concerns, feedbacks = Batch(Concern), Batch(ConcernFeedback)
        for _ in range(MELDINGER):
            service, ages, _w = self.random.choices(reporters, weights)[0]
            self.melding(service, self.random.randint(*ages), concerns, feedbacks)
        for _ in range(CONSULTATIONS):
            service, ages, _w = self.random.choices(reporters, weights)[0]
            self.consultation(service, self.random.randint(*ages), concerns)
        return concerns, feedbacks

    def _concern(self, kind, service, at, **fields):
        return Concern(
            kind=kind, reporting_service=service, receiving_service=self.services["barnevern"], created_by=self.user,
            observations=HISTORY_TEXT, categories=[self.random.choice(Concern.Category.values)],
            urgency=self.random.choices(Concern.Urgency.values, [85, 13, 2])[0], submitted_at=at, status=Concern.Status.SUBMITTED,
            **fields,
        )

    def melding(self, service, age, concerns, feedbacks):
        t0 = self.opened_at()
        bv = self.services["barnevern"]
        concern = self._concern(
            Concern.Kind.MELDING, service, t0, person=self.person(t0, age, service), legal_basis="barnevernsloven § 13-2",
            parents_informed=True, child_informed=age >= 7,
            not_informed_reason="" if age >= 7 else "Barnet er for lite til å forstå.",
        )
        received = self.later(t0, hours=self.random.uniform(26, 60) if self.late(0.08) else self.random.uniform(0.3, 20))
        reviewed = None if self.late(0.02) else self.later(received, days=self.random.uniform(8, 14) if self.late(0.1) else self.random.uniform(1, 6))
        investigate = self.random.random() < 0.55
        review = self.clock(concern, "concern", "review", bv, t0, reviewed)
        clocks = [self.clock(concern, "concern", "receipt", bv, t0, received), review]
        initial_at = reviewed and self.later(reviewed, days=self.random.uniform(0, 4) if not self.late(0.08) else self.random.uniform(15, 25))
        clocks.append(self.clock(concern, "concern", "feedback_initial", bv, t0, initial_at))
        last = t0
        if self.happened(received):
            concern.status, concern.received_at, concern.received_by, last = Concern.Status.RECEIVED, received, self.user, received
        if self.happened(reviewed):
            concern.reviewed_at, last = reviewed, reviewed
            if investigate:
                concern.status, concern.review_decision = Concern.Status.INVESTIGATING, Concern.ReviewDecision.INVESTIGATE
            else:
                concern.status, concern.review_decision = Concern.Status.CLOSED, Concern.ReviewDecision.CLOSE
                concern.review_justification = FEEDBACK_TEXT
            if self.happened(initial_at):
                feedbacks.add(ConcernFeedback(concern=concern, kind=ConcernFeedback.Kind.INITIAL, message=FEEDBACK_TEXT,
                                              investigation_opened=investigate, sent_at=initial_at, sent_by=self.user))
                last = max(last, initial_at)
        if self.happened(reviewed) and investigate:
            # § 2-2: three months from the end of the one-week review window.
            ended = None if self.late(0.05) else self.later(
                review.due_at, days=self.random.uniform(95, 125) if self.late(0.12) else self.random.uniform(25, 88))
            investigation = self.clock(concern, "concern", "investigation", bv, review.due_at, ended)
            clocks.append(investigation)
            if investigation.met_at:
                concern.status, concern.investigation_ended_at, last = Concern.Status.INVESTIGATED, ended, max(last, ended)
                concern.investigation_outcome = self.random.choice(Concern.Outcome.values)
                final_at = self.later(ended, days=self.random.uniform(22, 30) if self.late(0.08) else self.random.uniform(1, 15))
                clocks.append(self.clock(concern, "concern", "feedback_final", bv, ended, final_at))
                if self.happened(final_at):
                    feedbacks.add(ConcernFeedback(concern=concern, kind=ConcernFeedback.Kind.FINAL, message=FEEDBACK_TEXT,
                                                  sent_at=final_at, sent_by=self.user))
                    last = max(last, final_at)
        concern.next_deadline_at = self.next_deadline(clocks)
        concerns.add(concern, created_at=t0 - datetime.timedelta(minutes=self.random.randint(5, 90)), updated_at=last)

    def consultation(self, service, age, concerns):
        t0 = self.opened_at()
        concern = self._concern(Concern.Kind.CONSULTATION, service, t0, child_age=age)
        answered = self.later(t0, days=self.random.uniform(8, 14) if self.late(0.1) else self.random.uniform(0.2, 5))
        clock = self.clock(concern, "concern", "consultation_answer", self.services["barnevern"], t0, answered)
        last = t0
        if clock.met_at:
            concern.status, concern.advice, concern.answered_at, last = Concern.Status.ANSWERED, FEEDBACK_TEXT, answered, answered
        concern.next_deadline_at = self.next_deadline([clock])
        concerns.add(concern, created_at=t0 - datetime.timedelta(minutes=self.random.randint(5, 60)), updated_at=last)

    # Referrals: who refers to whom (domain P6), some through the substance service's routing queue.

    def referrals(self):
        s, K = self.services, ReferralKind
        routes = [
            # sender, target (None: to the routing queue, routed to one of ROUTED), kind, ages, weight
            ("radgivning", "tildeling", K.HOUSING, (19, 66), 6), ("radgivning", "rask", K.MENTAL_HEALTH, (18, 50), 5),
            ("radgivning", "nav", K.WORK, (18, 60), 3), ("nav", None, K.SUBSTANCE, (18, 60), 5),
            ("legesenter", None, K.SUBSTANCE, (18, 70), 4), ("helsestasjon", "rus", K.SUBSTANCE, (16, 20), 2),
            ("rus", "tsb", K.SPECIALIST, (18, 60), 4), ("barnevern", "hfu", K.DRUG_TESTING, (14, 19), 2),
            ("politi", "hfu", K.DRUG_TESTING, (15, 19), 2), ("nav", "tildeling", K.HOUSING, (20, 66), 2),
            ("helsestasjon", "rask", K.MENTAL_HEALTH, (16, 20), 2), ("legesenter", "rask", K.MENTAL_HEALTH, (18, 65), 3),
        ]
        routed_to = ["tildeling", "rask", "tsb", "nav"]
        weights = [r[-1] for r in routes]
        referrals, events = Batch(Referral), Batch(ReferralEvent)
        for _ in range(REFERRALS):
            sender, target, kind, ages, _w = self.random.choices(routes, weights)[0]
            self.referral(s[sender], s[target] if target else None, kind, self.random.randint(*ages),
                          s[self.random.choice(routed_to)], referrals, events)
        return referrals, events

    def referral(self, sender, target, kind, age, routed_target, referrals, events):
        S = Referral.Status
        t0 = self.opened_at()
        router = None if target else self.services["rus"]
        referral = Referral(person=self.person(t0, age, sender), sender_service=sender, created_by=self.user, kind=kind,
                            reason=HISTORY_TEXT, routing_service=router, target_service=target, status=S.REQUESTED, sent_at=t0)
        timeline = [(t0, S.REQUESTED, sender, "")]
        clocks = []
        answer_from = t0
        if router:
            routed = None if self.late(0.03) else self.later(
                t0, days=self.random.uniform(5, 9) if self.late(0.1) else self.random.uniform(0.2, 3.5))
            routing = self.clock(referral, "referral", "routing", router, t0, routed)
            clocks.append(routing)
            if not routing.met_at:
                return self._referral_add(referral, timeline, clocks, referrals, events)
            referral.target_service, answer_from = routed_target, routed
        target = referral.target_service
        received = self.later(answer_from, hours=self.random.uniform(1, 40))
        decided = self.later(received, days=self.random.uniform(7, 12) if self.late(0.12) else self.random.uniform(0.2, 4))
        cancelled = self.late(0.04)
        if cancelled or self.late(0.03):
            decided = None  # cancelled by the sender, or never answered (breached once due)
        clocks.append(self.clock(referral, "referral", "answer", target, answer_from, decided,
                                 cancelled_at=self.later(received, days=1) if cancelled else None))
        if self.happened(received):
            timeline.append((received, S.RECEIVED, target, ""))
        if cancelled:
            at = self.later(received, days=1)
            if self.happened(at):
                timeline.append((at, S.CANCELLED, sender, "Trukket av avsender."))
            return self._referral_add(referral, timeline, clocks, referrals, events)
        if not self.happened(decided):
            return self._referral_add(referral, timeline, clocks, referrals, events)
        if self.random.random() < 0.2:
            timeline.append((decided, S.REJECTED, target, "Ikke i vår målgruppe."))
            return self._referral_add(referral, timeline, clocks, referrals, events)
        timeline.append((decided, S.ACCEPTED, target, ""))
        started = self.later(decided, days=self.random.uniform(1, 14))
        if self.happened(started):
            timeline.append((started, S.IN_PROGRESS, target, ""))
            if self.random.random() < 0.06:
                held = self.later(started, days=self.random.uniform(5, 30))
                if self.happened(held):
                    timeline.append((held, S.ON_HOLD, target, "Venter på plass."))
                return self._referral_add(referral, timeline, clocks, referrals, events)
            ended = self.later(started, days=self.random.uniform(20, 150))
            if self.happened(ended):
                failed = self.random.random() < 0.12
                timeline.append((ended, S.FAILED if failed else S.COMPLETED, target, "Personen møtte ikke." if failed else ""))
                referral.outcome = "Personen møtte ikke." if failed else "Avsluttet etter plan."
        return self._referral_add(referral, timeline, clocks, referrals, events)

    def _referral_add(self, referral, timeline, clocks, referrals, events):
        last_at, status, _service, reason = timeline[-1]
        referral.status, referral.status_reason = status, reason
        if status not in Referral.OPEN_STATUSES:
            referral.closed_at = last_at
        referral.next_deadline_at = self.next_deadline(clocks)
        referrals.add(referral, created_at=referral.sent_at, updated_at=last_at)
        for at, step_status, service, step_reason in timeline:
            events.add(ReferralEvent(referral=referral, status=step_status, service=service, reason=step_reason), at=at)

    # Youth contracts: the police variant (the police initiate, HFU or the health clinic follows up)
    # and voluntary contracts.

    def contracts(self):
        s = self.services
        templates = {t.variant: t for t in ContractTemplate.objects.filter(active=True).order_by("id")}
        contracts = Batch(YouthContract)
        for _ in range(CONTRACTS):
            police = self.random.random() < 0.45
            template = templates[ContractTemplate.Variant.POLICE if police else ContractTemplate.Variant.VOLUNTARY]
            initiating = s["politi"] if police else s[self.random.choice(["fjordvik_us", "helsestasjon", "barnevern", "hfu"])]
            followup = s[self.random.choice(["hfu", "hfu", "helsestasjon"])]
            age = self.random.randint(15, 17) if police else self.random.randint(14, 21)
            self.contract(template, initiating, followup, s["politi"] if police else None, age, contracts)
        return contracts

    def contract(self, template, initiating, followup, police, age, contracts):
        from dateutil.relativedelta import relativedelta

        S = YouthContract.Status
        t0 = self.opened_at()
        activated = None if self.late(0.04) else self.later(
            t0, days=self.random.uniform(16, 24) if self.late(0.1) else self.random.uniform(2, 12))
        starts_on = timezone.localdate(activated or self.later(t0, days=7))  # the planned start if never signed
        ends_on = starts_on + relativedelta(months=template.default_months) - datetime.timedelta(days=1)
        contract = YouthContract(
            template=template, variant=template.variant, person=self.person(t0, age, initiating), initiating_service=initiating,
            followup_service=followup, police_service=police, created_by=self.user, status=S.AWAITING_SIGNATURES,
            police_decision_on=timezone.localdate(t0) - datetime.timedelta(days=self.random.randint(2, 10)) if police else None,
            starts_on=starts_on, ends_on=ends_on, conditions=list(template.default_conditions),
        )
        clocks = [self.clock(contract, "youth_contract", "signatures", followup, t0, activated)]
        last = t0
        if self.happened(activated):
            contract.status, contract.activated_at, last = S.ACTIVE, activated, activated
            end_of_period = timezone.make_aware(datetime.datetime.combine(ends_on + datetime.timedelta(days=1), datetime.time()))
            fate = self.random.random()
            if fate < 0.15:  # broken (police) or ended early (voluntary) somewhere in the period
                closed = self.later(activated, days=self.random.uniform(20, (ends_on - starts_on).days))
                status = S.BROKEN if police else S.ENDED
            elif fate < 0.25:  # not completed: still active after its period (breached once it is over)
                closed, status = None, S.ACTIVE
            else:
                closed = self.later(end_of_period, days=self.random.uniform(2, 9) if self.late(0.12) else -self.random.uniform(0, 5))
                status = S.COMPLETED
            clocks.append(self.clock(contract, "youth_contract", "contract_end", followup, end_of_period, closed))
            if self.happened(closed):
                contract.status, contract.closed_at, last = status, closed, closed
                contract.outcome = "Kontrakten er fullført." if status == S.COMPLETED else "Kontrakten er avsluttet."
                if police:
                    reported = self.later(closed, days=self.random.uniform(15, 20) if self.late(0.1) else self.random.uniform(1, 10))
                    report = self.clock(contract, "youth_contract", "outcome_report", followup, closed, reported)
                    clocks.append(report)
                    if report.met_at:
                        contract.outcome_reported_at, last = reported, reported
        contract.next_deadline_at = self.next_deadline(clocks)
        contracts.add(contract, created_at=t0, updated_at=last)

    # Individual plans: offers, their answers, and the plans of those accepted (domain P4).

    def plans(self):
        s = self.services
        offerers = [("rus", 6), ("nav", 3), ("tildeling", 2), ("legesenter", 2), ("helsestasjon", 1)]
        offers, consents, plans, holders, versions = Batch(PlanOffer), Batch(Consent), Batch(IndividualPlan), Batch(PlanHolder), Batch(PlanVersion)
        for _ in range(OFFERS):
            key = self.random.choices([k for k, _ in offerers], [w for _, w in offerers])[0]
            self.plan(s[key], self.random.randint(18, 66), offers, consents, plans, holders, versions)
        return offers, consents, plans, holders, versions

    def plan(self, service, age, offers, consents, plans, holders, versions):
        t0 = self.opened_at()
        person = self.person(t0, age, service)
        offer = offers.add(PlanOffer(person=person, offered_by_service=service, reason=HISTORY_TEXT, offered_on=timezone.localdate(t0),
                                     registered_by=self.user), registered_at=t0)
        answered = None if self.late(0.04) else self.later(
            t0, days=self.random.uniform(15, 21) if self.late(0.1) else self.random.uniform(1, 12))
        self.clock(offer, "individual_plan", "offer_answer", service, t0, answered)
        if not self.happened(answered):
            return
        offer.answer = PlanOffer.Answer.ACCEPTED if self.random.random() < 0.8 else PlanOffer.Answer.DECLINED
        offer.answered_on, offer.answered_by_person, offer.answer_consenter = timezone.localdate(answered), True, "person"
        offer.answer_recorded_by = self.user
        if offer.answer != PlanOffer.Answer.ACCEPTED:
            return
        created = self.later(answered, days=self.random.uniform(0, 20))
        if not self.happened(created):
            return
        day = timezone.localdate(created)
        paused = self.random.random() < 0.06
        paused_at = self.later(created, days=self.random.uniform(20, 120)) if paused else None
        paused = paused and self.happened(paused_at)
        consent = consents.add(Consent(
            person=person, purpose=Consent.Purpose.INDIVIDUAL_PLAN, information="Den individuelle planen: mål, tiltak og deltakere.",
            valid_from=day, method=Consent.Method.SIGNED, given_by_person=True, recorded_by=self.user, recorded_by_service=service,
            withdrawn_at=paused_at if paused else None, withdrawn_by=self.user if paused else None,
        ), recorded_at=created)
        revision_due_on = day + datetime.timedelta(days=180)
        plan = plans.add(IndividualPlan(
            kind=self.random.choices(IndividualPlan.Kind.values, [8, 1, 1])[0], person=person, offer=offer, consent=consent,
            registered_by_service=service, status=IndividualPlan.Status.PAUSED if paused else IndividualPlan.Status.ACTIVE,
            goals=HISTORY_TEXT, period_start=day, period_end=day + datetime.timedelta(days=365), revision_due_on=revision_due_on,
            participation=self.random.choice(IndividualPlan.Participation.values), created_by=self.user,
            paused_at=paused_at if paused else None,
        ), created_at=created, updated_at=paused_at if paused else created)
        holders.add(PlanHolder(plan=plan, service=service, started_at=created))
        versions.add(PlanVersion(plan=plan, number=1, change=PlanVersion.Change.CREATED, changed_by=self.user, changed_by_service=service),
                     changed_at=created)
        if paused:
            plan.version = 2
            versions.add(PlanVersion(plan=plan, number=2, change=PlanVersion.Change.PAUSED, changed_by=self.user,
                                     changed_by_service=service, changes={"status": ["active", "paused"]}), changed_at=paused_at)
        revision_starts = timezone.make_aware(datetime.datetime.combine(revision_due_on, datetime.time()))
        revised = self.later(revision_starts, days=self.random.uniform(1, 14) if self.late(0.2) else -self.random.uniform(0, 10))
        if paused or self.late(0.1):
            revised = None  # not revised (yet): open, and breached once the day has passed; a paused plan's is cancelled
        self.clock(plan, "individual_plan", "revision", service, revision_starts, revised, cancelled_at=paused_at if paused else None)
