"""The individual plan's clocks (issue 9, point 6, and "Must show": an evaluation date's reminder
delivered once), through the real sweep on PostgreSQL under frozen time.

Today is Tuesday 1 September 2026, 10:00 (scenario.py). The policy rows (workflows/migrations/0015):
* a measure evaluated on Tuesday 15 September is due by the end of that day (16 September 00:00),
  its service's staff reminded a week (168 hours) before, its leaders escalated to at the due time;
* a hand-over proposed now is answered within 5 working days (Tuesday 8 September 10:00), the
  receiver's staff reminded 24 hours before, both services' leaders told when it is late;
* the plan's revision on 28 February 2027 is due by 1 March 00:00, the holder reminded 14 days before;
* an offer registered now is answered within 10 working days (Tuesday 15 September 10:00).
Personas: see scenario.py; each service's leader is made here.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notifications.models import Email, Notification, Reminder
from notifications.services import email_send, reminders_sweep
from org.models import Membership
from referrals.models import IndividualPlan, PlanMeasure, PlanOffer
from tests.factories import member
from tests.workflows.individual_plan.scenario import TODAY, adult, create_plan, plan_consent, plan_with_participants
from workflows.individual_plan import clocks
from workflows.individual_plan import services as svc
from workflows.individual_plan.selectors import plan_open_deadlines
from workflows.services.deadlines import deadline_for
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgresql_only")]
OSLO = ZoneInfo("Europe/Oslo")
DAY = datetime.timedelta(days=1)
EVALUATION_DAY = datetime.date(2026, 9, 15)


def at(*args):
    return datetime.datetime(*args, tzinfo=OSLO)


def sweep_at(moment, times=2):
    with time_machine.travel(moment, tick=False):
        for _ in range(times):
            reminders_sweep()


def notices(deadline, user):
    return sorted(Notification.objects.filter(user=user, reminder__obligation=f"deadline:{deadline.pk}").values_list("kind", flat=True))


def leader(service):
    return member(service, role=Membership.Role.LEADER)


def nav_measure(ip, plan, *, evaluate_on=EVALUATION_DAY):
    return svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening tre dager i uken.", responsible_service=ip.nav,
                           starts_on=TODAY, evaluate_on=evaluate_on)


def evaluation(measure):
    return deadline_for(measure, clocks.EVALUATION, process=clocks.PROCESS)


class MeasureEvaluationReminderTests:
    def test_it_reminds_the_responsible_service_and_escalates_to_its_leaders_once_each(self, org, ip):
        nav_leader, rus_leader = leader(ip.nav), leader(ip.rus)
        plan = plan_with_participants(org, ip)
        deadline = evaluation(nav_measure(ip, plan))
        assert timezone.localtime(deadline.due_at) == at(2026, 9, 16, 0, 0)
        assert deadline.responsible_service == ip.nav

        sweep_at(at(2026, 9, 8, 23, 59))
        assert notices(deadline, ip.nav_staff) == []
        sweep_at(at(2026, 9, 9, 0, 0))
        assert notices(deadline, ip.nav_staff) == ["reminder"]
        sweep_at(at(2026, 9, 16, 0, 1))

        assert notices(deadline, ip.nav_staff) == ["reminder"]
        assert notices(deadline, nav_leader) == ["escalation", "reminder"]
        # Only the responsible service hears of its measure.
        assert notices(deadline, ip.rus_staff) == notices(deadline, rus_leader) == notices(deadline, ip.home_staff) == []
        escalation = Notification.objects.get(user=nav_leader, kind="escalation")
        assert plan.reference in escalation.message and "Ola" not in escalation.message and "Nordmann" not in escalation.message
        assert escalation.url == reverse("individual_plans:detail", args=[plan.code])

    def test_it_reschedules_the_reminders_when_the_evaluation_date_moves(self, org, ip):
        nav_leader = leader(ip.nav)
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        svc.measure_update(user=ip.rus_staff, measure=measure, evaluate_on=EVALUATION_DAY + 14 * DAY)
        deadline = evaluation(measure)
        assert timezone.localtime(deadline.due_at) == at(2026, 9, 30, 0, 0) and deadline.is_open

        sweep_at(at(2026, 9, 16, 0, 1))
        assert notices(deadline, ip.nav_staff) == notices(deadline, nav_leader) == []
        sweep_at(at(2026, 9, 23, 0, 0))
        assert notices(deadline, ip.nav_staff) == ["reminder"]
        sweep_at(at(2026, 9, 30, 0, 1))
        assert notices(deadline, nav_leader) == ["escalation", "reminder"]

    def test_a_date_moved_back_again_revives_its_reminder_once(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        svc.measure_update(user=ip.rus_staff, measure=measure, evaluate_on=EVALUATION_DAY + 7 * DAY)
        svc.measure_update(user=ip.rus_staff, measure=measure, evaluate_on=EVALUATION_DAY)

        sweep_at(at(2026, 9, 9, 0, 0))
        assert notices(evaluation(measure), ip.nav_staff) == ["reminder"]

    def test_a_new_responsible_service_takes_over_the_reminders(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        svc.measure_update(user=ip.rus_staff, measure=measure, responsible_service=ip.home)

        sweep_at(at(2026, 9, 9, 0, 0))
        deadline = evaluation(measure)
        assert deadline.responsible_service == ip.home
        assert notices(deadline, ip.home_staff) == ["reminder"] and notices(deadline, ip.nav_staff) == []

    @pytest.mark.parametrize("status, met", [(PlanMeasure.Status.COMPLETED, True), (PlanMeasure.Status.STOPPED, False)])
    def test_a_completed_or_stopped_measure_is_neither_reminded_nor_escalated(self, org, ip, status, met):
        nav_leader = leader(ip.nav)
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        svc.measure_update(user=ip.nav_staff, measure=measure, status=status)

        deadline = evaluation(measure)
        assert (deadline.met_at is not None, deadline.cancelled_at is not None) == (met, not met)
        sweep_at(at(2026, 9, 16, 0, 1))
        assert notices(deadline, ip.nav_staff) == notices(deadline, nav_leader) == []

    def test_an_ongoing_measure_keeps_its_clock(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        svc.measure_update(user=ip.nav_staff, measure=measure, status=PlanMeasure.Status.ONGOING, description="Arbeidstrening fire dager.")

        sweep_at(at(2026, 9, 9, 0, 0))
        assert notices(evaluation(measure), ip.nav_staff) == ["reminder"]


def handover_clock(handover):
    return deadline_for(handover, clocks.HANDOVER, process=clocks.PROCESS)


class HandOverReminderTests:
    def test_it_reminds_the_receiver_and_tells_both_services_leaders_once_when_late(self, org, ip):
        nav_leader, rus_leader = leader(ip.nav), leader(ip.rus)
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        deadline = handover_clock(handover)
        handover.refresh_from_db()
        assert timezone.localtime(deadline.due_at) == at(2026, 9, 8, 10, 0) == timezone.localtime(handover.next_deadline_at)

        sweep_at(at(2026, 9, 7, 9, 59))
        assert notices(deadline, ip.nav_staff) == []
        sweep_at(at(2026, 9, 7, 10, 0))
        assert notices(deadline, ip.nav_staff) == ["reminder"]
        sweep_at(at(2026, 9, 8, 10, 1))

        assert notices(deadline, ip.nav_staff) == ["reminder"]
        assert notices(deadline, nav_leader) == ["escalation", "reminder"]
        assert notices(deadline, rus_leader) == ["alarm"]
        assert notices(deadline, ip.rus_staff) == notices(deadline, ip.home_staff) == []
        alarm = Notification.objects.get(user=rus_leader, kind="alarm")
        assert plan.reference in alarm.message and "Ola" not in alarm.message

    @pytest.mark.parametrize("how", ["accepted", "declined", "cancelled", "superseded", "receiver removed", "consent withdrawn"])
    def test_a_hand_over_that_ends_is_no_longer_reminded(self, org, ip, how):
        nav_leader, rus_leader = leader(ip.nav), leader(ip.rus)
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        if how == "accepted":
            svc.handover_accept(user=ip.nav_staff, handover=handover)
        elif how == "declined":
            svc.handover_decline(user=ip.nav_staff, handover=handover, reason="Vi har ikke kapasitet nå.")
        elif how == "cancelled":
            svc.handover_cancel(user=ip.rus_staff, handover=handover)
        elif how == "superseded":
            other = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)
            svc.handover_accept(user=ip.home_staff, handover=other)
        elif how == "receiver removed":
            svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.nav))
        else:
            consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff)

        deadline = handover_clock(handover)
        handover.refresh_from_db()
        answered = how in ("accepted", "declined")
        assert (deadline.met_at is not None, deadline.cancelled_at is not None) == (answered, not answered)
        assert handover.next_deadline_at is None
        sweep_at(at(2026, 9, 8, 10, 1))
        assert notices(deadline, ip.nav_staff) == notices(deadline, nav_leader) == notices(deadline, rus_leader) == []


def revision(plan):
    return deadline_for(plan, clocks.REVISION, process=clocks.PROCESS)


class RevisionReminderTests:
    def test_it_reminds_the_holder_and_escalates_to_its_leaders(self, org, ip):
        rus_leader = leader(ip.rus)
        plan = plan_with_participants(org, ip)
        deadline = revision(plan)
        assert timezone.localtime(deadline.due_at) == at(2027, 3, 1, 0, 0) and deadline.responsible_service == ip.rus

        sweep_at(at(2027, 2, 15, 0, 0))
        assert notices(deadline, ip.rus_staff) == ["reminder"]
        sweep_at(at(2027, 3, 1, 0, 1))
        assert notices(deadline, rus_leader) == ["escalation", "reminder"]
        assert notices(deadline, ip.nav_staff) == []

    def test_it_reminds_the_holder_of_the_day_after_a_hand_over(self, org, ip):
        rus_leader, nav_leader = leader(ip.rus), leader(ip.nav)
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        svc.handover_accept(user=ip.nav_staff, handover=handover)

        deadline = revision(plan)
        assert deadline.responsible_service == ip.nav and deadline.is_open
        sweep_at(at(2027, 2, 15, 0, 0))
        sweep_at(at(2027, 3, 1, 0, 1))
        assert notices(deadline, ip.nav_staff) == ["reminder"]
        assert notices(deadline, nav_leader) == ["escalation", "reminder"]
        assert notices(deadline, ip.rus_staff) == notices(deadline, rus_leader) == []

    def test_a_new_revision_date_moves_the_reminders(self, org, ip):
        plan = plan_with_participants(org, ip)
        svc.plan_update(user=ip.rus_staff, plan=plan, revision_due_on=datetime.date(2026, 12, 1))

        deadline = revision(plan)
        assert timezone.localtime(deadline.due_at) == at(2026, 12, 2, 0, 0)
        sweep_at(at(2026, 11, 18, 0, 0))
        assert notices(deadline, ip.rus_staff) == ["reminder"]
        assert Reminder.objects.filter(obligation=f"deadline:{deadline.pk}", sent_at__isnull=True, cancelled_at__isnull=True).count() == 1

    def test_the_plans_page_lists_its_open_clocks_earliest_first(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = nav_measure(ip, plan)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)
        listed = [(d.policy.step, d.subject_id) for d in plan_open_deadlines(plan)]
        assert listed == [(clocks.HANDOVER, handover.pk), (clocks.EVALUATION, measure.pk), (clocks.REVISION, plan.pk)]


def offer_clock(offer):
    return deadline_for(offer, clocks.OFFER, process=clocks.PROCESS)


class OfferDeadlineTests:
    def register(self, org, ip):
        return svc.offer_register(user=ip.rus_staff, service=ip.rus, person=adult(org, ip), reason="Trenger koordinerte tjenester.")

    def test_an_answered_offer_meets_its_deadline_and_is_not_escalated(self, org, ip):
        rus_leader = leader(ip.rus)
        offer = self.register(org, ip)
        assert timezone.localtime(offer_clock(offer).due_at) == at(2026, 9, 15, 10, 0)
        svc.offer_answer(user=ip.rus_staff, offer=offer, answer=PlanOffer.Answer.COORDINATOR_ONLY, by_person=True)

        deadline = offer_clock(offer)
        assert deadline.met_at is not None
        sweep_at(at(2026, 9, 15, 10, 1))
        assert notices(deadline, ip.rus_staff) == notices(deadline, rus_leader) == []

    def test_an_unanswered_offer_is_reminded_then_escalated_once(self, org, ip):
        rus_leader, nav_leader = leader(ip.rus), leader(ip.nav)
        offer = self.register(org, ip)
        deadline = offer_clock(offer)

        sweep_at(at(2026, 9, 14, 10, 0))
        assert notices(deadline, ip.rus_staff) == ["reminder"]
        sweep_at(at(2026, 9, 15, 10, 1))
        assert notices(deadline, rus_leader) == ["escalation", "reminder"]
        assert notices(deadline, nav_leader) == notices(deadline, ip.nav_staff) == []
        escalation = Notification.objects.get(user=rus_leader, kind="escalation")
        assert offer.reference in escalation.message and "Ola" not in escalation.message


class ConsentAtDeliveryTests:
    """The sweep re-checks at delivery that the service still takes part with the consent in force."""

    def test_a_withdrawn_consent_pauses_the_plan_and_nothing_is_delivered(self, org, ip):
        nav_leader, rus_leader = leader(ip.nav), leader(ip.rus)
        plan = plan_with_participants(org, ip)
        deadline = evaluation(nav_measure(ip, plan))
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff)

        assert not evaluation(PlanMeasure.objects.get(plan=plan)).is_open and not revision(plan).is_open
        sweep_at(at(2026, 9, 16, 0, 1))
        sweep_at(at(2027, 3, 1, 0, 1))
        assert not Notification.objects.filter(reminder__subject_id=plan.pk, reminder__obligation__startswith="deadline:").exists()
        assert notices(deadline, ip.nav_staff) == notices(deadline, nav_leader) == notices(revision(plan), rus_leader) == []

    def test_a_consent_that_lapsed_without_a_withdrawal_reaches_no_one(self, org, ip):
        # The consent runs out on 5 September; no grant is revoked, and the plan is not paused.
        ola = adult(org, ip)
        plan = create_plan(ip, ola, consent=plan_consent(ip, ola, valid_to=TODAY + 4 * DAY))
        svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.nav)
        deadline = evaluation(nav_measure(ip, plan))
        assert IndividualPlan.objects.get(pk=plan.pk).status == IndividualPlan.Status.ACTIVE

        sweep_at(at(2026, 9, 9, 0, 0))
        assert ip.nav_staff.has_perm(clocks.PARTICIPANT_PERM, plan)  # the grant alone would let it through
        assert notices(deadline, ip.nav_staff) == []
        assert Reminder.objects.filter(obligation=f"deadline:{deadline.pk}", kind="reminder").get().sent_at is not None

    def test_an_e_mail_is_dropped_when_the_consent_lapses_before_it_is_sent(self, org, ip):
        # Delivered in-app on 9 September with the consent in force (until 10 September); its e-mail
        # is sent only on the 11th, when the sweep's gate asks again.
        ola = adult(org, ip)
        plan = create_plan(ip, ola, consent=plan_consent(ip, ola, valid_to=TODAY + 9 * DAY))
        svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.nav)
        deadline = evaluation(nav_measure(ip, plan))
        sweep_at(at(2026, 9, 9, 0, 0), times=1)
        assert notices(deadline, ip.nav_staff) == ["reminder"]
        email = Email.objects.get(notification__user=ip.nav_staff, notification__reminder__obligation=f"deadline:{deadline.pk}")

        with time_machine.travel(at(2026, 9, 11, 8, 0), tick=False):
            assert email_send(email_id=email.pk) == "dropped"
        email.refresh_from_db()
        assert (email.state, email.reason) == (Email.State.DROPPED, Email.Reason.NO_ACCESS)

    def test_a_service_removed_from_the_plan_is_not_reminded(self, org, ip):
        plan = plan_with_participants(org, ip)
        deadline = evaluation(svc.measure_add(user=ip.rus_staff, plan=plan, description="Hjemmebesøk.", responsible_service=ip.home,
                                              starts_on=TODAY, evaluate_on=EVALUATION_DAY))
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.home))

        sweep_at(at(2026, 9, 9, 0, 0))
        assert notices(deadline, ip.home_staff) == []

    def test_the_gate_lets_through_only_a_taking_part_service_with_the_consent_in_force(self, org, ip):
        from workflows.individual_plan.selectors import plan_delivery_gate

        plan = plan_with_participants(org, ip)
        pairs = {(plan.pk, ip.rus.pk), (plan.pk, ip.nav.pk), (plan.pk, ip.dps.pk), (plan.pk + 1000, ip.rus.pk)}
        assert plan_delivery_gate(pairs) == {(plan.pk, ip.rus.pk), (plan.pk, ip.nav.pk)}
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff)
        assert plan_delivery_gate(pairs) == set()
