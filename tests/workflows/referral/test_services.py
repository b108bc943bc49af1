"""Referral routing with a closed loop, through the services (issue #3, item 5; domain P6).

Today is frozen at Tuesday 1 September 2026, 10:00. The persons and services:
- Sara, 17, consented to sharing with the coordinator, Tildelingskontoret and Rask psykisk helsehjelp
- Jonas, 15, whose guardians consented; Rask takes only 16 and older
- the nurse in Skolehelsetjenesten sends; the coordinator in Rådgivning rus og psykisk helse routes
- tildeling_staff declines; rask_staff accepts, follows up and completes
- nav_staff (the shared Org) is an outsider to every referral
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from consent.models import Consent, Disclosure, LegalBasis
from org.models import Municipality
from people.models import Person
from referrals.models import CatalogueEntry, Contact, Referral, ReferralEvent
from people.validators import synthetic_national_id
from tests.referral_scenario import NOW, frozen_now, sara, svc  # noqa: F401 (fixtures)
from tests.factories import make_catalogue, make_child, make_consent, make_guardian, make_service
from workflows.models import Deadline, ReferralProcess
from workflows.referral.services import (
    HANDLER, ROUTER, SENDER, contact_register, eligibility_errors, person_identify, referral_accept, referral_cancel,
    referral_close, referral_decline, referral_forward, referral_receive, referral_route, referral_send,
    referral_set_progress,
)

S = Referral.Status


@pytest.fixture
def sara_consent(svc, sara):
    return make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rus, svc.tildeling, svc.rask])


@pytest.fixture
def jonas(org):
    return make_child(org, birth=datetime.date(2011, 3, 10), given="Jonas")


@pytest.fixture
def jonas_consent(svc, jonas):
    return make_consent(user=svc.nurse, service=svc.helse, person=jonas, grantees=[svc.rask, svc.rus, svc.tildeling],
                        given_by_person=False, guardians=[make_guardian(jonas)])


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def reload(referral):
    return Referral.objects.get(pk=referral.pk)


def tasks(referral):
    """``{node name: status}`` of the referral's viewflow tasks."""
    return {t.flow_task.name: t.status for t in Task.objects.filter(process_id=referral.process.pk)}


def events(referral):
    return list(ReferralEvent.objects.filter(referral=referral).values_list("status", "reason"))


def deadline(referral, step):
    return Deadline.objects.get(subject_id=referral.pk, subject_type__model="referral", policy__process="referral", policy__step=step)


def send_direct(svc, person, consent, *, to, kind="mental_health", user=None, **extra):
    return referral_send(user=user or svc.nurse, sender_service=svc.helse, person=person, kind=kind,
                         reason="Trenger hjelp med angst og søvn.", target_service=to, consent=consent, **extra)


def send_to_queue(svc, person, consent, *, kind="substance"):
    return referral_send(user=svc.nurse, sender_service=svc.helse, person=person, kind=kind,
                         reason="Bruker hasj daglig, vil ha hjelp.", routing_service=svc.rus, consent=consent)


@pytest.fixture
def queued(svc, sara, sara_consent):
    return send_to_queue(svc, sara, sara_consent)


@pytest.fixture
def routed(svc, queued):
    return referral_route(referral=queued, user=svc.coordinator, target_service=svc.tildeling)


@pytest.fixture
def received(svc, routed):
    return referral_receive(referral=routed, user=svc.tildeling_staff)


@pytest.fixture
def declined(svc, received):
    return referral_decline(referral=received, user=svc.tildeling_staff, reason="Vi gir ikke tilbud under 18 år.")


@pytest.fixture
def forwarded(svc, declined):
    return referral_forward(referral=declined, user=svc.coordinator, target_service=svc.rask)


@pytest.fixture
def accepted(svc, forwarded):
    referral_receive(referral=forwarded, user=svc.rask_staff)
    return referral_accept(referral=forwarded, user=svc.rask_staff)


def assert_refused_unchanged(call, referral, message=None, field=None):
    """The step raises a ValidationError and the referral, its events and tasks are as before."""
    before = (reload(referral).status, events(referral), tasks(referral), Disclosure.objects.count())
    with pytest.raises(ValidationError) as exc:
        call()
    if field:
        assert list(exc.value.message_dict) == [field]
    if message:
        assert message in exc.value.messages
    assert (reload(referral).status, events(referral), tasks(referral), Disclosure.objects.count()) == before
    return exc.value


