"""The individual plan's services (issue 9): offer, plan, participants, measures, hand-over, versions.

Personas and dates: see scenario.py. Bad input gets a translated error and changes nothing.
"""
import datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import AccessLog
from consent.models import Disclosure
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder, PlanMeasure, PlanOffer, PlanParticipant, PlanVersion
from tests.factories import make_child, make_guardian
from tests.workflows.individual_plan.scenario import TODAY, accepted_offer, adult, create_plan, plan_consent, plan_with_participants
from workflows.individual_plan import services as svc

DAY = datetime.timedelta(days=1)


def messages(error: ValidationError, field: str) -> list[str]:
    return error.value.message_dict[field]


def counts():
    return (IndividualPlan.objects.count(), PlanMeasure.objects.count(), PlanHolder.objects.count(), PlanHandOver.objects.count(),
            PlanVersion.objects.count(), PlanParticipant.objects.count())


class OfferTests:
    def test_it_registers_the_offer_and_logs_it(self, org, ip):
        ola = adult(org, ip)
        offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=ola, reason="Langvarige behov.")
        assert (offer.offered_on, offer.answer) == (TODAY, "")
        assert AccessLog.objects.filter(object_type="referrals.planoffer", object_id=offer.pk, purpose="individual plan offered").exists()

    def test_it_refuses_an_offer_without_a_reason(self, org, ip):
        with pytest.raises(ValidationError) as e:
            svc.offer_register(user=ip.rus_staff, service=ip.rus, person=adult(org, ip), reason="  ")
        assert messages(e, "reason") == ["Say why the person qualifies for an individual plan."]
        assert not PlanOffer.objects.exists()

    def test_it_records_an_adults_own_answer_with_the_age_rule(self, org, ip):
        offer = accepted_offer(ip, adult(org, ip))
        offer.refresh_from_db()
        assert (offer.answer, offer.answered_on, offer.answered_by_person, offer.answer_consenter) == ("accepted", TODAY, True, "person")

    def test_it_refuses_a_twelve_year_olds_own_answer_and_takes_the_guardians(self, org, ip):
        emma = make_child(org, birth=datetime.date(2014, 5, 1), given="Emma", start=710, service=ip.rus)
        kari = make_guardian(emma)
        offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=emma, reason="Alvorlig sykdom.")
        with pytest.raises(ValidationError) as e:
            svc.offer_answer(user=ip.rus_staff, offer=offer, answer="coordinator_only", by_person=True)
        assert messages(e, "answered_by") == ["At the person's age the guardians answer the offer."]
        offer.refresh_from_db()
        assert offer.answer == ""
        svc.offer_answer(user=ip.rus_staff, offer=offer, answer="coordinator_only", guardians=[kari])
        offer.refresh_from_db()
        assert (offer.answer, offer.answer_consenter, list(offer.answered_by_guardians.all())) == ("coordinator_only", "guardians", [kari])

    def test_it_refuses_an_answer_by_someone_not_registered_as_guardian(self, org, ip):
        emma = make_child(org, birth=datetime.date(2014, 5, 1), given="Emma", start=720, service=ip.rus)
        stranger = make_guardian(adult(org, ip, given="Per", start=330))
        offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=emma, reason="Alvorlig sykdom.")
        with pytest.raises(ValidationError) as e:
            svc.offer_answer(user=ip.rus_staff, offer=offer, answer="accepted", guardians=[stranger])
        assert messages(e, "answered_by") == ["Only the person's registered guardians can answer on their behalf."]

    def test_it_refuses_a_second_answer(self, org, ip):
        offer = accepted_offer(ip, adult(org, ip))
        with pytest.raises(ValidationError) as e:
            svc.offer_answer(user=ip.rus_staff, offer=offer, answer="declined", by_person=True)
        assert e.value.messages == ["The answer to this offer has already been recorded."]
        offer.refresh_from_db()
        assert offer.answer == "accepted"

    def test_it_refuses_an_answer_from_another_service(self, org, ip):
        offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=adult(org, ip), reason="Langvarige behov.")
        with pytest.raises(ValidationError) as e:
            svc.offer_answer(user=ip.nav_staff, offer=offer, answer="accepted", by_person=True)
        assert e.value.code == "not_member"


