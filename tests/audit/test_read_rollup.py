"""The access review's roll-up of reads (audit/rollup.py) and the bursts read from it (issue 14).

The bursts counted from the roll-up (plus the reads after its watermark, plus the windows the period
cuts) must be the bursts counted live from the log, exactly. Records here are access-log rows'
own ids (object "audit.accesslog", id n): any object of the log is a record.
"""
import datetime
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction

from audit import rollup, selectors
from audit.models import AccessLog, ReadRecord, ReadRollup, ReadWindow
from audit.services import access_log_entry, access_log_write_many
from config.celery import BEAT_SCHEDULE, TASK_ROUTES

UTC = datetime.timezone.utc
T = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a window's start (10-minute windows)
SINCE, UNTIL = T - datetime.timedelta(hours=1), T + datetime.timedelta(hours=2)
READS = 3  # more than 3 different records in a window is a burst


def at(minutes: float) -> datetime.datetime:
    return T + datetime.timedelta(minutes=minutes)


def read(user, records, when):
    """``user`` reads the records numbered ``records`` at ``when``, in one append."""
    with time_machine.travel(when, tick=False):
        access_log_write_many([access_log_entry(user=user, action=AccessLog.Action.VIEW, obj=AccessLog(id=n)) for n in records])


def bursts(**kw):
    kw = dict(since=SINCE, until=UNTIL, reads=READS) | kw
    found, cursor = selectors.review_bursts(**kw)
    return [(b.start, b.user_id, b.reads) for b in found], cursor


def live(monkeypatch, **kw):
    with monkeypatch.context() as m:
        m.setattr(selectors, "rollup_supported", lambda: False)
        return bursts(**kw)


@pytest.fixture
def history(org, settings):
    """Reads before any roll-up: teacher 5 records at 10:01 (read twice), caseworker 3 at 10:02
    (not a burst) and 5 at 10:12, teacher 4 at 10:21; a read of the whole log (id 0) by nobody."""
    settings.AUDIT_BURST_MINUTES = 10
    read(org.teacher, range(1, 6), at(1))
    read(org.teacher, range(1, 6), at(3))
    read(org.caseworker, range(1, 4), at(2))
    read(org.caseworker, range(10, 15), at(12))
    read(org.teacher, range(20, 24), at(21))
    return org


def tail(org):
    """Reads after the roll-up, some in windows already rolled up and some of records already counted
    there: the caseworker's 4th record at 10:05 (now a burst), the teacher's 5 again and a 6th at
    10:06, and a new window at 10:31."""
    read(org.caseworker, [4], at(5))
    read(org.teacher, range(1, 7), at(6))
    read(org.caseworker, range(30, 35), at(31))


def ordered(rows):
    return sorted(rows, key=lambda r: (-r[0].timestamp(), r[1]))


pytestmark = pytest.mark.usefixtures("postgresql_only")