def assert_nothing_created():
    assert not Referral.objects.exists()
    assert not Disclosure.objects.exists()
    assert not ReferralProcess.objects.exists()
    assert not Task.objects.exists()


class EligibilityTests:
    def test_it_refuses_a_service_whose_age_range_excludes_the_person_and_names_the_range(self, svc, jonas, jonas_consent):
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, jonas, jonas_consent, to=svc.rask)
        assert exc.value.message_dict == {"target_service": ["Rask psykisk helsehjelp takes 16 years and older; the person is 15."]}
        assert_nothing_created()

    def test_it_refuses_a_person_older_than_the_range(self, org, svc, jonas, jonas_consent):
        ung = make_service(org.municipality, "Ungdomskontakten", "other")
        make_catalogue(ung, accepts=["mental_health"], min_age=12, max_age=14)
        assert eligibility_errors(service=ung, person=jonas, kind="mental_health") == [
            "Ungdomskontakten takes 12–14 years; the person is 15."
        ]

    def test_it_accepts_the_persons_age_at_both_ends_of_the_range(self, org, svc, jonas):
        ung = make_service(org.municipality, "Ungdomskontakten", "other")
        make_catalogue(ung, accepts=["mental_health"], min_age=15, max_age=15)
        assert eligibility_errors(service=ung, person=jonas, kind="mental_health") == []

    def test_it_refuses_a_kind_the_service_does_not_take(self, svc, sara, sara_consent):
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, sara_consent, to=svc.tildeling, kind="mental_health")
        assert exc.value.message_dict == {"target_service": ["Tildelingskontoret does not take referrals of this kind."]}
        assert_nothing_created()

    def test_it_refuses_a_service_closed_for_referrals(self, svc, sara, sara_consent):
        CatalogueEntry.objects.filter(service=svc.rask).update(capacity=CatalogueEntry.Capacity.CLOSED)
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, sara_consent, to=svc.rask)
        assert exc.value.message_dict == {"target_service": ["Rask psykisk helsehjelp is closed for referrals right now."]}
        assert_nothing_created()

    def test_it_accepts_a_service_with_a_waiting_list(self, svc, sara, sara_consent):
        CatalogueEntry.objects.filter(service=svc.rask).update(capacity=CatalogueEntry.Capacity.WAITING_LIST)
        assert send_direct(svc, sara, sara_consent, to=svc.rask).status == S.REQUESTED

    def test_it_refuses_a_person_from_a_municipality_the_service_does_not_serve(self, svc, sara, sara_consent):
        Person.objects.filter(pk=sara.pk).update(municipality=Municipality.objects.create(name="Nabokommune", number="9997"))
        sara.refresh_from_db()
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, sara_consent, to=svc.rask)
        assert exc.value.message_dict == {"target_service": ["Rask psykisk helsehjelp does not serve the person's municipality."]}
        assert_nothing_created()

    def test_it_refuses_a_person_of_unknown_age_for_an_age_limited_service(self, org, svc):
        kim = Person.objects.create(given_name="Kim", municipality=org.municipality)
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, kim, None, to=svc.rask, basis=Disclosure.Basis.STATUTORY,
                        legal_basis=LegalBasis.objects.get(code="helsepersonelloven-45"))
        assert exc.value.message_dict == {
            "target_service": ["The person's age is unknown; Rask psykisk helsehjelp takes 16 years and older."]
        }
        assert_nothing_created()

    def test_it_refuses_a_service_not_in_the_catalogue(self, org, svc, sara, sara_consent):
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, sara_consent, to=org.barnevern)
        assert exc.value.message_dict == {
            "target_service": ["Barneverntjenesten is not in the service catalogue and does not take referrals here."]
        }
        assert_nothing_created()

    def test_it_lists_every_problem_at_once(self, svc, jonas):
        CatalogueEntry.objects.filter(service=svc.rask).update(capacity=CatalogueEntry.Capacity.CLOSED)
        assert eligibility_errors(service=svc.rask, person=jonas, kind="housing") == [
            "Rask psykisk helsehjelp does not take referrals of this kind.",
            "Rask psykisk helsehjelp takes 16 years and older; the person is 15.",
            "Rask psykisk helsehjelp is closed for referrals right now.",
        ]

    def test_it_checks_eligibility_when_the_coordinator_routes(self, svc, jonas, jonas_consent):
        queued = send_to_queue(svc, jonas, jonas_consent, kind="mental_health")
        assert_refused_unchanged(
            lambda: referral_route(referral=queued, user=svc.coordinator, target_service=svc.rask), queued,
            message="Rask psykisk helsehjelp takes 16 years and older; the person is 15.", field="target_service",
        )
        assert reload(queued).target_service is None
        assert tasks(queued)["route"] == STATUS.NEW
        assert not fresh(svc.rask_staff).has_perm(HANDLER, queued)


