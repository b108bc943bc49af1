"""The insights rollup (insights.services.rollup_refresh): its counts against plain counts over the
case tables, written here without the rollup's code, for every registered process.

The world, built through the real services on Tuesday 1 September 2026, 10:00 (Oslo), in
Testkommune 9997 (tests.referral_factories):
- concerns from Solsiden barnehage (area "Nordbyen skolekrets") to Barneverntjenesten: a melding
  sent, a melding closed after review, a consultation (the child is 5) sent, one answered, one
  upgraded to a melding (whose draft is not sent), and a melding draft (never counted);
- referrals from Rådgivning: one to Tildelingskontoret (area "Sentrum"), one to the routing queue
  of Psykisk helse og rus, one cancelled by the sender; the person is a contact of about 34;
- youth contracts from the police to HFU: one awaiting signatures (Emil, 16), one completed;
- an individual plan held by a second "Psykisk helse og rus" (Ola, 30);
- a BrukerPlan round opened with rus and NAV taking part (rus has marked its mapping done), and a
  round being set up (never counted).
"""
import dataclasses
import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, models, transaction

from insights.models import AGE_BANDS, DURATION_BUCKETS, CaseCount, DeadlineCount, RollupRun, StepDuration
from insights.services import age_at, age_band, duration_bucket, rollup_refresh
from org.models import Area, Membership, Municipality, Service
from referrals.models import BrukerPlanParticipation, Concern, IndividualPlan, PlanHolder, Referral, YouthContract
from tests.factories import advance, make_child, make_consultation, make_melding, make_service, member, next_child_identity
from tests.referral_factories import make_contact, make_referral, make_referral_org
from tests.workflows.brukerplan.scenario import BP, make_round
from tests.workflows.individual_plan.scenario import adult, create_plan, make_plans
from tests.workflows.youth_contract.scenario import Youth, active_contract, initiate, young_person
from workflows import processes as registry
from workflows.brukerplan import services as bp_svc
from workflows.checks import registry_problems
from workflows.concern import services as concern_svc
from workflows.models import Deadline
from workflows.processes import process_named
from workflows.referral import services as referral_svc
from workflows.services.deadlines import deadline_for
from workflows.youth_contract import services as yc_svc

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=OSLO)
SEPTEMBER = datetime.date(2026, 9, 1)


@dataclasses.dataclass
class World:
    ro: object
    yc: Youth
    ip: object
    bp: BP
    nordbyen: Area
    sentrum: Area
    melding: Concern
    referral: Referral
    round: object

    @property
    def org(self):
        return self.ro.org


