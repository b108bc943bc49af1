"""BrukerPlan writes: the round's set-up, opening and close, scope marking, mapping and completion
(issue 10): bad input gives a clear, translated error and saves nothing. Time is frozen at
1 December 2026 (scenario.py)."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import AccessLog
from referrals.models import BrukerPlanMapping, BrukerPlanParticipation, BrukerPlanRound, BrukerPlanScaleLevel, LifeArea
from tests.workflows.brukerplan.scenario import REFERENCE, levels, make_round, map_person, mapping_values, person, serve
from workflows.brukerplan import clocks
from workflows.brukerplan import services as svc
from workflows.models import BrukerPlanProcess
from workflows.services.deadlines import deadline_for

pytestmark = pytest.mark.django_db


def error_of(excinfo, field=None):
    e = excinfo.value
    return e.message_dict[field] if field else e.messages


class RoundCreateTests:
    def test_it_sets_a_round_up_with_the_default_scales(self, bp):
        round_ = make_round(bp, open_=False)
        assert round_.status == BrukerPlanRound.Status.DRAFT
        assert set(BrukerPlanParticipation.objects.filter(round=round_).values_list("service", flat=True)) == {bp.rus.pk, bp.nav.pk}
        copied = BrukerPlanScaleLevel.objects.filter(round=round_)
        assert copied.count() == BrukerPlanScaleLevel.objects.filter(round__isnull=True).count() == 3 * len(LifeArea.values)
        assert set(copied.values_list("colour", flat=True)) == {"green", "yellow", "red"}

    def test_it_refuses_a_reference_date_outside_the_period_and_saves_nothing(self, bp):
        with pytest.raises(ValidationError) as excinfo:
            make_round(bp, open_=False, reference_date=datetime.date(2026, 10, 31))
        assert error_of(excinfo, "reference_date") == ["The reference date must lie inside the mapping period."]
        assert not BrukerPlanRound.objects.exists() and not BrukerPlanScaleLevel.objects.filter(round__isnull=False).exists()

    def test_it_refuses_a_deadline_not_after_the_reference_date_and_a_threshold_not_16_or_18(self, bp):
        with pytest.raises(ValidationError) as excinfo:
            make_round(bp, open_=False, deadline=REFERENCE, age_threshold=17)
        assert set(excinfo.value.message_dict) == {"deadline", "age_threshold"}
        assert not BrukerPlanRound.objects.exists()

    def test_it_refuses_a_scale_with_a_gap_or_without_a_colour(self, bp):
        scales = {area: [(1, "green", "Bra"), (2, "yellow", "Delvis"), (3, "red", "Dårlig")] for area in LifeArea.values}
        scales["housing"] = [(1, "green", "Bra"), (3, "red", "Dårlig")]
        scales["finances"] = [(1, "green", "Bra"), (2, "purple", "Delvis")]
        with pytest.raises(ValidationError) as excinfo:
            make_round(bp, open_=False, scales=scales)
        assert len(error_of(excinfo, "scales")) == 2
        assert not BrukerPlanRound.objects.exists()

    def test_it_refuses_a_user_outside_the_coordinating_service(self, bp):
        with pytest.raises(ValidationError):
            make_round(bp, open_=False, user=bp.rus_worker)
        assert not BrukerPlanRound.objects.exists()


class CoordinatorIsALeaderTests:
    """Only the BrukerPlan coordinator, a leader of the coordinating service, sets a round up, opens
    and closes it and recomputes its report; its other staff, and a worker of any other service
    coordinating "its own" round, are refused with nothing saved."""

    def test_it_refuses_a_nav_worker_setting_a_round_up_for_nav(self, bp):
        with pytest.raises(ValidationError) as excinfo:
            make_round(bp, open_=False, user=bp.nav_worker, coordinator_service=bp.nav)
        assert excinfo.value.code == "not_leader"
        assert excinfo.value.messages == ["Only a leader of the coordinating service can set a round up."]
        assert not BrukerPlanRound.objects.exists() and not BrukerPlanScaleLevel.objects.filter(round__isnull=False).exists()

    def test_it_refuses_the_coordinating_services_staff_at_every_step(self, bp):
        from referrals.models import BrukerPlanReport
        from tests.factories import member

        clerk = member(bp.coordination)  # staff, not a leader
        with pytest.raises(ValidationError):
            make_round(bp, open_=False, user=clerk)
        draft = make_round(bp, open_=False)
        with pytest.raises(ValidationError):
            svc.round_open(user=clerk, round=draft)
        assert BrukerPlanRound.objects.get(pk=draft.pk).status == "draft"
        svc.round_open(user=bp.coordinator, round=draft)
        with pytest.raises(ValidationError):
            svc.round_close(user=clerk, round=draft)
        assert BrukerPlanRound.objects.get(pk=draft.pk).status == "open"
        svc.round_close(user=bp.coordinator, round=draft)
        with pytest.raises(ValidationError) as excinfo:
            svc.report_recompute(user=clerk, round=draft)
        assert excinfo.value.code == "not_leader"
        assert not BrukerPlanReport.objects.filter(round=draft).exists()
        assert BrukerPlanRound.objects.count() == 1


class RoundOpenTests:
    def test_it_opens_the_round_with_a_clock_per_service_and_its_process(self, bp):
        round_ = make_round(bp)
        assert round_.status == BrukerPlanRound.Status.OPEN
        for p in BrukerPlanParticipation.objects.filter(round=round_):
            deadline = deadline_for(p, clocks.MAPPING, process=clocks.PROCESS)
            assert deadline.responsible_service_id == p.service_id and deadline.is_open
        assert BrukerPlanProcess.objects.get(round=round_).status == "NEW"

    def test_it_refuses_to_open_twice(self, bp):
        round_ = make_round(bp)
        with pytest.raises(ValidationError) as excinfo:
            svc.round_open(user=bp.coordinator, round=round_)
        assert excinfo.value.code == "out_of_order"


class ScopeAndMappingTests:
    def test_it_maps_a_person_and_logs_it(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = map_person(bp, round_, bp.rus, ola, levels=levels(2, violence=3), services_used=["gp", "lar"])
        mapping.refresh_from_db()
        assert mapping.status == "mapped" and mapping.age == 40 and mapping.level_violence == 3 and mapping.level_housing == 2
        assert mapping.services_used == (1 << 0) | (1 << 12)
        assert AccessLog.objects.filter(person=ola, purpose="brukerplan mapping saved", service=bp.rus).count() == 1
        assert AccessLog.objects.filter(person=ola, purpose="brukerplan scope marked", service=bp.rus).count() == 1

    def test_it_refuses_a_level_not_in_the_scale_and_saves_nothing(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=mapping.version, **mapping_values(levels=levels(1, housing=4)))
        assert error_of(excinfo, "level_housing") == ["4 is not a level of the round's scale for Housing."]
        mapping.refresh_from_db()
        assert mapping.status == "in_scope" and mapping.level_housing is None and mapping.mapped_at is None

    def test_it_refuses_a_missing_level_and_an_unknown_life_area(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        bad = {**levels(), "happiness": 1}
        del bad["violence"]
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=mapping.version, **mapping_values(levels=bad))
        assert {"levels", "level_violence"} <= set(excinfo.value.message_dict)

    def test_it_refuses_a_person_outside_the_cohort_and_a_forged_code(self, bp):
        too_young = person(bp, datetime.date(2010, 12, 2))
        nav_only = person(bp, datetime.date(1980, 1, 1), service=bp.nav)
        round_ = make_round(bp)
        for code in (too_young.code, nav_only.code, "forged", "00000000-0000-0000-0000-000000000000"):
            with pytest.raises(ValidationError) as excinfo:
                svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=code, in_scope=True, reason="both")
            assert error_of(excinfo, "person") == ["This person is not on your service's list for this round."]
        assert not BrukerPlanMapping.objects.exists()

    def test_it_refuses_a_mapping_whose_person_has_left_the_cohort(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        ola.service_periods.update(started_on=datetime.date(2026, 12, 2))  # corrected: the service started after the reference date
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=mapping.version, **mapping_values())
        assert excinfo.value.message_dict == {"person": ["This person is not on your service's list for this round."]}
        assert BrukerPlanMapping.objects.get(pk=mapping.pk).status == "in_scope"

    def test_it_refuses_a_stale_form(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        shown = mapping.version
        svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=shown, **mapping_values())
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=shown, **mapping_values(sex="male"))
        assert excinfo.value.code == "stale"
        assert BrukerPlanMapping.objects.get(pk=mapping.pk).sex == "female"

    def test_it_refuses_a_scope_mark_from_a_row_shown_before_a_colleagues_mapping(self, bp):
        from tests.factories import member

        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        colleague = member(bp.rus)
        # rus_worker's worklist showed Ola without a mapping (version 0); the colleague maps him.
        mapping = map_person(bp, round_, bp.rus, ola)
        mapping.refresh_from_db()
        for user, version in ((bp.rus_worker, 0), (colleague, mapping.version - 1), (bp.rus_worker, None)):
            with pytest.raises(ValidationError) as excinfo:
                svc.mapping_scope_mark(user=user, round=round_, service=bp.rus, person_code=ola.code, in_scope=False, version=version)
            assert excinfo.value.code == "stale"
        stored = BrukerPlanMapping.objects.get(pk=mapping.pk)
        assert (stored.status, stored.version, stored.level_housing) == ("mapped", mapping.version, 1)

    def test_it_refuses_a_first_mark_from_a_row_that_showed_a_mapping(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both",
                                   version=3)
        assert excinfo.value.code == "stale"
        assert not BrukerPlanMapping.objects.exists()

    def test_it_refuses_another_service_and_the_coordinator(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        for user in (bp.nav_worker, bp.coordinator):
            with pytest.raises(ValidationError):
                svc.mapping_save(user=user, mapping=mapping, version=mapping.version, **mapping_values())
        with pytest.raises(ValidationError):
            svc.mapping_scope_mark(user=bp.nav_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=False)
        assert BrukerPlanMapping.objects.get(pk=mapping.pk).status == "in_scope"

    def test_it_requires_a_reason_when_in_scope(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="")
        assert "reason" in excinfo.value.message_dict
        assert not BrukerPlanMapping.objects.exists()

    def test_it_clears_a_mapping_marked_out_of_scope(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = map_person(bp, round_, bp.rus, ola, has_children=True)
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=False, version=mapping.version)
        mapping.refresh_from_db()
        assert mapping.status == "out_of_scope" and mapping.level_housing is None and mapping.has_children is None
        assert not deadline_for(mapping, clocks.CHILDREN, process=clocks.PROCESS).is_open

    def test_it_refuses_mapping_in_a_round_not_open(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        draft = make_round(bp, open_=False)
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_scope_mark(user=bp.rus_worker, round=draft, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        assert excinfo.value.code == "out_of_order"


class ChildrenFollowUpTests:
    def test_it_starts_a_follow_up_for_the_mapping_service_when_the_person_cares_for_children(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = map_person(bp, round_, bp.rus, ola, has_children=True)
        deadline = deadline_for(mapping, clocks.CHILDREN, process=clocks.PROCESS)
        assert deadline.is_open and deadline.responsible_service == bp.rus
        svc.children_follow_up_done(user=bp.rus_worker, mapping=mapping)
        assert deadline_for(mapping, clocks.CHILDREN, process=clocks.PROCESS).met_at is not None
        with pytest.raises(ValidationError):
            svc.children_follow_up_done(user=bp.rus_worker, mapping=mapping)

    def test_it_starts_none_without_children(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        mapping = map_person(bp, make_round(bp), bp.rus, ola, has_children=False)
        assert deadline_for(mapping, clocks.CHILDREN, process=clocks.PROCESS) is None


class CompleteAndCloseTests:
    def test_it_refuses_completion_while_a_person_in_scope_is_unmapped(self, bp):
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        with pytest.raises(ValidationError) as excinfo:
            svc.service_complete(user=bp.rus_worker, round=round_, service=bp.rus)
        assert excinfo.value.code == "unfinished"
        assert BrukerPlanParticipation.objects.get(round=round_, service=bp.rus).completed_at is None

    def test_it_meets_the_services_clock_when_it_completes(self, bp):
        round_ = make_round(bp)
        participation = svc.service_complete(user=bp.rus_worker, round=round_, service=bp.rus)
        assert deadline_for(participation, clocks.MAPPING, process=clocks.PROCESS).met_at is not None

    def test_it_closes_the_round_freezes_the_mappings_and_enqueues_the_report_after_commit(self, bp, django_capture_on_commit_callbacks, monkeypatch):
        from workflows.brukerplan import tasks

        enqueued = []
        monkeypatch.setattr(tasks.round_report_compute, "delay", lambda round_id: enqueued.append(round_id))
        ola = person(bp, datetime.date(1986, 5, 1))
        round_ = make_round(bp)
        mapping = map_person(bp, round_, bp.rus, ola)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            svc.round_close(user=bp.coordinator, round=round_)
        assert enqueued == [] and len(callbacks) == 1
        callbacks[0]()
        assert enqueued == [round_.pk]
        round_.refresh_from_db()
        assert round_.status == "closed" and BrukerPlanProcess.objects.get(round=round_).status == "DONE"
        nav = BrukerPlanParticipation.objects.get(round=round_, service=bp.nav)
        assert deadline_for(nav, clocks.MAPPING, process=clocks.PROCESS).cancelled_at is not None
        with pytest.raises(ValidationError) as excinfo:
            svc.mapping_save(user=bp.rus_worker, mapping=mapping, version=mapping.version, **mapping_values(sex="male"))
        assert excinfo.value.code == "out_of_order"
        with pytest.raises(ValidationError):
            svc.round_close(user=bp.coordinator, round=round_)

    def test_it_refuses_a_close_by_a_participating_service(self, bp):
        round_ = make_round(bp)
        with pytest.raises(ValidationError):
            svc.round_close(user=bp.rus_worker, round=round_)
        assert BrukerPlanRound.objects.get(pk=round_.pk).status == "open"

    def test_the_task_builds_the_report_rows_of_a_closed_round(self, bp, monkeypatch):
        from workflows.brukerplan import tasks

        built = []
        monkeypatch.setattr(svc, "report_build", lambda round_: built.append(round_.pk) or [])
        round_ = make_round(bp)
        tasks.round_report_compute(round_.pk)
        assert built == []  # not closed yet
        svc.round_close(user=bp.coordinator, round=round_)
        tasks.round_report_compute(round_.pk)
        assert built == [round_.pk]


class MergeTests:
    def test_it_keeps_one_mapping_when_both_records_of_a_person_were_mapped_by_one_service(self, bp):
        from people.services import person_merge

        ola = person(bp, datetime.date(1986, 5, 1))
        twin_record = person(bp, datetime.date(1986, 5, 2))
        round_ = make_round(bp)
        svc.mapping_scope_mark(user=bp.rus_worker, round=round_, service=bp.rus, person_code=ola.code, in_scope=True, reason="both")
        mapped = map_person(bp, round_, bp.rus, twin_record)
        person_merge(source=twin_record, target=ola)
        (kept,) = BrukerPlanMapping.objects.filter(round=round_)
        assert kept.pk == mapped.pk and kept.person_id == ola.pk and kept.status == "mapped"
        assert set(ola.service_periods.values_list("service", flat=True)) == {bp.rus.pk}
        assert ola.service_periods.count() == 2
