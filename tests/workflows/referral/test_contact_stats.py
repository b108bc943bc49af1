"""The contact statistics are counted as contacts and referrals are written (referrals.contact_stats,
issue #14): the counters must always say what the contacts and referrals themselves say
(``counted_from_rows``, the old per-request aggregate), through every way a referral is written, in
the municipality's year, and with two referrals of one contact written at once.

Personas: see tests/referral_factories.py.
"""
import datetime
import threading
import time

import pytest
import time_machine
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from referrals import contact_stats
from referrals.models import Contact, ContactStat, Referral
from tests.referral_factories import make_consent, make_contact, make_referral, make_referral_org
from tests.locks import backends_waiting_on_a_lock
from workflows.referral import selectors
from workflows.referral import services as svc

OSLO = datetime.timezone(datetime.timedelta(hours=1))  # winter time


def _counters() -> dict:
    return {(r.service_id, r.year, r.measure, r.destination_id): r.count for r in ContactStat.objects.all() if r.count}


def _truth() -> dict:
    return contact_stats.counted_from_rows(Contact, Referral)


@pytest.mark.django_db
class CountersTests:
    @pytest.fixture
    def ro(self, db):
        return make_referral_org()

    def test_they_follow_every_way_a_referral_is_written(self, ro):
        assert _counters() == {}
        make_contact(ro, given="Uten")  # never referred on
        twice = make_contact(ro, given="To")
        consent = make_consent(ro, twice.person)
        make_referral(ro, contact=twice, consent=consent)
        make_referral(ro, contact=twice, consent=consent)  # the same destination again: one contact there
        declined = make_referral(ro, contact=twice, consent=consent, to=ro.rask)
        svc.referral_receive(referral=declined, user=ro.rask_staff)
        svc.referral_decline(referral=declined, user=ro.rask_staff, reason="Ikke vår målgruppe.")
        svc.referral_forward(referral=declined, user=ro.sender, target_service=ro.tildeling, consent=consent)
        queued = make_contact(ro, given="Kø")
        q_consent = make_consent(ro, queued.person)
        first = make_referral(ro, contact=queued, consent=q_consent, via_coordinator=True)
        make_referral(ro, contact=queued, consent=q_consent, via_coordinator=True)
        svc.referral_route(referral=first, user=ro.coordinator, target_service=ro.tildeling, consent=q_consent)
        make_referral(ro)  # a contact of its own

        year = timezone.localdate().year
        key = (ro.radgivning.pk, year)
        assert _counters() == _truth()
        assert _counters()[(*key, ContactStat.Measure.REGISTERED, None)] == 4
        assert _counters()[(*key, ContactStat.Measure.REFERRED, None)] == 3  # not "Uten"
        assert _counters()[(*key, ContactStat.Measure.DESTINATION, ro.tildeling.pk)] == 3
        assert _counters()[(*key, ContactStat.Measure.DESTINATION, ro.rask.pk)] == 1
        # "Kø" still has one referral in the queue after the other was routed.
        assert _counters()[(*key, ContactStat.Measure.DESTINATION, None)] == 1

    def test_routing_the_last_queued_referral_empties_the_queue(self, ro):
        contact = make_contact(ro)
        queued = make_referral(ro, contact=contact, via_coordinator=True)
        key = (ro.radgivning.pk, timezone.localdate().year, ContactStat.Measure.DESTINATION)
        assert _counters()[(*key, None)] == 1
        svc.referral_route(referral=queued, user=ro.coordinator, target_service=ro.tildeling)
        assert (*key, None) not in _counters() and _counters()[(*key, ro.tildeling.pk)] == 1
        assert _counters() == _truth()
        rows = selectors.stats_contacts_referred(ro.sender)
        assert [(r["contacts"], r["referred"], [d["service"] for d in r["destinations"]]) for r in rows] == [(1, 1, ["Tildelingskontoret"])]

    def test_a_failed_sending_counts_nothing(self, ro):
        from django.core.exceptions import ValidationError

        contact = make_contact(ro)
        before = _counters()
        with pytest.raises(ValidationError):
            # No consent and no other legal basis: refused after the referral was counted, all rolled back.
            svc.referral_send(user=ro.sender, sender_service=ro.radgivning, person=contact.person, kind="substance",
                              reason="Trenger hjelp.", target_service=ro.tildeling, contact=contact)
        assert _counters() == before == _truth()

    def test_a_contact_counts_in_the_municipalitys_year_not_utcs(self, ro):
        # 00:30 on New Year's Day in Oslo is still 23:30 on New Year's Eve in UTC.
        with time_machine.travel(datetime.datetime(2026, 1, 1, 0, 30, tzinfo=OSLO), tick=False):
            make_referral(ro)
        assert {year for (_s, year, _m, _d) in _counters()} == {2026}
        assert _counters() == _truth()
        rows = selectors.stats_contacts_referred(ro.sender, year=2026)
        assert [(r["year"], r["contacts"], r["referred"]) for r in rows] == [(2026, 1, 1)]
        assert selectors.stats_contacts_referred(ro.sender, year=2025) == []

    def test_the_migration_counts_what_was_written_before_it(self, ro):
        for i in range(3):
            make_referral(ro, contact=make_contact(ro, given=f"P{i}"), via_coordinator=bool(i % 2))
        make_contact(ro, given="Uten")
        written = _counters()
        ContactStat.objects.all().delete()
        assert contact_stats.rebuild(Contact, Referral, ContactStat) == len(written)
        assert _counters() == written

    def test_the_command_counts_again_what_was_written_around_the_services(self, ro):
        from io import StringIO

        from django.core.management import call_command

        make_referral(ro)
        make_contact(ro, given="Uten")
        ContactStat.objects.filter(measure=ContactStat.Measure.REGISTERED).update(count=99)  # a wrong counter
        ContactStat.objects.filter(measure=ContactStat.Measure.REFERRED).delete()  # a lost one
        out = StringIO()
        call_command("contact_stats_rebuild", stdout=out)
        assert _counters() == _truth() and _counters()[(ro.radgivning.pk, timezone.localdate().year, ContactStat.Measure.REGISTERED, None)] == 2
        assert out.getvalue().startswith("OK: 3 counter rows")

    def test_the_page_shows_only_the_users_services(self, client, ro):
        make_referral(ro)
        # The coordinator's service (Psykisk helse og rus) registered no contact.
        assert selectors.stats_contacts_referred(ro.coordinator) == []
        client.force_login(ro.sender)
        html = client.get(reverse("referrals:stats")).content.decode()
        assert "Rådgivning rus og psykisk helse" in html