class ReferralSendTests:
    def test_it_puts_the_referral_in_the_coordinators_routing_queue(self, svc, queued):
        assert (queued.status, queued.target_service, queued.routing_service, queued.sent_at) == (S.REQUESTED, None, svc.rus, NOW)
        assert tasks(queued) == {"start": STATUS.DONE, "route_by_target": STATUS.DONE, "route": STATUS.NEW}
        assert events(queued) == [(S.REQUESTED, "")]

    def test_it_lets_the_coordinator_route_and_the_sender_follow(self, svc, queued):
        assert fresh(svc.coordinator).has_perm(ROUTER, queued)
        assert fresh(svc.nurse).has_perm(SENDER, queued)
        assert not fresh(svc.nurse).has_perm(HANDLER, queued)
        assert not fresh(svc.tildeling_staff).has_perm(HANDLER, queued)

    def test_it_records_the_legal_basis_of_the_disclosure_to_the_coordinator(self, svc, queued, sara_consent):
        disclosure = Disclosure.objects.get()
        assert (disclosure.to_service, disclosure.basis, disclosure.consent, disclosure.permission) == (
            svc.rus, Disclosure.Basis.CONSENT, sara_consent, ROUTER,
        )

    def test_it_opens_the_routing_deadline_of_three_working_days(self, svc, queued):
        assert deadline(queued, "routing").due_at == datetime.datetime(2026, 9, 4, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
        assert reload(queued).next_deadline_at == deadline(queued, "routing").due_at

    def test_it_sends_straight_to_a_catalogue_service(self, svc, sara, sara_consent):
        referral = send_direct(svc, sara, sara_consent, to=svc.rask)
        assert tasks(referral) == {"start": STATUS.DONE, "route_by_target": STATUS.DONE, "receive": STATUS.NEW}
        assert fresh(svc.rask_staff).has_perm(HANDLER, referral)
        assert not fresh(svc.coordinator).has_perm(ROUTER, referral)

    def test_it_refuses_a_sender_who_is_not_a_member_and_creates_nothing(self, svc, sara, sara_consent):
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, sara_consent, to=svc.rask, user=svc.rask_staff)
        assert exc.value.messages == ["You are not a member of the sending service."]
        assert_nothing_created()

    def test_it_refuses_a_referral_without_a_reason(self, svc, sara, sara_consent):
        with pytest.raises(ValidationError) as exc:
            referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="  ",
                          routing_service=svc.rus, consent=sara_consent)
        assert list(exc.value.message_dict) == ["reason"]
        assert_nothing_created()

    def test_it_refuses_both_a_service_and_a_coordinator(self, svc, sara, sara_consent):
        with pytest.raises(ValidationError):
            send_direct(svc, sara, sara_consent, to=svc.rask, routing_service=svc.rus)
        assert_nothing_created()

    def test_it_refuses_a_routing_queue_of_a_service_that_does_not_route(self, svc, sara, sara_consent):
        with pytest.raises(ValidationError) as exc:
            referral_send(user=svc.nurse, sender_service=svc.helse, person=sara, kind="substance", reason="Rus.",
                          routing_service=svc.tildeling, consent=sara_consent)
        assert list(exc.value.message_dict) == ["routing_service"]
        assert_nothing_created()

    def test_it_refuses_to_share_without_a_legal_basis_and_creates_nothing(self, svc, sara):
        with pytest.raises(ValidationError) as exc:
            send_direct(svc, sara, None, to=svc.rask)
        assert exc.value.messages == ["There is no consent from this person for sharing with Rask psykisk helsehjelp."]
        assert_nothing_created()


