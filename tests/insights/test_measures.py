"""The plan-measure services (insights.measures): who writes, what is refused with nothing changed,
the per-object grants, and the yearly evaluation reminder under frozen time (today 1 March 2025;
evaluation day 1 December, reminded two weeks before at 08:00)."""
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from guardian.models import GroupObjectPermission

from insights import measures as svc
from insights.models import Coverage, MeasureEvaluation, PolicyMeasure, PolicyPlan
from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from org.models import Service
from tests.factories import make_org, member
from tests.insights.measure_scenario import add_measure, at, frozen, plans, police  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
S = PolicyMeasure.Status


def refused(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


def grants(measure):
    """(service name, codename) of every group permission on the measure."""
    return sorted(
        (g.group.service.name, g.permission.codename)
        for g in GroupObjectPermission.objects.filter(object_pk=str(measure.pk), content_type__model="policymeasure")
        .select_related("group__service", "permission")
    )


def pending(measure):
    """The measure's unsent, uncancelled reminders as (service name, local due time, deadline)."""
    return [(r.service.name, timezone.localtime(r.due_at), timezone.localtime(r.deadline_at))
            for r in Reminder.objects.filter(obligation=svc.obligation(measure), sent_at__isnull=True, cancelled_at__isnull=True)
            .select_related("service")]


class PolicyPlanCreateTests:
    def test_it_sets_up_a_plan_kept_by_the_coordinators_slt_service(self, plans):
        assert plans.plan.owner_service == plans.org.slt and plans.plan.period == "2025–2030"

    def test_it_refuses_a_period_out_of_order_and_creates_nothing(self, plans):
        error = refused(lambda: svc.policy_plan_create(user=plans.coordinator, municipality=plans.org.municipality,
                                                       owner_service=plans.org.slt, title="Plan", from_year=2030, to_year=2025))
        assert "to_year" in error.message_dict and PolicyPlan.objects.count() == 1

    def test_it_refuses_staff_outside_the_slt_service(self, plans):
        error = refused(lambda: svc.policy_plan_create(user=plans.caseworker, municipality=plans.org.municipality,
                                                       owner_service=plans.org.slt, title="Plan", from_year=2025, to_year=2026))
        assert "owner_service" in error.message_dict and PolicyPlan.objects.count() == 1

    def test_it_keeps_a_plan_for_a_municipality_the_slt_service_covers_only(self, plans):
        other = make_org("9996")
        call = lambda: svc.policy_plan_create(user=plans.coordinator, municipality=other.municipality, owner_service=plans.org.slt,  # noqa: E731
                                              title="Plan for nabokommunen", from_year=2025, to_year=2028)
        assert "municipality" in refused(call).message_dict
        Coverage.objects.create(service=plans.org.slt, municipality=other.municipality)
        assert call().municipality == other.municipality

    def test_it_refuses_a_narrower_period_that_leaves_out_an_evaluated_year(self, plans, frozen):
        svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=1, year=2025, status=S.IN_PROGRESS, text="Godt i gang.")
        error = refused(lambda: svc.policy_plan_update(user=plans.coordinator, plan=plans.plan, title="Ny tittel", from_year=2026,
                                                       to_year=2030))
        assert "from_year" in error.message_dict
        plans.plan.refresh_from_db()
        assert (plans.plan.title, plans.plan.from_year) == ("Rusmiddelpolitisk handlingsplan 2025–2030", 2025)


class MeasureCreateTests:
    def test_it_grants_the_responsible_and_co_responsible_services_on_the_measure(self, plans):
        assert grants(plans.measure) == [("Barneverntjenesten", "evaluate_policymeasure"), ("Solsiden barnehage", "follow_policymeasure")]

    def test_it_refuses_a_number_the_plan_has_already(self, plans):
        error = refused(lambda: add_measure(plans, "2"))
        assert "number" in error.message_dict and PolicyMeasure.objects.count() == 1

    def test_it_accepts_the_same_number_in_another_plan_and_a_sub_number_in_this(self, plans):
        add_measure(plans, "2a")
        other = svc.policy_plan_create(user=plans.coordinator, municipality=plans.org.municipality, owner_service=plans.org.slt,
                                       title="Alkoholpolitisk plan", from_year=2024, to_year=2028)
        svc.measure_create(user=plans.coordinator, plan=other, number="2", text="Vandelsvurdering i planperioden.",
                           responsible_service=plans.org.nav)
        assert PolicyMeasure.objects.filter(number="2").count() == 2

    def test_it_refuses_text_that_looks_like_a_national_identity_number(self, plans):
        error = refused(lambda: add_measure(plans, "3", text="Oppfølging av 010190 12345 og familien."))
        assert "text" in error.message_dict and not PolicyMeasure.objects.filter(number="3").exists()

    def test_it_refuses_a_service_of_another_municipality(self, plans):
        far = make_org("9995")
        error = refused(lambda: add_measure(plans, "3", responsible=far.barnevern))
        assert "responsible_service" in error.message_dict

    def test_it_refuses_an_evaluation_day_not_every_year_has(self, plans):
        error = refused(lambda: add_measure(plans, "3", evaluation_month=2, evaluation_day=29))
        assert "evaluation_day" in error.message_dict

    def test_it_refuses_staff_of_a_responsible_service(self, plans):
        with pytest.raises(ValidationError):
            svc.measure_create(user=plans.caseworker, plan=plans.plan, number="9", text="Eget tiltak.",
                               responsible_service=plans.org.barnevern)
        assert not PolicyMeasure.objects.filter(number="9").exists()


