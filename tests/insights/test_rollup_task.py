"""The rollup's beat job, its task and command, and its lock: two refreshes never interleave.

Personas: the shared Org's reporter (Solsiden barnehage) sends a melding to Barneverntjenesten.
"""
import datetime
import threading
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from config.celery import BEAT_SCHEDULE, SWEEPS_QUEUE, TASK_ROUTES
from config.celery import app as celery_app
from insights import tasks
from insights.models import CaseCount, RollupRun
from insights.services import ROLLUP_LOCK_KEY, latest_run, rollup_refresh
from tests.factories import make_melding

NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))


class RollupScheduleTests:
    def test_it_runs_the_refresh_every_ten_minutes_from_beat(self):
        entry = BEAT_SCHEDULE["insights-rollup"]

        assert entry["task"] == "insights.tasks.rollup_refresh" == tasks.rollup_refresh.name
        assert entry["schedule"] == 600.0
        assert entry["options"]["expires"] <= entry["schedule"]

    def test_it_routes_the_task_to_the_sweeps_queue(self):
        celery_app.loader.import_default_modules()

        assert "insights.tasks.rollup_refresh" in celery_app.tasks
        assert TASK_ROUTES["insights.tasks.rollup_refresh"] == {"queue": SWEEPS_QUEUE}


@pytest.mark.django_db
class RollupTaskTests:
    def test_it_refreshes_the_counts_and_returns_the_cases_read(self, org):
        with time_machine.travel(NOW, tick=False):
            make_melding(org)
            make_melding(org)
            assert tasks.rollup_refresh.apply().get() == 2

        assert list(CaseCount.objects.values_list("process", "service", "n")) == [("concern", org.barnevern.pk, 2)]
        assert latest_run().cases == 2 and latest_run().finished_at == NOW

    def test_the_command_prints_the_run_s_figures(self, org):
        with time_machine.travel(NOW, tick=False):
            make_melding(org)
            out = StringIO()
            call_command("insights_refresh", stdout=out)

        assert out.getvalue().startswith("OK: 1 cases read in ")
        assert "1 case counts" in out.getvalue() and "3 deadline counts" in out.getvalue()
        assert RollupRun.objects.count() == 1

    def test_it_has_no_run_before_the_first_refresh(self):
        assert latest_run() is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class RollupLockTests:
    def test_a_second_refresh_waits_for_the_first_to_commit(self, postgresql_only):
        finished = []

        def refresh_in_another_connection():
            try:
                finished.append(rollup_refresh())
            finally:
                connection.close()

        # This connection stands for a refresh in progress: it holds the refresh's lock until it commits.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])
            other = threading.Thread(target=refresh_in_another_connection)
            other.start()
            other.join(timeout=1.5)
            assert other.is_alive() and finished == []
        other.join(timeout=30)

        assert not other.is_alive() and len(finished) == 1
        assert RollupRun.objects.get().pk == finished[0].pk