class ReferralRouteTests:
    def test_it_routes_to_a_catalogue_service(self, svc, routed):
        routed = reload(routed)
        assert (routed.status, routed.target_service) == (S.REQUESTED, svc.tildeling)
        assert events(routed)[-1] == (S.REQUESTED, "Routed to Tildelingskontoret")
        assert tasks(routed) == {"start": STATUS.DONE, "route_by_target": STATUS.DONE, "route": STATUS.DONE, "receive": STATUS.NEW}

    def test_it_shares_with_the_receiving_service_on_the_consent(self, svc, routed, sara_consent):
        assert fresh(svc.tildeling_staff).has_perm(HANDLER, routed)
        assert Disclosure.objects.get(to_service=svc.tildeling).consent == sara_consent

    def test_it_meets_the_routing_deadline_and_opens_the_answer_deadline(self, svc, routed):
        assert deadline(routed, "routing").met_at == NOW
        assert deadline(routed, "answer").due_at == datetime.datetime(2026, 9, 8, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))

    def test_it_refuses_routing_by_someone_outside_the_coordinating_service(self, svc, queued):
        assert_refused_unchanged(
            lambda: referral_route(referral=queued, user=svc.nurse, target_service=svc.tildeling), queued,
            message="Only the coordinating service can route this referral.",
        )
        assert reload(queued).target_service is None

    def test_it_refuses_to_route_twice(self, svc, routed):
        assert_refused_unchanged(
            lambda: referral_route(referral=routed, user=svc.coordinator, target_service=svc.rask), routed,
            message="This referral has already been routed.",
        )
        assert not fresh(svc.rask_staff).has_perm(HANDLER, routed)


class ReferralReceiveTests:
    def test_it_marks_the_referral_received(self, svc, received):
        assert reload(received).status == S.RECEIVED
        assert events(received)[-1] == (S.RECEIVED, "")
        assert tasks(received)["receive"] == STATUS.DONE
        assert tasks(received)["decide"] == STATUS.NEW

    def test_it_refuses_a_member_of_another_service(self, svc, routed):
        assert_refused_unchanged(lambda: referral_receive(referral=routed, user=svc.rask_staff), routed,
                                 message="Only the receiving service can do this.")

    def test_it_refuses_an_outsider(self, org, routed):
        assert_refused_unchanged(lambda: referral_receive(referral=routed, user=org.nav_staff), routed)

    def test_it_refuses_to_accept_before_receiving(self, svc, routed):
        assert_refused_unchanged(
            lambda: referral_accept(referral=routed, user=svc.tildeling_staff), routed,
            message="This step cannot be done now: the referral is “Sent”. Reload the page to see its current state.",
        )

    def test_it_refuses_to_receive_twice(self, svc, received):
        assert_refused_unchanged(lambda: referral_receive(referral=received, user=svc.tildeling_staff), received)


class ReferralDeclineTests:
    def test_it_requires_a_reason(self, svc, received):
        assert_refused_unchanged(lambda: referral_decline(referral=received, user=svc.tildeling_staff, reason=" "), received,
                                 field="reason")
        assert tasks(received)["decide"] == STATUS.NEW

    def test_it_declines_with_the_reason_and_closes(self, svc, declined):
        declined = reload(declined)
        assert (declined.status, declined.status_reason, declined.closed_at) == (S.REJECTED, "Vi gir ikke tilbud under 18 år.", NOW)
        assert events(declined)[-1] == (S.REJECTED, "Vi gir ikke tilbud under 18 år.")

    def test_it_ends_the_process_and_meets_the_answer_deadline(self, svc, declined):
        assert tasks(declined)["decide"] == STATUS.DONE
        assert tasks(declined)["end"] == STATUS.DONE
        assert ReferralProcess.objects.get(referral=declined).status == PROCESS.DONE
        assert deadline(declined, "answer").met_at == NOW

    def test_it_tells_the_sender_and_the_coordinator(self, svc, declined):
        from notifications.models import Reminder

        from notifications.services import system_text

        # Notification texts are in the site's language (bokmål), whatever language the test runs in.
        to_sender = system_text("%(ref)s: the referral is now “%(status)s”", ref=declined.reference, status=S.REJECTED.label)
        to_router = system_text("%(ref)s was declined and may be forwarded", ref=declined.reference)
        assert "Declined" not in to_sender and "may be forwarded" not in to_router, "catalogue not compiled"
        assert Reminder.objects.filter(subject_id=declined.pk, service=svc.helse, message=to_sender).exists()
        assert Reminder.objects.filter(subject_id=declined.pk, service=svc.rus, message=to_router).exists()


