"""The cohort on its boundaries, completion counts, access (404 alike) and the report's one row per
person (issue 10, "Must show"). Time is frozen at 1 December 2026 (scenario.py)."""
import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from referrals.models import BrukerPlanMapping
from tests.workflows.brukerplan.scenario import REFERENCE, make_round, map_person, person, serve
from workflows.brukerplan import selectors
from workflows.brukerplan import services as svc

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def cohort(round_, service):
    return set(selectors.cohort_for_service(round_, service))


class CohortTests:
    def test_it_counts_a_person_whose_threshold_birthday_is_the_reference_date(self, bp):
        sixteen_today = person(bp, datetime.date(2010, 12, 1))
        sixteen_tomorrow = person(bp, datetime.date(2010, 12, 2))
        round_ = make_round(bp)
        assert cohort(round_, bp.rus) == {sixteen_today}
        assert sixteen_today.age_on(REFERENCE) == 16 and sixteen_tomorrow.age_on(REFERENCE) == 15

    def test_it_counts_the_threshold_of_eighteen(self, bp):
        eighteen = person(bp, datetime.date(2008, 12, 1))
        person(bp, datetime.date(2010, 12, 1))
        assert cohort(make_round(bp, age_threshold=18), bp.rus) == {eighteen}

    def test_it_counts_a_service_that_ended_exactly_twelve_months_before_and_not_a_day_more(self, bp):
        exactly = person(bp, datetime.date(1980, 1, 1), started_on=datetime.date(2025, 1, 1), ended_on=datetime.date(2025, 12, 1))
        a_day_more = person(bp, datetime.date(1981, 1, 1), started_on=datetime.date(2025, 1, 1), ended_on=datetime.date(2025, 11, 30))
        ongoing = person(bp, datetime.date(1982, 1, 1), started_on=datetime.date(2020, 1, 1))
        round_ = make_round(bp)
        assert cohort(round_, bp.rus) == {exactly, ongoing}
        assert a_day_more not in cohort(round_, bp.rus)

    def test_it_leaves_out_a_service_that_started_after_the_reference_date(self, bp):
        on_the_day = person(bp, datetime.date(1980, 1, 1), started_on=REFERENCE)
        round_ = make_round(bp, reference_date=datetime.date(2026, 11, 30))
        assert on_the_day not in cohort(round_, bp.rus)
        assert cohort(make_round(bp), bp.rus) == {on_the_day}

    def test_it_gives_each_service_its_own_users(self, bp):
        both = person(bp, datetime.date(1986, 5, 1))
        serve(bp, both, bp.nav)
        rus_only = person(bp, datetime.date(1990, 5, 1), given="Kari")
        round_ = make_round(bp)
        assert cohort(round_, bp.rus) == {both, rus_only}
        assert cohort(round_, bp.nav) == {both}


class CompletionTests:
    def test_it_counts_eligible_in_scope_and_mapped_per_service_as_an_independent_count_does(self, bp):
        people = [person(bp, datetime.date(1970 + i, 1, 1)) for i in range(5)]
        serve(bp, people[0], bp.nav)
        person(bp, datetime.date(2012, 1, 1))  # too young
        person(bp, datetime.date(1960, 1, 1), started_on=datetime.date(2024, 1, 1), ended_on=datetime.date(2024, 6, 1))  # too long ago
        round_ = make_round(bp)
        map_person(bp, round_, bp.rus, people[0])
        map_person(bp, round_, bp.rus, people[1])
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=people[2].code, in_scope=True, reason="substance")
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=people[3].code, in_scope=False)
        map_person(bp, round_, bp.nav, people[0])

        with CaptureQueriesContext(connection) as queries:
            rows = {row["service"]: row for row in selectors.completion_for_round(round_)}
        assert len(queries) == 3
        for service in (bp.rus, bp.nav):
            independent_eligible = sum(1 for p in selectors.cohort_for_service(round_, service))
            mine = [m for m in BrukerPlanMapping.objects.filter(round=round_, service=service)]
            assert rows[service]["eligible"] == independent_eligible
            assert rows[service]["in_scope"] == sum(1 for m in mine if m.status != "out_of_scope")
            assert rows[service]["mapped"] == sum(1 for m in mine if m.status == "mapped")
        assert (rows[bp.rus]["eligible"], rows[bp.rus]["assessed"], rows[bp.rus]["in_scope"], rows[bp.rus]["mapped"]) == (5, 4, 3, 2)
        assert rows[bp.rus]["share_done"] == pytest.approx(3 / 5)
        assert (rows[bp.nav]["eligible"], rows[bp.nav]["mapped"], rows[bp.nav]["share_done"]) == (1, 1, 1.0)