class MeasureUpdateTests:
    def update(self, plans, measure, **changes):
        fields = dict(number=measure.number, text=measure.text, responsible_service=measure.responsible_service,
                      co_responsible=list(measure.co_responsible.all()), theme=measure.theme, partners=measure.partners,
                      status=measure.status, evaluation_month=measure.evaluation_month, evaluation_day=measure.evaluation_day,
                      version=measure.version)
        fields.update(changes)
        return svc.measure_update(user=plans.coordinator, measure=measure, **fields)

    def test_it_refuses_a_stale_form_and_changes_nothing(self, plans):
        self.update(plans, plans.measure, status=S.IN_PROGRESS)
        error = refused(lambda: self.update(plans, plans.measure, version=1, text="Overskrevet."))
        assert error.code == "stale"
        plans.measure.refresh_from_db()
        assert (plans.measure.version, plans.measure.status, plans.measure.text.startswith("Styrke")) == (2, S.IN_PROGRESS, True)

    def test_it_moves_the_grant_and_the_reminder_to_a_new_responsible_service(self, plans):
        politi = police(plans.org)
        self.update(plans, plans.measure, responsible_service=plans.org.skole, co_responsible=[politi])
        assert grants(plans.measure) == [("Fjordvik skole", "evaluate_policymeasure"), ("Politiet", "follow_policymeasure")]
        assert {service for service, _due, _deadline in pending(plans.measure)} == {"Fjordvik skole"}

    def test_it_refuses_a_number_another_measure_has(self, plans):
        add_measure(plans, "5")
        assert "number" in refused(lambda: self.update(plans, plans.measure, number="5")).message_dict
        plans.measure.refresh_from_db()
        assert plans.measure.number == "2"


class MeasureEvaluateTests:
    def evaluate(self, plans, user=None, **extra):
        fields = dict(version=plans.measure.version, year=2025, status=S.IN_PROGRESS, text="To samarbeidsmøter holdt; rus var tema på begge.")
        fields.update(extra)
        return svc.measure_evaluate(user=user or plans.caseworker, measure=plans.measure, **fields)

    def test_it_records_the_responsible_services_evaluation_and_takes_its_status(self, plans):
        evaluation = self.evaluate(plans)
        plans.measure.refresh_from_db()
        assert (evaluation.service, evaluation.evaluated_by, plans.measure.status, plans.measure.version) == (
            plans.org.barnevern, plans.caseworker, S.IN_PROGRESS, 2)

    def test_it_lets_the_slt_coordinator_record_it_for_the_responsible_service(self, plans):
        assert self.evaluate(plans, user=plans.coordinator).service == plans.org.slt

    def test_it_refuses_a_year_evaluated_already(self, plans):
        self.evaluate(plans)
        plans.measure.refresh_from_db()
        error = refused(lambda: self.evaluate(plans, text="En gang til."))
        assert "year" in error.message_dict and MeasureEvaluation.objects.count() == 1

    def test_it_refuses_a_year_still_to_come_or_outside_the_period(self, plans):
        assert "year" in refused(lambda: self.evaluate(plans, year=2026)).message_dict
        assert "year" in refused(lambda: self.evaluate(plans, year=2024)).message_dict
        assert MeasureEvaluation.objects.count() == 0

    def test_it_refuses_a_co_responsible_service(self, plans):
        assert refused(lambda: self.evaluate(plans, user=plans.kindergarten)).code == "not_responsible"

    def test_it_refuses_a_stale_form(self, plans):
        assert refused(lambda: self.evaluate(plans, version=7)).code == "stale"
        assert MeasureEvaluation.objects.count() == 0

    def test_it_refuses_an_identity_number_in_the_evaluation(self, plans):
        assert "text" in refused(lambda: self.evaluate(plans, text="Gjelder 01019012345.")).message_dict


def yearly(service, *years):
    """The pending rows expected for ``years``: 17 November 08:00, deadline the end of 1 December."""
    return [(service, at(year, 11, 17, 8, 0), at(year, 12, 2, 0, 0)) for year in years]