class ReferralForwardTests:
    def test_it_keeps_the_chain(self, svc, declined, forwarded):
        assert forwarded.pk != declined.pk
        assert (forwarded.forwarded_from, reload(declined).forwarded_to) == (declined, forwarded)
        assert (forwarded.sender_service, forwarded.routing_service, forwarded.target_service, forwarded.status) == (
            svc.helse, svc.rus, svc.rask, S.REQUESTED,
        )
        assert events(declined)[-1] == (S.REJECTED, "Forwarded to Rask psykisk helsehjelp")
        assert events(forwarded) == [(S.REQUESTED, f"Forwarded from {declined.reference}")]

    def test_it_lets_the_sender_follow_the_new_referral(self, svc, forwarded):
        assert fresh(svc.nurse).has_perm(SENDER, forwarded)
        assert fresh(svc.coordinator).has_perm(ROUTER, forwarded)
        assert fresh(svc.rask_staff).has_perm(HANDLER, forwarded)

    def test_it_does_not_share_the_new_referral_with_the_service_that_declined(self, svc, forwarded):
        assert not fresh(svc.tildeling_staff).has_perm(HANDLER, forwarded)

    def test_it_starts_a_new_process_waiting_for_the_new_service(self, svc, forwarded):
        assert tasks(forwarded) == {"start": STATUS.DONE, "route_by_target": STATUS.DONE, "receive": STATUS.NEW}

    def test_it_refuses_to_forward_an_open_referral(self, svc, received):
        assert_refused_unchanged(lambda: referral_forward(referral=received, user=svc.coordinator, target_service=svc.rask), received)
        assert not Referral.objects.filter(forwarded_from=received).exists()

    def test_it_refuses_to_forward_twice(self, svc, declined, forwarded):
        with pytest.raises(ValidationError) as exc:
            referral_forward(referral=declined, user=svc.coordinator, target_service=svc.rask)
        assert exc.value.messages == ["This referral has already been forwarded."]
        assert Referral.objects.count() == 2

    def test_it_refuses_to_forward_to_the_service_that_declined(self, svc, declined):
        with pytest.raises(ValidationError):
            referral_forward(referral=declined, user=svc.coordinator, target_service=svc.tildeling)
        assert Referral.objects.count() == 1

    def test_it_refuses_someone_who_is_neither_coordinator_nor_sender(self, svc, declined):
        with pytest.raises(ValidationError) as exc:
            referral_forward(referral=declined, user=svc.rask_staff, target_service=svc.rask)
        assert exc.value.messages == ["Only the coordinator or the sender can forward this referral."]
        assert Referral.objects.count() == 1

    def test_it_lets_the_sender_forward_a_direct_referral(self, svc, sara, sara_consent):
        first = send_direct(svc, sara, sara_consent, to=svc.tildeling, kind="substance")
        referral_receive(referral=first, user=svc.tildeling_staff)
        referral_decline(referral=first, user=svc.tildeling_staff, reason="Ikke vår målgruppe.")
        new = referral_forward(referral=first, user=svc.nurse, target_service=svc.rask)
        assert (new.forwarded_from, new.sender_service, new.routing_service, new.target_service) == (first, svc.helse, None, svc.rask)
        assert fresh(svc.nurse).has_perm(SENDER, new)


