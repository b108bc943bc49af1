"""The insights' demo (issue 11, point 7): the demo municipality's areas and a year of de-identified
history, so that the charts say something, that no worker ever meets in their lists or inbox."""
import datetime
from collections import Counter
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.test import TestCase
from guardian.models import GroupObjectPermission, UserObjectPermission
from viewflow.workflow.models import Process, Task

from insights import demo
from notifications.models import Reminder
from org.models import Area, Service
from people.models import Person, PersonRecord
from referrals.models import Concern, IndividualPlan, PlanOffer, Referral, YouthContract
from workflows.demo import seed_demo
from workflows.models import Deadline

NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
CASES = (Concern, Referral, YouthContract, PlanOffer, IndividualPlan)


def history(model):
    user = get_user_model().objects.get(username=demo.HISTORY_USERNAME)
    field = {PlanOffer: "registered_by"}.get(model, "created_by")
    return model.objects.filter(**{field: user})


def history_deadlines(model):
    return Deadline.objects.filter(subject_type=ContentType.objects.get_for_model(model), subject_id__in=history(model).values("pk"))


def rows_of(page):
    """A list page's rows, whichever shape the list returns (a KeysetPage, or (rows, cursor))."""
    return list(page[0] if isinstance(page, tuple) else page.rows)


def opened(model):
    """The field that says when a case of ``model`` opened."""
    return {Concern: "submitted_at", Referral: "sent_at", PlanOffer: "registered_at"}.get(model, "created_at")


def deadline_states(model):
    """Counts of the history's deadlines on ``model`` by state at NOW."""
    rows = history_deadlines(model)
    states = Counter()
    for d in rows:
        if d.cancelled_at:
            states["cancelled"] += 1
        elif d.met_at:
            states["met" if d.met_at <= d.due_at else "met_late"] += 1
        else:
            states["open" if d.due_at > NOW else "breached"] += 1
    return states


class DemoHistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.seeded = seed_demo()
        cls.personas = set(Person.objects.values_list("given_name", "family_name"))
        cls.persona_records = set(PersonRecord.objects.values_list("given_name", "family_name"))
        cls.areas = demo.areas_seed(cls.seeded)
        assert demo.history_seed(cls.seeded, now=NOW)

    def test_it_puts_the_barnehager_and_schools_in_areas_of_the_municipality(self):
        services = Service.objects.filter(municipality=self.seeded["municipality"], kind__in=[Service.Kind.BARNEHAGE, Service.Kind.SKOLE])
        assert services.count() == 4
        assert not services.filter(area=None).exists()
        assert Area.objects.filter(municipality=self.seeded["municipality"]).count() == len(demo.AREAS) >= 3

    def test_it_keeps_an_area_an_administrator_chose(self):
        school = self.seeded["services"]["fjordvik_skole"]
        elsewhere = Area.objects.create(municipality=self.seeded["municipality"], name="Sørbygda skolekrets")
        Service.objects.filter(pk=school.pk).update(area=elsewhere)
        demo.areas_seed(self.seeded)
        assert Service.objects.get(pk=school.pk).area == elsewhere

    def test_it_opens_several_hundred_cases_of_each_kind_spread_over_the_year(self):
        for model, least in ((Concern, 300), (Referral, 250), (YouthContract, 50), (PlanOffer, 70), (IndividualPlan, 40)):
            rows = history(model)
            assert rows.count() >= least, model
            field = opened(model)
            first, last = NOW - datetime.timedelta(days=366), NOW
            assert not rows.exclude(**{f"{field}__gt": first, f"{field}__lt": last}).exists(), model
            months = {getattr(row, field).astimezone(NOW.tzinfo).strftime("%Y-%m") for row in rows}
            assert len(months) >= (12 if rows.count() >= 200 else 9), (model, months)

    def test_it_leaves_more_open_among_the_recent_cases(self):
        for model in (Concern, Referral, YouthContract):
            field = opened(model)
            rows = list(history(model))
            recent = [r for r in rows if getattr(r, field) > NOW - datetime.timedelta(days=60)]
            old = [r for r in rows if getattr(r, field) < NOW - datetime.timedelta(days=240)]
            share = lambda group: sum(r.is_open for r in group) / len(group)  # noqa: E731
            assert recent and old and share(recent) > share(old) + 0.2, model
            assert any(not r.is_open for r in rows) and any(r.is_open for r in rows), model

    def test_it_gives_each_process_deadlines_met_in_time_met_late_open_and_breached(self):
        for model in (Concern, Referral, YouthContract, PlanOffer):
            states = deadline_states(model)
            assert states["met"] > states["met_late"] > 0, (model, states)
            assert states["breached"] > 0 and states["open"] > 0, (model, states)
        assert sum(deadline_states(IndividualPlan).values()) > 0

    def test_its_statuses_agree_with_their_timestamps(self):
        S = Concern.Status
        concerns = history(Concern)
        assert set(concerns.values_list("status", flat=True)) == {S.SUBMITTED.value, S.RECEIVED, S.INVESTIGATING, S.CLOSED, S.INVESTIGATED, S.ANSWERED}
        assert not concerns.filter(status__in=[S.RECEIVED, S.INVESTIGATING, S.CLOSED, S.INVESTIGATED], received_at=None).exists()
        assert not concerns.filter(status__in=[S.INVESTIGATING, S.CLOSED, S.INVESTIGATED], reviewed_at=None).exists()
        assert not concerns.filter(status=S.INVESTIGATED, investigation_ended_at=None).exists()
        assert not concerns.filter(kind=Concern.Kind.MELDING, person=None).exists()
        assert not concerns.filter(kind=Concern.Kind.CONSULTATION, person__isnull=False).exists()
        referrals = history(Referral)
        assert len(set(referrals.values_list("status", flat=True))) >= 7
        assert not referrals.filter(status__in=Referral.OPEN_STATUSES, closed_at__isnull=False).exists()
        assert not referrals.exclude(status__in=Referral.OPEN_STATUSES).filter(closed_at=None).exists()
        assert not referrals.exclude(status=Referral.Status.REQUESTED).filter(target_service=None).exists()
        for referral in referrals.prefetch_related("events"):
            events = list(referral.events.all())
            assert events[0].status == Referral.Status.REQUESTED and events[-1].status == referral.status
            assert events[0].at == referral.sent_at == referral.created_at
        contracts = history(YouthContract)
        assert {"awaiting_signatures", "active", "completed"} <= set(contracts.values_list("status", flat=True))
        assert not contracts.filter(status="active", activated_at=None).exists()
        assert not contracts.filter(Q(status__in=["completed", "broken", "ended"]) & Q(closed_at=None)).exists()
        assert not contracts.filter(variant="voluntary", outcome_reported_at__isnull=False).exists()
        for model in CASES:
            for row in history(model):
                # Every choice valid, every check the model states (a consultation, like those the
                # services make, leaves "were the parents told" unanswered).
                row.full_clean(exclude=["parents_informed", "child_informed"] if model is Concern and row.person_id is None else None)

    def test_it_keeps_the_next_deadline_the_lists_sort_on(self):
        for model in (Concern, Referral, YouthContract):
            kind = ContentType.objects.get_for_model(model)
            for row in history(model)[:80]:
                due = Deadline.objects.filter(subject_type=kind, subject_id=row.pk, met_at=None, cancelled_at=None).order_by("due_at").first()
                assert row.next_deadline_at == (due.due_at if due else None), (model, row.pk)

    def test_it_puts_nothing_in_any_workers_inbox_notifications_or_lists(self):
        # Each case has its process, as a delivered case has (the coordinator's counts ask for it), but no task.
        processes = Process.objects.filter(
            Q(referralprocess__referral__created_by__username=demo.HISTORY_USERNAME)
            | Q(concernprocess__concern__created_by__username=demo.HISTORY_USERNAME)
            | Q(youthcontractprocess__contract__created_by__username=demo.HISTORY_USERNAME)
        )
        assert processes.count() == sum(history(model).count() for model in (Concern, Referral, YouthContract))
        assert not Task.objects.filter(process__in=processes).exists()
        assert {"NEW", "DONE"} == set(processes.values_list("status", flat=True))
        for model in CASES:
            kind = ContentType.objects.get_for_model(model)
            pks = [str(pk) for pk in history(model).values_list("pk", flat=True)]
            assert not GroupObjectPermission.objects.filter(content_type=kind, object_pk__in=pks).exists(), model
            assert not UserObjectPermission.objects.filter(content_type=kind, object_pk__in=pks).exists(), model
        deadline_ids = [pk for model in CASES for pk in history_deadlines(model).values_list("pk", flat=True)]
        assert len(deadline_ids) > 1000
        assert not Reminder.objects.filter(obligation__in=[f"deadline:{pk}" for pk in deadline_ids]).exists()

    def test_the_demo_users_lists_show_none_of_it(self):
        from workflows.concern.selectors import concern_intake_list
        from workflows.referral.selectors import coordinator_list, referral_incoming_list, routing_queue

        users = self.seeded["users"]
        concerns = set(history(Concern).values_list("pk", flat=True))
        for pending_only in (True, False):
            listed = rows_of(concern_intake_list(users["barnevern"], pending_only=pending_only, page_size=1000))
            assert listed and not {c.pk for c in listed} & concerns
        referrals = set(history(Referral).values_list("pk", flat=True))
        for name in ("tildeling", "rask", "hfu", "nav", "tsb", "ruskoordinator"):
            listed = rows_of(referral_incoming_list(users[name], open_only=False, page_size=1000))
            assert not {r.pk for r in listed} & referrals, name
        for pages in (routing_queue, coordinator_list):
            assert not {r.pk for r in rows_of(pages(users["ruskoordinator"], page_size=1000))} & referrals

    def test_its_persons_are_fictional_and_never_a_personas_name(self):
        ids = set()
        for model in (Concern, Referral, YouthContract, PlanOffer):
            ids |= set(history(model).exclude(person=None).values_list("person_id", flat=True))
        persons = Person.objects.filter(pk__in=ids)
        names = set(persons.values_list("given_name", "family_name"))
        assert len(ids) == len(names) >= 600  # one person per case, no two alike
        assert not names & (self.personas | self.persona_records)
        assert not persons.filter(national_id__isnull=False).exists()
        assert not persons.filter(birth_date=None).exists()
        assert {(p.given_name, p.family_name) for p in persons[:20]} == {
            (r.given_name, r.family_name) for r in PersonRecord.objects.filter(person__in=persons[:20])}

    def test_it_seeds_once(self):
        counts = [history(model).count() for model in CASES]
        deadlines = Deadline.objects.count()
        assert demo.history_seed(self.seeded, now=NOW) is False
        assert [history(model).count() for model in CASES] == counts
        assert Deadline.objects.count() == deadlines

    def test_the_history_user_cannot_log_in_and_is_no_demo_login(self):
        from tests.test_demo_logins import printed_logins

        user = get_user_model().objects.get(username=demo.HISTORY_USERNAME)
        assert not user.is_active and not user.has_usable_password() and not user.memberships.exists()
        assert demo.HISTORY_USERNAME not in printed_logins()


class DemoHistoryCostTests(TestCase):
    def test_it_creates_the_year_in_a_few_dozen_statements(self):
        # Bulk inserts, not a statement per row: `make run` seeds it in about a second.
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        seeded = seed_demo()
        with CaptureQueriesContext(connection) as queries:
            demo.areas_seed(seeded)
            demo.history_seed(seeded, now=NOW)
        assert history(Concern).count() >= 300
        assert len(queries) < 100, len(queries)