class PlanCreateTests:
    def test_it_makes_the_plan_with_its_holder_participant_and_first_version(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        holder = PlanHolder.objects.get(plan=plan)
        assert (holder.service, holder.koordinator, holder.ended_at) == (ip.rus, ip.rus_koordinator, None)
        assert list(plan.participants.values_list("service", flat=True)) == [ip.rus.pk]
        version = plan.versions.get()
        assert (version.number, version.change, version.changed_by, version.changed_by_service) == (1, "created", ip.rus_staff, ip.rus)
        assert version.changes["goals"] == [None, "Jeg vil ha egen leilighet og komme i jobb."]
        assert svc.case_owner(plan) == ip.rus
        assert AccessLog.objects.filter(object_type="referrals.individualplan", object_id=plan.pk, purpose="individual plan created").exists()

    def test_it_refuses_a_plan_for_a_declined_offer(self, org, ip):
        ola = adult(org, ip)
        offer = svc.offer_register(user=ip.rus_staff, service=ip.rus, person=ola, reason="Langvarige behov.")
        svc.offer_answer(user=ip.rus_staff, offer=offer, answer="declined", by_person=True)
        with pytest.raises(ValidationError) as e:
            create_plan(ip, ola, offer=offer)
        assert messages(e, "offer") == ["The person has not accepted the offer of an individual plan."]
        assert counts() == (0, 0, 0, 0, 0, 0)

    @pytest.mark.parametrize("which", ["other purpose", "not covering the holder", "withdrawn", "another person's"])
    def test_it_refuses_a_plan_without_a_consent_in_force_for_it(self, org, ip, which):
        from consent.services import consent_withdraw

        ola = adult(org, ip)
        if which == "other purpose":
            consent = plan_consent(ip, ola)
            consent.purpose = "referral"
            consent.save(update_fields=["purpose"])
        elif which == "not covering the holder":
            consent = plan_consent(ip, ola, grantees=[ip.nav])
        elif which == "withdrawn":
            consent = plan_consent(ip, ola)
            consent_withdraw(consent=consent, user=ip.rus_staff)
        else:
            consent = plan_consent(ip, adult(org, ip, given="Kåre", start=340))
        with pytest.raises(ValidationError) as e:
            create_plan(ip, ola, consent=consent)
        assert messages(e, "consent") == ["There is no consent in force from the person for an individual plan shared with Psykisk helse og rus."]
        assert counts() == (0, 0, 0, 0, 0, 0)

    def test_it_refuses_a_revision_date_outside_the_period_and_a_missing_goal(self, org, ip):
        with pytest.raises(ValidationError) as e:
            create_plan(ip, adult(org, ip), goals=" ", revision_due_on=TODAY - DAY)
        assert messages(e, "goals") == ["Write down the person's own goals, in their own words."]
        assert messages(e, "revision_due_on") == ["The revision date must lie within the plan period."]
        assert IndividualPlan.objects.count() == 0

    def test_it_refuses_a_koordinator_from_another_service(self, org, ip):
        with pytest.raises(ValidationError) as e:
            create_plan(ip, adult(org, ip), koordinator=ip.nav_staff)
        assert messages(e, "koordinator") == ["The koordinator must be a member of Psykisk helse og rus."]


class ParticipantTests:
    def test_it_discloses_the_plan_to_a_participating_service_on_the_consent(self, org, ip):
        plan = plan_with_participants(org, ip)
        disclosure = Disclosure.objects.get(subject_id=plan.pk, to_service=ip.nav)
        assert (disclosure.basis, disclosure.consent, disclosure.from_service) == ("consent", plan.consent, ip.rus)
        assert plan.version == 3
        assert list(plan.versions.values_list("change", flat=True)) == ["created", "participant_added", "participant_added"]

    def test_it_grants_the_plans_own_permission_to_its_owner_and_through_the_ledger_only(self, org, ip):
        from django.contrib.auth import get_user_model

        from consent.grants import grants_without_reason
        from org.permissions import INDIVIDUAL_PLAN_PARTICIPANT

        plan = plan_with_participants(org, ip)
        users = get_user_model().objects
        assert Disclosure.objects.get(subject_id=plan.pk, to_service=ip.nav).permission == INDIVIDUAL_PLAN_PARTICIPANT
        assert [users.get(pk=u.pk).has_perm(INDIVIDUAL_PLAN_PARTICIPANT, plan) for u in (ip.rus_staff, ip.nav_staff, ip.dps_staff)] == \
            [True, True, False]
        assert list(grants_without_reason()) == []
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.home))
        assert not users.get(pk=ip.home_staff.pk).has_perm(INDIVIDUAL_PLAN_PARTICIPANT, plan)

    def test_it_refuses_a_service_the_consent_does_not_cover(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        before = counts()
        with pytest.raises(ValidationError) as e:
            svc.participant_add(user=ip.rus_staff, plan=plan, role="service", service=ip.dps)
        assert messages(e, "service") == ["The person's consent does not cover sharing the plan with DPS."]
        assert counts() == before
        assert not Disclosure.objects.filter(to_service=ip.dps).exists()

    def test_it_adds_a_next_of_kin_and_refuses_a_stranger_as_guardian(self, org, ip):
        ola = adult(org, ip)
        plan = create_plan(ip, ola)
        sister = adult(org, ip, given="Siri", start=350)
        kin = svc.participant_add(user=ip.rus_staff, plan=plan, role="next_of_kin", person=sister, relation="søster")
        assert (kin.person, kin.role, kin.relation) == (sister, "next_of_kin", "søster")
        other = adult(org, ip, given="Per", start=360)
        with pytest.raises(ValidationError) as e:
            svc.participant_add(user=ip.rus_staff, plan=plan, role="guardian", person=other)
        assert messages(e, "person") == ["Only a registered guardian of the person can take part as a guardian."]

    def test_it_lets_only_the_holder_add_participants(self, org, ip):
        plan = plan_with_participants(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.participant_add(user=ip.nav_staff, plan=plan, role="next_of_kin", person=adult(org, ip, given="Siri", start=370))
        assert e.value.code == "not_member"

    def test_it_keeps_the_holder_in_the_plan_and_removes_another_service(self, org, ip):
        plan = plan_with_participants(org, ip)
        rus = plan.participants.get(service=ip.rus)
        with pytest.raises(ValidationError):
            svc.participant_remove(user=ip.rus_staff, plan=plan, participant=rus)
        svc.participant_remove(user=ip.rus_staff, plan=plan, participant=plan.participants.get(service=ip.home))
        assert set(plan.participants.filter(removed_at__isnull=True).values_list("service", flat=True)) == {ip.rus.pk, ip.nav.pk}


class MeasureTests:
    def test_it_adds_a_measure_and_keeps_it_as_a_version(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = svc.measure_add(user=ip.rus_staff, plan=plan, description="Bistand til å søke kommunal bolig.",
                                  responsible_service=ip.nav, starts_on=TODAY, evaluate_on=TODAY + 90 * DAY)
        version = plan.versions.order_by("-number").first()
        assert (version.number, version.change, version.changes["responsible_service"]) == (4, "measure_added", [None, "NAV"])
        assert measure.status == "planned"

    def test_it_refuses_an_evaluation_before_the_start_and_saves_nothing(self, org, ip):
        plan = plan_with_participants(org, ip)
        before = counts()
        with pytest.raises(ValidationError) as e:
            svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening.", responsible_service=ip.nav,
                            starts_on=TODAY, evaluate_on=TODAY - DAY)
        assert messages(e, "evaluate_on") == ["The evaluation date cannot be before the measure starts."]
        assert counts() == before
        assert IndividualPlan.objects.get(pk=plan.pk).version == plan.version

    def test_it_refuses_a_measure_owned_by_a_service_outside_the_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        before = counts()
        with pytest.raises(ValidationError) as e:
            svc.measure_add(user=ip.rus_staff, plan=plan, description="Samtaler.", responsible_service=ip.dps,
                            starts_on=TODAY, evaluate_on=TODAY + DAY)
        assert messages(e, "responsible_service") == ["DPS does not take part in this plan: choose a participating service."]
        assert counts() == before

    def test_it_lets_the_responsible_service_update_its_measure_but_not_another(self, org, ip):
        plan = plan_with_participants(org, ip)
        measure = svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening.", responsible_service=ip.nav,
                                  starts_on=TODAY, evaluate_on=TODAY + 30 * DAY)
        svc.measure_update(user=ip.nav_staff, measure=measure, status="ongoing")
        measure.refresh_from_db()
        assert measure.status == "ongoing"
        assert plan.versions.order_by("-number").first().changes["status"] == ["planned", "ongoing"]
        with pytest.raises(ValidationError) as e:
            svc.measure_update(user=ip.home_staff, measure=measure, status="completed")
        assert e.value.code == "not_member"
        with pytest.raises(ValidationError) as e:
            svc.measure_update(user=ip.nav_staff, measure=measure, evaluate_on=TODAY - DAY)
        measure.refresh_from_db()
        assert (measure.status, measure.evaluate_on) == ("ongoing", TODAY + 30 * DAY)


class PlanUpdateTests:
    def test_it_keeps_who_when_and_what_of_a_change(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        svc.plan_update(user=ip.rus_koordinator, plan=plan, goals="Jeg vil ha jobb.", revision_due_on=TODAY + 100 * DAY)
        version = plan.versions.order_by("-number").first()
        assert (version.number, version.change, version.changed_by, version.changed_by_service) == (2, "content", ip.rus_koordinator, ip.rus)
        assert version.changes == {"goals": ["Jeg vil ha egen leilighet og komme i jobb.", "Jeg vil ha jobb."],
                                   "revision_due_on": [(TODAY + 180 * DAY).isoformat(), (TODAY + 100 * DAY).isoformat()]}
        log = AccessLog.objects.filter(purpose="individual plan changed").get()
        assert log.changes["goals"] is None  # the person's words are not copied into the log

    def test_it_writes_nothing_for_no_change_and_nothing_for_bad_input(self, org, ip):
        plan = create_plan(ip, adult(org, ip))
        svc.plan_update(user=ip.rus_staff, plan=plan, kind="ip")
        with pytest.raises(ValidationError) as e:
            svc.plan_update(user=ip.rus_staff, plan=plan, goals="Ny tekst", period_end=TODAY - DAY)
        assert messages(e, "period_end") == ["The plan period cannot end before it starts."]
        plan.refresh_from_db()
        assert (plan.version, plan.goals) == (1, "Jeg vil ha egen leilighet og komme i jobb.")

    def test_it_lets_only_the_holder_change_the_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.plan_update(user=ip.nav_staff, plan=plan, goals="Noe annet")
        assert e.value.messages == ["Only the service holding the main responsibility can do this."]


class HandOverTests:
    def test_it_refuses_a_hand_over_to_the_current_holder(self, org, ip):
        plan = plan_with_participants(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.rus)
        assert messages(e, "to_service") == ["Psykisk helse og rus already holds the main responsibility."]
        assert not PlanHandOver.objects.exists()

    def test_it_refuses_a_hand_over_to_a_service_outside_the_plan(self, org, ip):
        plan = plan_with_participants(org, ip)
        with pytest.raises(ValidationError) as e:
            svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.dps)
        assert messages(e, "to_service") == ["DPS does not take part in this plan: add it as a participant first."]

    def test_it_leaves_the_old_holder_in_charge_until_the_receiver_accepts(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav, note="Ola er i arbeidsrettet løp nå.")
        assert svc.case_owner(plan) == ip.rus
        svc.plan_update(user=ip.rus_staff, plan=plan, resources="Søster og fastlege.")  # still the holder's to change
        new = svc.handover_accept(user=ip.nav_staff, handover=handover, koordinator=ip.nav_staff)
        assert svc.case_owner(plan) == ip.nav == new.service
        history = list(PlanHolder.objects.filter(plan=plan).order_by("started_at", "id").values_list("service", "ended_at"))
        assert [s for s, _ in history] == [ip.rus.pk, ip.nav.pk]
        assert history[0][1] is not None and history[1][1] is None
        assert plan.versions.order_by("-number").first().changes == {"main_responsibility": ["Psykisk helse og rus", "NAV"]}
        with pytest.raises(ValidationError):
            svc.plan_update(user=ip.rus_staff, plan=plan, goals="Endret av den gamle holderen")
        svc.plan_update(user=ip.nav_staff, plan=plan, goals="Endret av NAV")

    def test_it_lets_only_the_receiving_service_accept(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        for user in (ip.home_staff, ip.rus_staff, org.caseworker):
            with pytest.raises(ValidationError) as e:
                svc.handover_accept(user=user, handover=handover)
            assert e.value.messages == ["Only the receiving service can accept the hand-over."]
        assert svc.case_owner(plan) == ip.rus

    def test_it_keeps_the_holder_when_the_receiver_declines(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        with pytest.raises(ValidationError) as e:
            svc.handover_decline(user=ip.nav_staff, handover=handover, reason=" ")
        assert messages(e, "reason") == ["Say why the hand-over is declined."]
        svc.handover_decline(user=ip.nav_staff, handover=handover, reason="Ola har ingen sak hos NAV nå.")
        handover.refresh_from_db()
        assert (handover.status, svc.case_owner(plan)) == ("declined", ip.rus)
        with pytest.raises(ValidationError) as e:
            svc.handover_accept(user=ip.nav_staff, handover=handover)
        assert e.value.code == "out_of_order"

    def test_it_supersedes_the_other_open_proposals_when_one_is_accepted(self, org, ip):
        plan = plan_with_participants(org, ip)
        to_nav = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        to_home = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)
        svc.handover_accept(user=ip.home_staff, handover=to_home)
        to_nav.refresh_from_db()
        assert to_nav.status == "superseded"
        with pytest.raises(ValidationError) as e:
            svc.handover_accept(user=ip.nav_staff, handover=to_nav)
        assert e.value.messages == ["This hand-over is no longer waiting for an answer: it is “Superseded by another hand-over”."]
        assert PlanHolder.objects.get(plan=plan, ended_at__isnull=True).service == ip.home

    def test_it_refuses_a_second_proposal_to_the_same_service(self, org, ip):
        plan = plan_with_participants(org, ip)
        svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        with pytest.raises(ValidationError) as e:
            svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        assert messages(e, "to_service") == ["A hand-over to NAV is already waiting for its answer."]
        assert PlanHandOver.objects.count() == 1

    def test_it_lets_the_proposer_cancel_and_names_a_new_koordinator(self, org, ip):
        plan = plan_with_participants(org, ip)
        handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        svc.handover_cancel(user=ip.rus_staff, handover=handover)
        handover.refresh_from_db()
        assert handover.status == "cancelled"
        holder = svc.koordinator_set(user=ip.rus_staff, plan=plan, koordinator=ip.rus_staff)
        assert holder.koordinator == ip.rus_staff
        assert plan.versions.order_by("-number").first().change == "koordinator_changed"