class ReferralFollowUpTests:
    def test_it_accepts_and_waits_for_the_follow_up(self, svc, accepted):
        assert reload(accepted).status == S.ACCEPTED
        assert tasks(accepted)["decide"] == STATUS.DONE
        assert tasks(accepted)["close"] == STATUS.NEW
        assert deadline(accepted, "answer").met_at == NOW
        assert reload(accepted).next_deadline_at is None

    def test_it_marks_the_referral_in_progress(self, svc, accepted):
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.IN_PROGRESS)
        assert reload(accepted).status == S.IN_PROGRESS

    def test_it_requires_a_reason_to_put_it_on_hold(self, svc, accepted):
        assert_refused_unchanged(
            lambda: referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.ON_HOLD, reason=""), accepted,
            field="reason",
        )

    def test_it_puts_it_on_hold_with_the_reason_and_resumes(self, svc, accepted):
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.ON_HOLD, reason="Venter på fastlegen.")
        assert (reload(accepted).status, reload(accepted).status_reason) == (S.ON_HOLD, "Venter på fastlegen.")
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.IN_PROGRESS)
        assert reload(accepted).status == S.IN_PROGRESS

    def test_it_refuses_in_progress_before_it_is_accepted(self, svc, received):
        assert_refused_unchanged(
            lambda: referral_set_progress(referral=received, user=svc.tildeling_staff, status=S.IN_PROGRESS), received,
        )

    def test_it_requires_an_outcome_to_complete(self, svc, accepted):
        assert_refused_unchanged(lambda: referral_close(referral=accepted, user=svc.rask_staff, completed=True, outcome=""), accepted,
                                 field="outcome")

    def test_it_completes_with_the_outcome_and_ends_the_process(self, svc, accepted):
        referral_close(referral=accepted, user=svc.rask_staff, completed=True, outcome="Fem samtaler, god effekt.")
        referral = reload(accepted)
        assert (referral.status, referral.outcome, referral.closed_at) == (S.COMPLETED, "Fem samtaler, god effekt.", NOW)
        assert tasks(referral)["close"] == STATUS.DONE
        assert ReferralProcess.objects.get(referral=referral).status == PROCESS.DONE

    def test_it_records_a_failure_with_its_reason(self, svc, accepted):
        referral_close(referral=accepted, user=svc.rask_staff, completed=False, outcome="Møtte ikke opp.")
        referral = reload(accepted)
        assert (referral.status, referral.status_reason, referral.outcome) == (S.FAILED, "Møtte ikke opp.", "Møtte ikke opp.")

    def test_it_refuses_to_complete_before_it_is_accepted(self, svc, forwarded):
        referral_receive(referral=forwarded, user=svc.rask_staff)
        assert_refused_unchanged(lambda: referral_close(referral=forwarded, user=svc.rask_staff, completed=True, outcome="Ok."), forwarded)

    def test_it_refuses_the_follow_up_by_the_sender(self, svc, accepted):
        assert_refused_unchanged(lambda: referral_set_progress(referral=accepted, user=svc.nurse, status=S.IN_PROGRESS), accepted,
                                 message="Only the receiving service can do this.")

    def test_it_records_every_status_of_the_whole_loop(self, svc, declined, accepted):
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.IN_PROGRESS)
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.ON_HOLD, reason="Venter på fastlegen.")
        referral_set_progress(referral=accepted, user=svc.rask_staff, status=S.IN_PROGRESS)
        referral_close(referral=accepted, user=svc.rask_staff, completed=True, outcome="Fem samtaler.")
        assert [s for s, _ in events(declined)] == [S.REQUESTED, S.REQUESTED, S.RECEIVED, S.REJECTED, S.REJECTED]
        assert [s for s, _ in events(accepted)] == [
            S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD, S.IN_PROGRESS, S.COMPLETED,
        ]


