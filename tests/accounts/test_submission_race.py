"""Two sends of one concern form at the same moment, on real PostgreSQL (issue 12, point 3): exactly one
concern, one person, one disclosure, and both answers lead to it; no 500.

Deterministic, not timing luck: the test holds the audit chain's advisory lock (audit.chain), which
the first send needs after it has written its token row; only when the second send is seen waiting
on that row's key (pg_stat_activity) is the lock released. Each thread posts through the real view
with the token the form page rendered.

Personas: ``reporter`` (Solsiden barnehage) double-clicks "Send".
"""
import datetime
import importlib
import re
import threading
import time

import pytest
from django.apps import apps as django_apps
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from audit.chain import CHAIN_LOCK_KEY
from consent.models import Disclosure
from people.models import Person
from people.services import person_get_or_create
from people.validators import synthetic_national_id
from referrals.models import Concern
from tests.factories import make_child, make_org
from tests.referral_factories import make_contact, make_referral_org
from tests.workflows.concern.test_bad_input import melding_post
from workflows.referral.services import person_identify

# Serialized rollback, as the other real-PostgreSQL tests (tests/notifications/test_reliability.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 30


def _waiting(kind: str) -> bool:
    """Another backend of this database waits on a lock: ``advisory`` (the audit chain's head) or
    ``transactionid`` (another transaction's uncommitted row under a unique key)."""
    with connection.cursor() as cursor:
        # The test asks from inside its own transaction, where the activity view is a snapshot
        # taken once: drop it, so each call sees the backends as they are now.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND wait_event = %s", [kind],
        )
        return cursor.fetchone()[0] > 0


def wait_until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid, state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity WHERE datname = current_database()")
                rows = cursor.fetchall()
            pytest.fail(f"timed out waiting for {what}: {rows}")
        time.sleep(0.05)


@pytest.fixture
def committed_org(transactional_db, postgresql_only):
    policies = importlib.import_module("workflows.migrations.0002_default_policies")
    policies.forwards(django_apps, None)
    return make_org()


def _in_thread(fn, results, errors):
    def run():
        try:
            results.append(fn())
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _race(first, second):
    """Run ``first`` until it waits on the audit chain's lock (held here), then ``second`` until it
    waits on first's transaction; release. Returns both results in order of completion."""
    results, errors, threads = [], [], []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            threads.append(_in_thread(first, results, errors))
            wait_until(lambda: _waiting("advisory") or errors or results, "the first send to wait on the audit chain")
            assert not (errors or results), (errors, results)
            threads.append(_in_thread(second, results, errors))
            wait_until(lambda: _waiting("transactionid"), "the second send to wait on the first's row")
    finally:
        # Also after a failure: no thread may still hold a connection when the database is flushed.
        for thread in threads:
            thread.join(WAIT)
    assert not errors, errors
    return results


class ConcurrentDoubleSendTests:
    @pytest.mark.parametrize("child", ["new", "known"])
    def test_it_makes_one_concern_one_person_and_one_disclosure(self, committed_org, child):
        org = committed_org
        data = melding_post(org)
        if child == "known":
            known = make_child(org)
            data["national_id"] = known.national_id
        clients = [Client(), Client()]
        for client in clients:
            client.force_login(org.reporter)
        page = clients[0].get(reverse("concerns:create")).content.decode()
        (token,) = re.findall(r'name="submission" value="([^"]+)"', page)
        data["submission"] = token
        people_before = Person.objects.count()

        def send(client):
            return lambda: client.post(reverse("concerns:create"), data)

        responses = _race(send(clients[0]), send(clients[1]))

        concern = Concern.objects.get()
        assert [r.status_code for r in responses] == [302, 302]
        assert {r["Location"] for r in responses} == {reverse("concerns:detail", args=[concern.code])}
        assert Person.objects.count() == people_before + (1 if child == "new" else 0)
        assert Disclosure.objects.filter(subject_id=concern.pk, to_service=org.barnevern).count() == 1
        assert concern.status == Concern.Status.SUBMITTED


class ConcurrentRegistrationTests:
    def test_it_gives_both_registrations_of_one_new_number_the_same_person(self, committed_org):
        """Two forms opened separately (two tokens) for the same new child: two concerns are right,
        but one person, and the second registration waits for the first instead of failing."""
        org = committed_org
        number = melding_post(org)["national_id"]

        def register(service):
            def run():
                with transaction.atomic():
                    return person_get_or_create(
                        user=org.reporter, given_name="Emma", national_id=number, municipality=org.municipality, service=service,
                    ).pk
            return run

        first, second = _race(register(org.barnehage), register(org.other_barnehage))
        assert first == second == Person.objects.get(national_id=number).pk

    def test_it_merges_a_contact_identified_with_a_number_registered_at_the_same_moment(self, committed_org):
        """The contact's person takes the number while another service registers it: the contact
        becomes that person's (merged), not a duplicate-key error."""
        ro = make_referral_org()
        contact = make_contact(ro)
        number = synthetic_national_id(datetime.date(1985, 4, 2))

        def register():
            with transaction.atomic():
                return person_get_or_create(
                    user=ro.sender, given_name="Kari", national_id=number, municipality=ro.rus.municipality, service=ro.rus,
                ).pk

        def identify():
            return person_identify(user=ro.sender, contact=contact, national_id=number, family_name="Hansen").pk

        first, second = _race(register, identify)
        registered = Person.objects.get(national_id=number)
        assert first == second == registered.pk
        contact.refresh_from_db()
        assert contact.person == registered
        assert Person.objects.get(pk=contact.person_id).merged_into is None
        assert Person.objects.filter(merged_into=registered).count() == 1