class MeasureReminderTests:
    def test_it_schedules_a_reminder_for_every_year_of_the_plan_with_the_measure(self, plans):
        assert sorted(pending(plans.measure)) == yearly("Barneverntjenesten", *range(2025, 2031))

    def test_it_starts_next_year_for_a_measure_added_after_this_years_evaluation_day(self, plans):
        with time_machine.travel(at(2025, 12, 5, 9, 0), tick=False):
            measure = add_measure(plans, "7")
        assert sorted(pending(measure)) == yearly("Barneverntjenesten", *range(2026, 2031))

    def test_it_cancels_this_years_reminder_and_keeps_next_years_when_evaluated(self, plans):
        with time_machine.travel(at(2025, 11, 20, 9, 0), tick=False):
            svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=1, year=2025, status=S.ONGOING, text="Fast møte.")
        assert sorted(pending(plans.measure)) == yearly("Barneverntjenesten", *range(2026, 2031))
        cancelled = Reminder.objects.get(obligation=svc.obligation(plans.measure), key__contains=":2025:")
        assert cancelled.cancelled_at is not None and cancelled.sent_at is None

    def test_a_year_left_unevaluated_does_not_silence_the_next(self, plans, postgresql_only):
        with time_machine.travel(at(2025, 11, 17, 8, 0), tick=False):
            reminders_sweep()
        with time_machine.travel(at(2026, 11, 17, 8, 0), tick=False):
            reminders_sweep()
        assert Notification.objects.filter(user=plans.caseworker).count() == 2

    def test_it_cancels_the_reminders_when_the_measure_is_done_and_writes_them_again_when_reopened(self, plans):
        svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=1, year=2025, status=S.DONE, text="Gjennomført.")
        assert pending(plans.measure) == []
        plans.measure.refresh_from_db()
        svc.measure_update(user=plans.coordinator, measure=plans.measure, version=plans.measure.version, number="2", text=plans.measure.text,
                           responsible_service=plans.org.barnevern, co_responsible=[plans.org.barnehage], status=S.IN_PROGRESS,
                           evaluation_month=10, evaluation_day=1)
        assert sorted(pending(plans.measure))[0] == ("Barneverntjenesten", at(2026, 9, 17, 8, 0), at(2026, 10, 2, 0, 0))
        assert len(pending(plans.measure)) == 5

    def test_it_writes_none_after_the_last_year_of_the_plan(self, plans):
        with time_machine.travel(at(2030, 12, 3, 9, 0), tick=False):
            svc.measure_evaluate(user=plans.caseworker, measure=plans.measure, version=1, year=2030, status=S.ONGOING, text="Siste år.")
        assert pending(plans.measure) == []

    def test_the_sweep_tells_the_responsible_services_members_only_when_due(self, plans, postgresql_only):
        colleague = member(plans.org.barnevern)
        with time_machine.travel(at(2025, 11, 17, 7, 59), tick=False):
            reminders_sweep()
        assert Notification.objects.count() == 0
        with time_machine.travel(at(2025, 11, 17, 8, 0), tick=False):
            reminders_sweep()
        assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted([plans.caseworker.pk, plans.org.bv_leader.pk, colleague.pk])
        notice = Notification.objects.get(user=plans.caseworker)
        assert notice.reference == "2" and notice.url.endswith(f"/tiltak/{plans.measure.code}/evaluer/")
        assert "2025" in notice.message and "Rusmiddelpolitisk handlingsplan" in notice.message

    def test_the_sweep_tells_no_one_once_the_service_lost_the_measure(self, plans, postgresql_only):
        svc.measure_update(user=plans.coordinator, measure=plans.measure, version=1, number="2", text=plans.measure.text,
                           responsible_service=plans.org.skole, co_responsible=[], status=S.IN_PROGRESS, evaluation_month=12, evaluation_day=1)
        with time_machine.travel(at(2025, 11, 17, 8, 0), tick=False):
            reminders_sweep()
        assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted([plans.org.teacher.pk, plans.school_leader.pk])


class NextEvaluationYearTests:
    @pytest.mark.parametrize(("today", "evaluated", "expected"), [
        ((2025, 3, 1), [], 2025),
        ((2025, 12, 2), [], 2026),
        ((2026, 1, 15), [2025], 2026),
        ((2026, 1, 15), [], 2026),
        ((2025, 11, 20), [2025], 2026),
        ((2030, 12, 5), [2030], None),
    ])
    def test_it_is_the_first_year_not_evaluated_whose_evaluation_day_is_to_come(self, plans, today, evaluated, expected):
        import datetime

        for year in evaluated:
            MeasureEvaluation.objects.create(measure=plans.measure, year=year, status=S.ONGOING, text="x", service=plans.org.barnevern,
                                             evaluated_by=plans.caseworker, evaluated_at=timezone.now())
        assert svc.next_evaluation_year(plans.measure, today=datetime.date(*today)) == expected


def test_a_service_kind_other_than_slt_cannot_keep_a_plan(plans):
    error = refused(lambda: svc.policy_plan_create(user=plans.caseworker, municipality=plans.org.municipality,
                                                   owner_service=plans.org.barnevern, title="Plan", from_year=2025, to_year=2026))
    assert "owner_service" in error.message_dict and plans.org.barnevern.kind != Service.Kind.SLT

