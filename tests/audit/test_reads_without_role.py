"""The access review's reads without a role, from the no-role roll-up (audit/rollup.py; issue 14).

The page from the roll-up (the reads judged up to its watermark, merged with the reads after it
judged live) must be the page judged live, row for row and page for page; a read is judged once.
Personas: ``nav_staff`` reads a child NAV has no case with; the ``reporter`` reads the child of her
own melding (a role); an administrator (``slt_staff``) reads a person through the admin.
"""
import datetime

import pytest
import time_machine

from audit import rollup, selectors
from audit.models import AccessLog, ReadRollup, ReadWithoutRole
from audit.services import access_log_write
from tests.factories import make_melding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgresql_only")]

UTC = datetime.timezone.utc
T = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SINCE, UNTIL = T - datetime.timedelta(days=1), T + datetime.timedelta(days=1)


def read(user, service, concern, minutes, via="role"):
    with time_machine.travel(T + datetime.timedelta(minutes=minutes), tick=False):
        return access_log_write(user=user, action="view", obj=concern, person=concern.person, service=service, purpose="concern page",
                                via=via)


def page(cursor=None, size=selectors.REVIEW_PAGE_SIZE):
    rows, next_cursor = selectors.review_reads_without_case(since=SINCE, until=UNTIL, cursor=cursor, size=size)
    return [r.pk for r in rows], next_cursor


def every_page(size):
    out, cursor = [], None
    while True:
        rows, cursor = page(cursor, size)
        out.append(rows)
        if cursor is None:
            return out


def live_pages(monkeypatch, size):
    with monkeypatch.context() as m:
        m.setattr(selectors, "no_role_watermark", lambda **kw: None)
        return every_page(size)


@pytest.fixture
def reads(org):
    """Two melding sent the day before; NAV reads them five times (no role), the reporter reads
    them (her role), an administrator reads a person once."""
    with time_machine.travel(T - datetime.timedelta(days=1), tick=False):
        concerns = [make_melding(org), make_melding(org)]
    out = [read(org.nav_staff, org.nav, concerns[i % 2], i) for i in range(5)]
    read(org.reporter, org.barnehage, concerns[0], 6)
    out.append(read(org.slt_staff, None, concerns[1], 7, via="admin"))
    return org, concerns, [r.pk for r in out]


class NoRoleRollUpTests:
    def test_it_judges_each_read_once_and_keeps_only_those_without_a_role(self, reads):
        _org, _concerns, without = reads
        assert rollup.reads_rollup() > 0
        assert set(ReadWithoutRole.objects.values_list("id", flat=True)) == set(without)
        assert ReadRollup.objects.get(pk=rollup.NO_ROLE_STATE_ID).last_id == AccessLog.objects.order_by("-id").first().id
        assert rollup.no_role_rollup_batch() == 0

    def test_the_page_from_the_roll_up_is_the_live_page_with_reads_after_the_watermark(self, reads, monkeypatch):
        org, concerns, without = reads
        rollup.reads_rollup()
        # After the watermark: two more reads without a role, between and after the rolled-up ones in time.
        later = [read(org.nav_staff, org.nav, concerns[0], 2.5).pk, read(org.nav_staff, org.nav, concerns[1], 9).pk]
        assert ReadWithoutRole.objects.filter(id__in=later).count() == 0
        for size in (2, 3, 50):
            assert every_page(size) == live_pages(monkeypatch, size)
        assert sorted(sum(every_page(3), [])) == sorted(without + later)

    def test_a_role_registered_after_the_read_was_judged_does_not_clear_it(self, reads):
        org, concerns, without = reads
        rollup.reads_rollup()
        # NAV registers a contact with the first child afterwards: its earlier reads stay listed.
        from referrals.models import Contact

        Contact.objects.create(person=concerns[0].person, service=org.nav, created_by=org.nav_staff)
        assert set(sum(every_page(50), [])) == set(without)

    def test_a_roll_up_far_behind_the_log_is_not_used(self, reads, monkeypatch):
        rollup.reads_rollup()
        ReadRollup.objects.filter(pk=rollup.NO_ROLE_STATE_ID).update(last_id=0)
        monkeypatch.setattr(selectors, "ROLLUP_TAIL_MAX", 2)
        assert rollup.no_role_watermark(tail_max=2) is None
        assert every_page(50) == live_pages(monkeypatch, 50)

    def test_its_page_costs_the_same_queries_whatever_the_reads(self, reads, django_assert_num_queries):
        org, concerns, _without = reads
        rollup.reads_rollup()
        with django_assert_num_queries(4):  # the watermark, the rolled-up page, the live tail, the rows shown
            page()
        for i in range(20):
            read(org.nav_staff, org.nav, concerns[i % 2], 10 + i)
        rollup.reads_rollup()
        with django_assert_num_queries(4):
            assert len(page()[0]) == min(26, selectors.REVIEW_PAGE_SIZE)