class ReferralCancelTests:
    def test_it_lets_the_sender_cancel_an_open_referral(self, svc, routed):
        referral_cancel(referral=routed, user=svc.nurse, reason="Sara har fått hjelp et annet sted.")
        referral = reload(routed)
        assert (referral.status, referral.status_reason, referral.closed_at) == (S.CANCELLED, "Sara har fått hjelp et annet sted.", NOW)
        assert events(referral)[-1] == (S.CANCELLED, "Sara har fått hjelp et annet sted.")

    def test_it_cancels_the_open_viewflow_tasks_and_the_process(self, svc, routed):
        referral_cancel(referral=routed, user=svc.nurse)
        assert tasks(routed)["receive"] == STATUS.CANCELED
        assert tasks(routed)["route"] == STATUS.DONE
        assert ReferralProcess.objects.get(referral=routed).status == PROCESS.CANCELED

    def test_it_cancels_the_deadlines(self, svc, routed):
        referral_cancel(referral=routed, user=svc.nurse)
        assert deadline(routed, "answer").cancelled_at == NOW
        assert reload(routed).next_deadline_at is None

    def test_it_refuses_to_cancel_a_closed_referral(self, svc, accepted):
        referral_close(referral=accepted, user=svc.rask_staff, completed=True, outcome="Fem samtaler.")
        assert_refused_unchanged(
            lambda: referral_cancel(referral=accepted, user=svc.nurse), accepted,
            message="This step cannot be done now: the referral is “Completed”. Reload the page to see its current state.",
        )

    def test_it_refuses_cancellation_by_the_receiving_service(self, svc, routed):
        assert_refused_unchanged(lambda: referral_cancel(referral=routed, user=svc.tildeling_staff), routed,
                                 message="Only the sending service can cancel the referral.")


class PersonIdentifyTests:
    @pytest.fixture
    def contact(self, svc):
        return contact_register(user=svc.coordinator, service=svc.rus, given_name="Kim", approx_age=17, summary="Ringte om hasj.")

    def test_it_registers_a_minimal_person_with_a_first_name_and_an_age(self, svc, contact):
        person = contact.person
        assert (person.given_name, person.approx_age, person.national_id, person.birth_date) == ("Kim", 17, None, None)
        assert fresh(svc.coordinator).has_perm("referrals.handle_contact", contact)

    def test_it_upgrades_the_minimal_person_to_an_identified_one(self, svc, contact):
        number = synthetic_national_id(datetime.date(2009, 5, 4), start=600)
        person = person_identify(user=svc.coordinator, contact=contact, national_id=number, family_name="Berg")
        assert person.pk == contact.person_id
        person.refresh_from_db()
        assert (person.national_id, person.id_kind, person.birth_date, person.approx_age, person.family_name) == (
            number, Person.IdKind.FNR, datetime.date(2009, 5, 4), None, "Berg",
        )

    def test_it_merges_into_the_registered_person_with_the_same_number(self, svc, sara, contact):
        minimal = contact.person
        consent = make_consent(user=svc.nurse, service=svc.helse, person=minimal, grantees=[svc.rask])
        referral = send_direct(svc, minimal, consent, to=svc.rask)
        person = person_identify(user=svc.coordinator, contact=contact, national_id=sara.national_id)
        assert person == sara
        minimal.refresh_from_db()
        assert minimal.merged_into == sara
        assert Contact.objects.get(pk=contact.pk).person == sara
        assert reload(referral).person == sara
        assert Consent.objects.get(pk=consent.pk).person == sara
        assert not Consent.objects.filter(person=minimal).exists() and not Referral.objects.filter(person=minimal).exists()

    def test_it_refuses_an_invalid_national_identity_number(self, svc, contact):
        with pytest.raises(ValidationError) as exc:
            person_identify(user=svc.coordinator, contact=contact, national_id="01010112345")
        assert exc.value.messages == ["The national identity number is not valid. Check that all 11 digits are correct."]
        person = Person.objects.get(pk=contact.person_id)
        assert (person.national_id, person.approx_age, person.merged_into) == (None, 17, None)

    def test_it_refuses_to_identify_twice(self, svc, contact):
        person_identify(user=svc.coordinator, contact=contact, national_id=synthetic_national_id(datetime.date(2009, 5, 4), start=600))
        with pytest.raises(ValidationError) as exc:
            person_identify(user=svc.coordinator, contact=Contact.objects.get(pk=contact.pk),
                            national_id=synthetic_national_id(datetime.date(2009, 5, 4), start=700))
        assert exc.value.messages == ["This person is already identified."]

    def test_it_refuses_a_user_outside_the_registering_service(self, svc, contact):
        with pytest.raises(ValidationError):
            person_identify(user=svc.rask_staff, contact=contact, national_id=synthetic_national_id(datetime.date(2009, 5, 4), start=600))
        assert Person.objects.get(pk=contact.person_id).national_id is None
