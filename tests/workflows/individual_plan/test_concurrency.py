"""Exactly one holder of a plan's main responsibility under concurrency, on real PostgreSQL (issue 9).

Deterministic, not timing luck: the test holds the plan's row lock, starts the racing calls in
threads (each with its own connection), waits until PostgreSQL shows each of them waiting on a lock,
in the order started, and only then releases. Each thread runs the real service in its own
transaction.

Personas and dates: see scenario.py.
"""
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from referrals.models import IndividualPlan, PlanHandOver, PlanHolder
from tests.workflows.individual_plan.scenario import plan_with_participants
from tests.locks import backends_waiting_on_a_lock
from workflows.individual_plan import services as svc

# Serialized rollback, as the other real-PostgreSQL tests (tests/accounts/test_submission_race.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 30


def _wait_until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def race(plan, *calls):
    """Run ``calls`` (each a callable) in threads queued, in this order, behind the plan's row lock
    held here; release; return each call's outcome in that order: its result or its exception."""
    outcomes: list = [None] * len(calls)
    threads = []

    def runner(i, call):
        def run():
            try:
                outcomes[i] = call()
            except Exception as e:  # noqa: BLE001 - the outcome the test asserts
                outcomes[i] = e
            finally:
                connections.close_all()
        return run

    try:
        with transaction.atomic():
            IndividualPlan.objects.select_for_update().get(pk=plan.pk)
            for i, call in enumerate(calls):
                thread = threading.Thread(target=runner(i, call))
                thread.start()
                threads.append(thread)
                _wait_until(lambda: backends_waiting_on_a_lock() >= i + 1 or outcomes[i] is not None, f"call {i} to wait on the plan's lock")
                assert outcomes[i] is None, outcomes[i]
    finally:
        for thread in threads:
            thread.join(WAIT)
    return outcomes


def current_holders(plan):
    return list(PlanHolder.objects.filter(plan=plan, ended_at__isnull=True).values_list("service", flat=True))


class ConcurrentHandOverTests:
    def test_it_keeps_one_holder_when_two_accepts_race(self, org, ip, postgresql_only):
        plan = plan_with_participants(org, ip)
        to_nav = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        to_home = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)

        first, second = race(plan, lambda: svc.handover_accept(user=ip.nav_staff, handover=to_nav),
                             lambda: svc.handover_accept(user=ip.home_staff, handover=to_home))

        assert isinstance(first, PlanHolder) and first.service == ip.nav
        assert isinstance(second, ValidationError) and second.code == "out_of_order"
        assert current_holders(plan) == [ip.nav.pk]
        assert PlanHolder.objects.filter(plan=plan).count() == 2
        assert dict(PlanHandOver.objects.values_list("to_service", "status")) == {ip.nav.pk: "accepted", ip.home.pk: "superseded"}
        assert IndividualPlan.objects.get(pk=plan.pk).versions.filter(change="holder_changed").count() == 1

    def test_it_keeps_one_holder_when_one_proposal_is_accepted_twice_at_once(self, org, ip, postgresql_only):
        from tests.factories import member

        plan = plan_with_participants(org, ip)
        to_nav = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        colleague = member(ip.nav)

        first, second = race(plan, lambda: svc.handover_accept(user=ip.nav_staff, handover=to_nav),
                             lambda: svc.handover_accept(user=colleague, handover=to_nav))

        assert isinstance(first, PlanHolder)
        assert isinstance(second, ValidationError) and second.code == "out_of_order"
        assert current_holders(plan) == [ip.nav.pk]
        assert PlanHolder.objects.filter(plan=plan).count() == 2

    @pytest.mark.parametrize("accept_first", [True, False])
    def test_it_keeps_one_holder_when_a_hand_over_is_accepted_while_another_is_proposed(self, org, ip, postgresql_only, accept_first):
        plan = plan_with_participants(org, ip)
        to_nav = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)
        accept = lambda: svc.handover_accept(user=ip.nav_staff, handover=to_nav)  # noqa: E731
        propose = lambda: svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.home)  # noqa: E731

        outcomes = race(plan, accept, propose) if accept_first else race(plan, propose, accept)
        accepted, proposed = outcomes if accept_first else outcomes[::-1]

        assert isinstance(accepted, PlanHolder) and accepted.service == ip.nav
        if accept_first:
            # The proposer no longer holds the plan when its turn comes.
            assert isinstance(proposed, ValidationError) and proposed.code == "not_member"
            assert not PlanHandOver.objects.filter(to_service=ip.home).exists()
        else:
            # Proposed first, then superseded by the accepted hand-over.
            assert isinstance(proposed, PlanHandOver)
            assert PlanHandOver.objects.get(pk=proposed.pk).status == "superseded"
        assert current_holders(plan) == [ip.nav.pk]
        assert not PlanHandOver.objects.filter(plan=plan, status="proposed").exists()