class AccessTests:
    def test_it_shows_the_round_to_the_coordinator_and_the_participants(self, bp):
        round_ = make_round(bp)
        assert set(selectors.round_get_for_user(bp.coordinator, round_.code)[1]) == {"coordinator"}
        assert set(selectors.round_get_for_user(bp.rus_worker, round_.code)[1]) == {"participant"}
        assert set(selectors.round_get_for_user(bp.nav_worker, round_.code)[1]) == {"participant"}

    def test_it_answers_404_to_an_outsider_and_for_a_forged_code(self, bp):
        round_ = make_round(bp)
        for user, code in ((bp.org.reporter, round_.code), (bp.org.slt_staff, round_.code), (bp.coordinator, "not-a-code"),
                           (bp.coordinator, "00000000-0000-0000-0000-000000000000")):
            with pytest.raises(Http404):
                selectors.round_get_for_user(user, code)

    def test_it_answers_404_to_the_coordinator_on_every_persons_mapping(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        serve(bp, ola, bp.nav)
        round_ = make_round(bp)
        mappings = [map_person(bp, round_, bp.rus, ola), map_person(bp, round_, bp.nav, ola)]
        for mapping in mappings:
            with pytest.raises(Http404):
                selectors.mapping_get_for_user(bp.coordinator, mapping.code)
            with pytest.raises(Http404):
                selectors.mapping_get_for_user(bp.org.reporter, mapping.code)
        # Each service sees its own mapping, never the other's.
        assert selectors.mapping_get_for_user(bp.rus_worker, mappings[0].code) == mappings[0]
        with pytest.raises(Http404):
            selectors.mapping_get_for_user(bp.rus_worker, mappings[1].code)
        with pytest.raises(Http404):
            selectors.mapping_get_for_user(bp.nav_worker, mappings[0].code)

    def test_it_logs_a_read_of_a_mapping(self, bp):
        from audit.models import AccessLog

        ola = person(bp, datetime.date(1986, 5, 1))
        mapping = map_person(bp, make_round(bp), bp.rus, ola)
        selectors.mapping_read(bp.rus_worker, mapping.code)
        assert AccessLog.objects.filter(person=ola, purpose=selectors.READ_MAPPING, service=bp.rus, user=bp.rus_worker).count() == 1


class ReportRowsTests:
    def test_it_counts_a_person_mapped_by_two_services_once_with_the_most_recent_mapping(self, bp):
        import time_machine

        ola = person(bp, datetime.date(1986, 5, 1))
        serve(bp, ola, bp.nav)
        kari = person(bp, datetime.date(1990, 5, 1), given="Kari")
        round_ = make_round(bp)
        map_person(bp, round_, bp.nav, ola, sex="male", levels={**{a: 1 for a in selectors.LifeArea.values}, "housing": 3})
        with time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.timezone.utc), tick=False):
            map_person(bp, round_, bp.rus, ola, sex="male", has_children=True)
        map_person(bp, round_, bp.rus, kari)
        rows = {row["person_id"]: row for row in selectors.mappings_for_report(round_)}
        assert set(rows) == {ola.pk, kari.pk}
        assert rows[ola.pk]["service_id"] == bp.rus.pk and rows[ola.pk]["has_children"] is True
        assert rows[ola.pk]["levels"]["housing"] == 1 and rows[ola.pk]["service_kind"] == "rustjeneste"
        assert rows[kari.pk]["services_used"] == ("gp",) and rows[kari.pk]["expected_need"] == ("work",)
        assert rows[ola.pk]["age"] == 40

    def test_it_breaks_a_tie_by_the_lower_service_id(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        serve(bp, ola, bp.nav)
        round_ = make_round(bp)
        map_person(bp, round_, bp.rus, ola)
        map_person(bp, round_, bp.nav, ola)  # the same frozen moment
        (row,) = list(selectors.mappings_for_report(round_))
        assert row["service_id"] == min(bp.rus.pk, bp.nav.pk)

    def test_it_leaves_out_persons_in_scope_but_not_mapped_and_those_out_of_scope(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        kari = person(bp, datetime.date(1990, 5, 1), given="Kari")
        round_ = make_round(bp)
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="substance")
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=kari.code, in_scope=False)
        assert list(selectors.mappings_for_report(round_)) == []

    def test_it_reads_the_rows_in_one_query(self, bp):
        people = [person(bp, datetime.date(1970 + i, 1, 1)) for i in range(6)]
        round_ = make_round(bp)
        for p in people:
            map_person(bp, round_, bp.rus, p)
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.mappings_for_report(round_))
        assert len(rows) == 6 and len(queries) == 1