def youth_services(org) -> Youth:
    muni = org.municipality
    police = make_service(muni, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    other_police = make_service(muni, "Nabodalen politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    hfu = make_service(muni, "Helsestasjon for ungdom (HFU)", Service.Kind.HELSESTASJON)
    return Youth(police=police, other_police=other_police, hfu=hfu, officer=member(police), other_officer=member(other_police),
                 nurse=member(hfu), nurse_leader=member(hfu, role=Membership.Role.LEADER))


def brukerplan_services(org) -> BP:
    muni = org.municipality
    rus = make_service(muni, "Psykisk helse og rus (BrukerPlan)", Service.Kind.RUSTJENESTE)
    coordination = make_service(muni, "BrukerPlan-koordinering", Service.Kind.OTHER)
    return BP(org=org, rus=rus, nav=org.nav, coordination=coordination, rus_worker=member(rus), nav_worker=org.nav_staff,
              coordinator=member(coordination, role=Membership.Role.LEADER))


@pytest.fixture
def world() -> World:
    with time_machine.travel(T0, tick=False):
        ro = make_referral_org()
        org = ro.org
        nordbyen = Area.objects.create(municipality=org.municipality, name="Nordbyen skolekrets")
        sentrum = Area.objects.create(municipality=org.municipality, name="Sentrum")
        Service.objects.filter(pk=org.barnehage.pk).update(area=nordbyen)
        Service.objects.filter(pk=ro.tildeling.pk).update(area=sentrum)

        melding = make_melding(org)
        advance(make_melding(org), org, "closed")
        make_consultation(org)
        concern_svc.consultation_answer(concern=make_consultation(org), user=org.caseworker, advice="Snakk med helsesykepleier.")
        concern_svc.consultation_upgrade(consultation=make_consultation(org), user=org.reporter, person=make_child(org, **next_child_identity()),
                                         parents_informed=True, child_informed=True)
        make_melding(org, submit=False)

        referral = make_referral(ro)
        make_referral(ro, contact=make_contact(ro, given="Per"), via_coordinator=True)
        referral_svc.referral_cancel(referral=make_referral(ro, contact=make_contact(ro, given="Siri")), user=ro.sender, reason="Feil mottaker.")

        yc = youth_services(org)
        initiate(org, yc)
        person, guardian = young_person(org, yc, given="Jonas", start=610)
        yc_svc.contract_complete(contract=active_contract(org, yc, person=person, guardian=guardian), user=yc.nurse, outcome="Fullført.")

        ip = make_plans(org)
        create_plan(ip, adult(org, ip))

        bp = brukerplan_services(org)
        round_ = make_round(bp)
        bp_svc.service_complete(user=bp.rus_worker, round=round_, service=bp.rus)
        make_round(bp, open_=False, title="Neste runde")
    return World(ro=ro, yc=yc, ip=ip, bp=bp, nordbyen=nordbyen, sentrum=sentrum, melding=melding, referral=referral, round=round_)


def refresh(now=T0) -> RollupRun:
    with time_machine.travel(now, tick=False):
        return rollup_refresh(now=now)


# --- the independent counts: plain queries over the case tables ----------------------------------------------------


def cases_from_records() -> Counter:
    return Counter({
        "concern": Concern.objects.exclude(status=Concern.Status.DRAFT).count(),
        "referral": Referral.objects.exclude(sent_at=None).count(),
        "youth_contract": YouthContract.objects.count(),
        "individual_plan": IndividualPlan.objects.count(),
        "brukerplan": BrukerPlanParticipation.objects.filter(round__status__in=["open", "closed"]).count(),
    })


def open_from_records() -> Counter:
    """Open cases by (process, the service holding them), from each record's status."""
    open_ = Counter()
    for service in Concern.objects.filter(status__in=["submitted", "received", "investigating"]).values_list("receiving_service", flat=True):
        open_["concern", service] += 1
    for target, routing in Referral.objects.filter(status__in=Referral.OPEN_STATUSES).values_list("target_service", "routing_service"):
        open_["referral", target or routing] += 1
    for service in YouthContract.objects.filter(status__in=YouthContract.OPEN_STATUSES).values_list("followup_service", flat=True):
        open_["youth_contract", service] += 1
    for service in PlanHolder.objects.filter(ended_at=None).exclude(plan__status="closed").values_list("service", flat=True):
        open_["individual_plan", service] += 1
    for service in BrukerPlanParticipation.objects.filter(round__status="open", completed_at=None).values_list("service", flat=True):
        open_["brukerplan", service] += 1
    return open_


def closed_from_records() -> Counter:
    return Counter({
        "concern": Concern.objects.filter(status__in=["closed", "investigated", "answered", "upgraded"]).count(),
        "referral": Referral.objects.filter(status__in=["completed", "rejected", "cancelled", "failed"]).count(),
        "youth_contract": YouthContract.objects.exclude(status__in=YouthContract.OPEN_STATUSES).count(),
        "individual_plan": IndividualPlan.objects.filter(status="closed").count(),
        "brukerplan": BrukerPlanParticipation.objects.filter(round__status__in=["open", "closed"]).exclude(
            completed_at=None, round__status="open").count(),
    })


def rollup(*dims, **filters) -> Counter:
    counts = Counter()
    for row in CaseCount.objects.filter(**filters).values_list(*dims, "n"):
        counts[row[:-1] if len(dims) > 1 else row[0]] += row[-1]
    return counts


class RollupCaseCountTests:
    def test_it_counts_every_registered_process_as_the_case_tables_do(self, world):
        refresh()

        assert set(rollup("process")) == {p.name for p in registry.processes()}
        assert rollup("process") == cases_from_records()
        assert cases_from_records() == Counter(concern=5, referral=3, youth_contract=2, individual_plan=1, brukerplan=2)

    def test_it_leaves_out_unsent_concerns_and_rounds_not_opened(self, world):
        refresh()

        # Two drafts (the one written and the upgraded consultation's melding) and a round being set up.
        assert Concern.objects.filter(status=Concern.Status.DRAFT).count() == 2
        assert BrukerPlanParticipation.objects.filter(round__status="draft").count() == 2
        assert rollup("process")["concern"] == 5 and rollup("process")["brukerplan"] == 2

    def test_it_counts_open_cases_by_the_service_holding_them(self, world):
        refresh()

        assert rollup("process", "service_id", closed_month=None) == open_from_records()
        assert open_from_records()["referral", world.ro.rus.pk] == 1  # waiting in the routing queue
        assert open_from_records()["brukerplan", world.bp.nav.pk] == 1

    def test_it_counts_closed_cases_in_the_month_they_closed(self, world):
        refresh()

        assert rollup("process", closed_month=SEPTEMBER) == closed_from_records()
        assert not CaseCount.objects.exclude(closed_month=None).exclude(closed_month=SEPTEMBER).exists()
        assert set(CaseCount.objects.values_list("opened_month", flat=True)) == {SEPTEMBER}

    def test_it_counts_who_sends_cases_to_whom(self, world):
        refresh()
        ro, yc, ip, bp = world.ro, world.yc, world.ip, world.bp

        flows = rollup("process", "from_service_id", "service_id")
        assert flows["concern", ro.org.barnehage.pk, ro.org.barnevern.pk] == 5
        referrals = Counter((s, t or r) for s, t, r in Referral.objects.values_list("sender_service", "target_service", "routing_service"))
        assert {(f, t): n for (p, f, t), n in flows.items() if p == "referral"} == referrals
        assert flows["youth_contract", yc.police.pk, yc.hfu.pk] == 2
        assert flows["individual_plan", ip.rus.pk, ip.rus.pk] == 1
        assert flows["brukerplan", bp.coordination.pk, bp.rus.pk] == flows["brukerplan", bp.coordination.pk, bp.nav.pk] == 1

    def test_it_counts_by_the_kind_and_municipality_of_the_holding_service(self, world):
        refresh()

        kinds = Counter()
        for process, service, n in CaseCount.objects.values_list("process", "service", "n"):
            kinds[process, Service.objects.get(pk=service).kind] += n
        assert rollup("process", "service_kind") == kinds
        assert rollup("municipality_id") == Counter({world.org.municipality.pk: sum(cases_from_records().values())})

    def test_it_counts_by_the_area_of_the_service_a_case_came_from_else_of_the_one_holding_it(self, world):
        refresh()

        from_nordbyen = Concern.objects.exclude(status="draft").filter(reporting_service__area=world.nordbyen).count()
        to_sentrum = Referral.objects.filter(sender_service__area=None, target_service__area=world.sentrum).count()
        assert rollup("area_id") == Counter({world.nordbyen.pk: from_nordbyen, world.sentrum.pk: to_sentrum,
                                             None: sum(cases_from_records().values()) - from_nordbyen - to_sentrum})
        assert (from_nordbyen, to_sentrum) == (5, 2)

    def test_it_counts_the_same_after_state_changes(self, world):
        refresh()
        org, ro = world.org, world.ro
        with time_machine.travel(T0 + datetime.timedelta(days=40), tick=False):
            advance(world.melding, org, "closed")
            referral_svc.referral_cancel(referral=world.referral, user=ro.sender)
            bp_svc.service_complete(user=world.bp.nav_worker, round=world.round, service=world.bp.nav)
        refresh(T0 + datetime.timedelta(days=41))

        assert rollup("process", "service_id", closed_month=None) == open_from_records()
        assert rollup("process", closed_month=datetime.date(2026, 10, 1)) == Counter(concern=1, referral=1, brukerplan=1)
        assert rollup("process") == cases_from_records()

    def test_it_counts_a_plan_closed_from_its_closed_at(self, world):
        # No service closes a plan yet; the database keeps status and closed_at together for the one that will.
        plan = IndividualPlan.objects.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            IndividualPlan.objects.filter(pk=plan.pk).update(status="closed")
        IndividualPlan.objects.filter(pk=plan.pk).update(status="closed", closed_at=T0 + datetime.timedelta(days=45))
        refresh(T0 + datetime.timedelta(days=46))

        assert rollup("closed_month", process="individual_plan") == Counter({datetime.date(2026, 10, 1): 1})
        assert rollup("process", "service_id", closed_month=None) == open_from_records()

    def test_it_replaces_the_rows_on_a_second_refresh(self, world):
        first = refresh()
        rows = Counter(CaseCount.objects.values_list("process", "service", "from_service", "area", "age_band", "opened_month",
                                                    "closed_month", "n"))
        second = refresh(T0 + datetime.timedelta(minutes=10))

        assert Counter(CaseCount.objects.values_list("process", "service", "from_service", "area", "age_band", "opened_month",
                                                    "closed_month", "n")) == rows
        assert rollup("process") == cases_from_records()
        assert DeadlineCount.objects.count() == len(set(DeadlineCount.objects.values_list(
            "municipality", "process", "step", "service", "due_month", "state")))
        assert list(RollupRun.objects.values_list("pk", flat=True)) == [second.pk, first.pk]
        assert second.cases == first.cases == sum(cases_from_records().values())

    def test_it_records_the_run(self, world):
        run = refresh()

        assert (run.started_at, run.finished_at, run.cases) == (T0, T0, 13)
        assert run.seconds >= 0


class RollupAgeTests:
    """The age band is the person's age on the (Oslo) day the case reached the other service."""

    def test_it_counts_a_child_in_the_band_it_enters_on_its_birthday(self, org):
        # 00:30 in Oslo is still 31 August in UTC: the child turns 13 on the Oslo day only.
        just_after_midnight = datetime.datetime(2026, 9, 1, 0, 30, tzinfo=OSLO)
        with time_machine.travel(just_after_midnight, tick=False):
            make_melding(org, child=make_child(org, birth=datetime.date(2013, 9, 1), start=510))
            make_melding(org, child=make_child(org, birth=datetime.date(2013, 9, 2), start=520))
        refresh(just_after_midnight)

        assert rollup("age_band", "opened_month", process="concern") == Counter({("13-15", SEPTEMBER): 1, ("6-12", SEPTEMBER): 1})

    def test_it_takes_the_age_given_when_there_is_no_birth_date(self, world):
        refresh()

        bands = rollup("process", "age_band")
        assert bands["concern", "0-5"] == 3  # the consultations: "a girl of 5"
        assert bands["referral", "25-39"] == 3  # contacts of about 34, no birth date
        assert bands["youth_contract", "16-17"] == 2  # Emil and Jonas, born 2010
        assert bands["individual_plan", "25-39"] == 1  # Ola, 30
        assert bands["brukerplan", "unknown"] == 2  # a service's mapping work, no person

    def test_it_bands_ages_on_the_bounds(self):
        assert [age_band(a) for a in (0, 5, 6, 12, 13, 15, 16, 17, 18, 24, 25, 39, 40, 66, 67, 101)] == [
            "0-5", "0-5", "6-12", "6-12", "13-15", "13-15", "16-17", "16-17", "18-24", "18-24", "25-39", "25-39", "40-66", "40-66",
            "67+", "67+"]
        assert age_band(None) == "unknown" and age_band(-1) == "0-5"
        assert [code for code, _ in AGE_BANDS] == ["0-5", "6-12", "13-15", "16-17", "18-24", "25-39", "40-66", "67+"]

    def test_it_counts_the_age_in_whole_years_from_the_birth_date_before_the_hint(self):
        born = datetime.date(2012, 2, 29)
        assert age_at(born, datetime.date(2026, 2, 28), age_hint=3) == 13
        assert age_at(born, datetime.date(2026, 3, 1)) == 14
        assert age_at(None, datetime.date(2026, 3, 1), age_hint=3) == 3
        assert age_at(None, datetime.date(2026, 3, 1)) is None


# A Monday in winter time, far from any holiday or clock change.
SENT = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)
HOUR = datetime.timedelta(hours=1)


def deadline_states(process="concern") -> Counter:
    counts = Counter()
    for step, state, n in DeadlineCount.objects.filter(process=process).values_list("step", "state", "n"):
        counts[step, state] += n
    return counts


class RollupDeadlineTests:
    """A melding's receipt is due 24 hours after it was sent, with no reminder time of its own (so at risk
    from 48 hours before); its review a week after receipt, reminded 48 hours before."""

    def test_it_counts_an_open_deadline_at_risk_then_breached(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        receipt = deadline_for(concern, "receipt", process="concern")
        assert receipt.policy.remind_before_hours is None and receipt.due_at == SENT + 24 * HOUR

        # Its review and the feedback to the reporter are due in a week and three weeks: open, in time.
        in_time = {("review", "open"): 1, ("feedback_initial", "open"): 1}
        refresh(SENT + HOUR)
        assert deadline_states() == Counter({("receipt", "at_risk"): 1, **in_time})
        refresh(SENT + 24 * HOUR + datetime.timedelta(minutes=1))
        assert deadline_states() == Counter({("receipt", "breached"): 1, **in_time})
        assert set(DeadlineCount.objects.values_list("service", "municipality", "due_month")) == {
            (org.barnevern.pk, org.municipality.pk, datetime.date(2026, 3, 1))}

    def test_it_counts_an_open_deadline_open_until_its_reminder_time(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = advance(make_melding(org), org, "received")
        review = deadline_for(concern, "review", process="concern")
        assert review.policy.remind_before_hours == 48

        refresh(review.due_at - 48 * HOUR - datetime.timedelta(minutes=1))
        assert deadline_states()["review", "open"] == 1
        refresh(review.due_at - 48 * HOUR)
        assert deadline_states()["review", "at_risk"] == 1
        refresh(review.due_at)
        assert deadline_states()["review", "at_risk"] == 1
        refresh(review.due_at + datetime.timedelta(seconds=1))
        assert deadline_states()["review", "breached"] == 1

    def test_it_counts_met_deadlines_in_time_or_late_and_how_long_the_step_took(self, org):
        with time_machine.travel(SENT, tick=False) as traveller:
            in_time, late = make_melding(org), make_melding(org)
            traveller.move_to(SENT + 3 * HOUR)
            concern_svc.concern_confirm_receipt(concern=in_time, user=org.caseworker)
            traveller.move_to(SENT + 50 * HOUR)
            concern_svc.concern_confirm_receipt(concern=late, user=org.caseworker)
        refresh(SENT + 51 * HOUR)

        assert deadline_states()["receipt", "met"] == 1 and deadline_states()["receipt", "met_late"] == 1
        durations = Counter()
        for step, month, bucket, n in StepDuration.objects.values_list("step", "month", "bucket_days", "n"):
            durations[step, month, bucket] += n
        # 3 hours is day 0; 50 hours is 2 whole days.
        assert durations == Counter({("receipt", datetime.date(2026, 3, 1), 0): 1, ("receipt", datetime.date(2026, 3, 1), 2): 1})

    def test_it_leaves_out_cancelled_deadlines(self, org):
        with time_machine.travel(SENT, tick=False):
            concern = make_melding(org)
        assert Deadline.objects.filter(subject_id=concern.pk).update(cancelled_at=SENT + HOUR) == 3
        refresh(SENT + 2 * HOUR)

        assert not DeadlineCount.objects.exists() and not StepDuration.objects.exists()

    def test_it_buckets_durations_to_the_smallest_bound_of_at_least_the_days(self):
        assert [duration_bucket(d) for d in (0, 1, 7, 8, 10, 11, 365, 366)] == [0, 1, 7, 10, 10, 14, 365, -1]
        assert DURATION_BUCKETS[-1] == 365


class RollupPrivacyTests:
    ALLOWED_TARGETS = {Municipality, Service, Area}

    @pytest.mark.parametrize("model", [CaseCount, DeadlineCount, StepDuration, RollupRun])
    def test_it_has_no_field_that_can_hold_a_person_a_name_or_free_text(self, model):
        for field in model._meta.get_fields():
            if field.is_relation:
                assert field.related_model in self.ALLOWED_TARGETS, (model.__name__, field.name)
            elif isinstance(field, models.CharField):
                # Codes: a process, a step, a kind of service, an age band, a state.
                assert field.max_length <= 64, (model.__name__, field.name)
            else:
                assert isinstance(field, (models.AutoField, models.BigAutoField, models.DateField, models.IntegerField,
                                          models.FloatField)), (model.__name__, field.name)
            assert not isinstance(field, (models.TextField, models.JSONField, models.UUIDField)), (model.__name__, field.name)

    def test_it_writes_only_codes_into_the_code_fields(self, world):
        refresh()

        assert set(CaseCount.objects.values_list("age_band", flat=True)) <= {code for code, _ in AGE_BANDS} | {"unknown"}
        assert set(CaseCount.objects.values_list("service_kind", flat=True)) <= set(Service.Kind.values)
        assert set(DeadlineCount.objects.values_list("state", flat=True)) <= set(DeadlineCount.State.values)


class RegistryHookTests:
    def test_it_refuses_a_process_without_insight_cases(self):
        broken = [dataclasses.replace(p, insight_cases="") if p.name == "concern" else p for p in registry.processes()]

        assert registry_problems(broken) == ["process 'concern' lacks 'insight_cases'"]

    def test_it_refuses_an_insight_cases_path_that_does_not_import(self):
        path = "workflows.concern.selectors.no_such_function"
        broken = [dataclasses.replace(p, insight_cases=path) if p.name == "concern" else p for p in registry.processes()]

        [problem] = registry_problems(broken)
        assert problem.startswith(f"process 'concern': insight_cases {path!r} does not import")

    def test_it_names_a_selector_of_each_process(self):
        for process in registry.processes():
            assert process.insight_cases == f"workflows.{process.name}.selectors.insight_cases"
        assert process_named("brukerplan").insight_cases.endswith("insight_cases")