class SameAsLiveTests:
    def test_rolled_up_bursts_are_the_live_ones_in_one_query(self, history, monkeypatch, django_assert_num_queries):
        org = history
        assert rollup.reads_rollup() > 0
        with django_assert_num_queries(1):
            found, cursor = bursts()
        assert found == ordered([(at(20), org.teacher.pk, 4), (at(10), org.caseworker.pk, 5), (at(0), org.teacher.pk, 5)])
        assert cursor is None
        assert (found, cursor) == live(monkeypatch)
        # The roll-up holds the distinct records: the teacher's 5 read twice are 5.
        assert ReadWindow.objects.get(user=org.teacher, bucket=int(T.timestamp()) // 600).records == 5
        assert ReadRecord.objects.count() == 5 + 3 + 5 + 4

    def test_reads_after_the_watermark_are_counted_once_with_the_rolled_up_ones(self, history, monkeypatch, django_assert_num_queries):
        org = history
        rollup.reads_rollup()
        tail(org)
        with django_assert_num_queries(1):
            found, _ = bursts()
        assert found == ordered([
            (at(30), org.caseworker.pk, 5), (at(20), org.teacher.pk, 4), (at(10), org.caseworker.pk, 5),
            (at(0), org.teacher.pk, 6), (at(0), org.caseworker.pk, 4),
        ])
        assert found == live(monkeypatch)[0]
        # Rolled up, the same answer.
        rollup.reads_rollup()
        assert bursts()[0] == found

    def test_a_period_that_cuts_windows_counts_only_its_reads(self, history, monkeypatch):
        """10:05–10:25: the teacher's 10:00 window holds only the 6 records read at 10:06 (their 10:01
        and 10:03 reads are before the period), the caseworker's single 10:05 read is no burst, and
        the 10:20 window holds the teacher's 4 records read at 10:21."""
        org = history
        rollup.reads_rollup()
        tail(org)
        period = dict(since=at(5), until=at(25))
        expected = ordered([(at(20), org.teacher.pk, 4), (at(10), org.caseworker.pk, 5), (at(0), org.teacher.pk, 6)])
        assert bursts(**period)[0] == expected == live(monkeypatch, **period)[0]
        rollup.reads_rollup()
        assert bursts(**period)[0] == expected
        # A period inside one window is counted live: nothing of it is a whole window.
        assert bursts(since=at(5), until=at(9))[0] == [(at(0), org.teacher.pk, 6)] == live(monkeypatch, since=at(5), until=at(9))[0]

    def test_it_pages_by_the_same_keyset(self, history, monkeypatch):
        org = history
        rollup.reads_rollup()
        tail(org)
        pages, cursor = [], None
        while True:
            found, cursor = bursts(size=2, after=cursor)
            pages.append(found)
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 2, 1]
        assert sum(pages, []) == live(monkeypatch)[0]
        for forged in ("forged", "9" * 40 + "-1", "1-" + "9" * 40):
            assert bursts(size=2, after=forged)[0] == pages[0]

    def test_the_query_count_does_not_grow_with_the_bursts(self, history, django_assert_num_queries):
        org = history
        rollup.reads_rollup()
        for k in range(6):  # six more bursts, half of them after the watermark
            read(org.caseworker, range(100, 105), at(40 + 10 * k))
            if k == 2:
                rollup.reads_rollup()
        with django_assert_num_queries(1):
            found, _ = bursts()
        assert len(found) == 3 + 6


class RollUpTests:
    def test_running_it_again_changes_nothing(self, history):
        rollup.reads_rollup()
        state = ReadRollup.objects.get(pk=rollup.STATE_ID)
        counts = set(ReadWindow.objects.values_list("user_id", "bucket", "records"))
        assert rollup.reads_rollup() == 0
        # Even from the first id again: the records already there are not counted twice.
        ReadRollup.objects.filter(pk=rollup.STATE_ID).update(last_id=0)
        assert rollup.reads_rollup() == state.last_id
        assert set(ReadWindow.objects.values_list("user_id", "bucket", "records")) == counts
        assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id == state.last_id == AccessLog.objects.order_by("-id").first().id

    def test_small_batches_give_the_same_counts(self, history, monkeypatch):
        rollup.reads_rollup(batch=1, budget_seconds=None)
        assert bursts() == live(monkeypatch)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class ConcurrentTests:
    def test_two_roll_ups_at_once_do_not_count_twice(self, history, monkeypatch):
        """A holds the roll-up's row and rolls up; B, started meanwhile, waits for it and then finds
        nothing left; the counts are the live ones."""
        a_holds, errors, moved = threading.Event(), [], {}

        def a():
            try:
                with transaction.atomic():
                    ReadRollup.objects.get_or_create(pk=rollup.STATE_ID, defaults=dict(seconds=600))
                    ReadRollup.objects.select_for_update().get(pk=rollup.STATE_ID)
                    a_holds.set()
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.5)")  # B is waiting now
                    moved["a"] = rollup.reads_rollup_batch(wait=True)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        def b():
            try:
                a_holds.wait(timeout=10)
                moved["b"] = rollup.reads_rollup_batch(wait=True)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert moved["a"] > 0 and moved["b"] == 0
        assert bursts() == live(monkeypatch)
        assert ReadRecord.objects.count() == 5 + 3 + 5 + 4

    def test_the_watermark_stops_below_an_append_not_yet_committed(self, history, monkeypatch):
        """A reserves ids and appends under the chain's lock but has not committed: the roll-up must
        not pass A's ids (else A's reads, committed later, would never be rolled up)."""
        org = history
        appended, release, errors, ids = threading.Event(), threading.Event(), [], []

        def a():
            try:
                with transaction.atomic():
                    with time_machine.travel(at(4), tick=False):
                        rows = access_log_write_many([
                            access_log_entry(user=org.caseworker, action=AccessLog.Action.VIEW, obj=AccessLog(id=n)) for n in (7, 8)
                        ])
                    ids.extend(r.id for r in rows)
                    appended.set()
                    release.wait(timeout=10)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        thread = threading.Thread(target=a)
        thread.start()
        try:
            appended.wait(timeout=10)
            rollup.reads_rollup()
            assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id < min(ids)
        finally:
            release.set()
            thread.join()
        assert not errors
        rollup.reads_rollup()
        assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id == max(ids)
        # The caseworker's 10:00 window: records 1–3 and 7–8, a burst of 5 from the roll-up alone.
        assert (at(0), org.caseworker.pk, 5) in bursts()[0]
        assert bursts() == live(monkeypatch)

    def test_a_task_that_finds_the_roll_up_locked_ends_at_once(self, history):
        """The beat's task skips a roll-up that is running: another connection holds the row."""
        rollup.reads_rollup()
        ReadRollup.objects.filter(pk=rollup.STATE_ID).update(last_id=0)
        held, release, errors = threading.Event(), threading.Event(), []

        def hold():
            try:
                with transaction.atomic():
                    ReadRollup.objects.select_for_update().get(pk=rollup.STATE_ID)
                    held.set()
                    release.wait(timeout=10)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connections.close_all()

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(timeout=10)
        try:
            assert rollup.reads_rollup_batch() is None
            assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id == 0
        finally:
            release.set()
            thread.join()
        assert not errors