# Real PostgreSQL transactions in threads, as tests/workflows/individual_plan/test_concurrency.py.
WAIT = 30


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_referrals_of_one_contact_sent_at_once_count_it_once(postgresql_only):
    ro = make_referral_org()
    contact = make_contact(ro)
    consent = make_consent(ro, contact.person)
    outcomes = [None, None]

    def send(i, **where):
        def run():
            try:
                outcomes[i] = make_referral(ro, contact=contact, consent=consent, **where)
            except Exception as e:  # noqa: BLE001 - the outcome the test asserts
                outcomes[i] = e
            finally:
                connections.close_all()
        return run

    threads = []
    try:
        with transaction.atomic():
            # Hold the contact as a counting sender would: both senders insert their referral
            # (their foreign key's KEY SHARE does not wait on this) and wait to count it.
            Contact.objects.select_for_update(no_key=True).get(pk=contact.pk)
            for i, where in enumerate([{}, {"to": ro.rask}]):
                threads.append(threading.Thread(target=send(i, **where)))
                threads[-1].start()
                deadline = time.monotonic() + WAIT
                while backends_waiting_on_a_lock() < i + 1 and outcomes[i] is None:
                    assert time.monotonic() < deadline, f"sender {i} never waited on the contact"
                    time.sleep(0.02)
                assert outcomes[i] is None, outcomes[i]
    finally:
        for thread in threads:
            thread.join(WAIT)
    assert all(isinstance(o, Referral) for o in outcomes), outcomes
    key = (ro.radgivning.pk, timezone.localdate().year)
    assert _counters()[(*key, ContactStat.Measure.REFERRED, None)] == 1
    assert _counters() == _truth()