class WindowLengthTests:
    def test_another_window_length_counts_live_until_rebuilt(self, history, settings, monkeypatch, django_assert_num_queries):
        org = history
        rollup.reads_rollup()
        settings.AUDIT_BURST_MINUTES = 5
        expected = live(monkeypatch)
        # 5-minute windows: the teacher's 5 at 10:01/10:03, the caseworker's 5 at 10:12, the teacher's 4 at 10:21.
        assert expected[0] == ordered([(at(20), org.teacher.pk, 4), (at(10), org.caseworker.pk, 5), (at(0), org.teacher.pk, 5)])
        with django_assert_num_queries(2):  # the roll-up's (refused: 10-minute windows) and the live count
            assert bursts() == expected
        # An explicit window length other than the rolled-up one is counted live too.
        assert bursts(minutes=5) == expected
        rollup.reads_rollup()
        assert set(ReadWindow.objects.values_list("seconds", flat=True)) == {300}
        assert ReadRollup.objects.get(pk=rollup.STATE_ID).seconds == 300
        tail(org)
        with django_assert_num_queries(1):
            found = bursts()
        assert found == live(monkeypatch)

    def test_a_roll_up_far_behind_the_log_is_not_used(self, history, monkeypatch, django_assert_num_queries):
        rollup.reads_rollup()
        tail(history)
        monkeypatch.setattr(selectors, "ROLLUP_TAIL_MAX", 1)
        with django_assert_num_queries(2):
            found = bursts()
        assert found == live(monkeypatch)

    def test_a_tail_of_exactly_the_most_ids_is_counted_whole(self, history, monkeypatch, django_assert_num_queries):
        rollup.reads_rollup()
        tail(history)
        behind = AccessLog.objects.order_by("-id").first().id - ReadRollup.objects.get(pk=rollup.STATE_ID).last_id
        assert behind == 1 + 6 + 5
        monkeypatch.setattr(selectors, "ROLLUP_TAIL_MAX", behind)
        with django_assert_num_queries(1):
            found = bursts()
        assert found == live(monkeypatch)

    def test_no_roll_up_yet_counts_live(self, history, monkeypatch, django_assert_num_queries):
        with django_assert_num_queries(2):
            found = bursts()
        assert found == live(monkeypatch) and len(found[0]) == 3


class CommandAndBeatTests:
    def test_the_command_rolls_up_to_the_last_row(self, history, capsys):
        call_command("audit_rollup_reads", "--batch-size", "3")
        last = AccessLog.objects.order_by("-id").first().id
        assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id == last
        assert f"at id {last}" in capsys.readouterr().out

    def test_the_beat_runs_the_task_each_minute_on_the_sweeps_queue(self, history):
        from audit.tasks import rollup_reads

        entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "audit.tasks.rollup_reads")
        assert entry["schedule"] == 60.0
        assert TASK_ROUTES["audit.tasks.rollup_reads"] == {"queue": "sweeps"}
        assert rollup_reads.apply().get() > 0
        assert ReadRollup.objects.get(pk=rollup.STATE_ID).last_id == AccessLog.objects.order_by("-id").first().id
