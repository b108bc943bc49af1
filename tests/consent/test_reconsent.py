"""Re-consent tasks when a person outgrows a guardian-only consent (issue #3, item 2), frozen time.

The persons:
- Jonas, born 10 March 2010: his guardians Kari and Per consented for him at 15 (June 2025)
- Maja, born 29 February 2012 (a leap day), and Lina, born 29 February 2008
The nurse in Skolehelsetjenesten recorded the consents, so that service is responsible for renewing
them; Rask psykisk helsehjelp is the grantee and must not be told to renew anything.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from consent.models import AgeRule, ReconsentTask
from consent.services import consent_withdraw, reconsent_tasks_create
from consent.tasks import create_reconsent_tasks
from notifications.models import Notification, Reminder
from notifications.services import reminders_sweep
from tests.factories import make_child, make_consent, make_guardian, make_org, make_referral_services

OSLO = ZoneInfo("Europe/Oslo")


def at(day: datetime.date, hour=2, minute=15):
    """Frozen time on ``day`` at the daily beat job's hour (02:15 Oslo time)."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO), tick=False)


def run_on(day: datetime.date):
    with at(day):
        return reconsent_tasks_create()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    org = make_org()
    return org, make_referral_services(org)


def guardian_consent(world, *, birth, recorded_on, domain=AgeRule.Domain.HEALTH, given="Jonas"):
    """A consent Kari and Per gave on their child's behalf, recorded by the nurse on ``recorded_on``."""
    org, svc = world
    with at(recorded_on, hour=10):
        child = make_child(org, birth=birth, given=given)
        guardians = [make_guardian(child, given="Kari"), make_guardian(child, given="Per")]
        return make_consent(
            user=svc.nurse, service=svc.helse, person=child, grantees=[svc.rask], domain=domain,
            given_by_person=False, guardians=guardians,
        )


def jonas_health_consent(world):
    return guardian_consent(world, birth=datetime.date(2010, 3, 10), recorded_on=datetime.date(2025, 6, 1))


def task_ages(consent):
    return sorted(ReconsentTask.objects.filter(consent=consent).values_list("age", flat=True))


class ReconsentOn16thBirthdayTests:
    def test_it_creates_no_task_the_day_before_the_16th_birthday(self, world):
        consent = jonas_health_consent(world)
        assert run_on(datetime.date(2026, 3, 9)) == []
        assert not ReconsentTask.objects.filter(consent=consent).exists()

    def test_it_creates_a_task_on_the_16th_birthday_for_the_responsible_service(self, world):
        consent = jonas_health_consent(world)
        created = run_on(datetime.date(2026, 3, 10))
        task = ReconsentTask.objects.get(consent=consent)
        assert created == [task]
        assert (task.age, task.responsible_service, task.done_at) == (16, world[1].helse, None)

    def test_it_creates_one_task_when_run_twice(self, world):
        consent = jonas_health_consent(world)
        run_on(datetime.date(2026, 3, 10))
        assert run_on(datetime.date(2026, 3, 10)) == []
        assert run_on(datetime.date(2026, 3, 11)) == []
        assert ReconsentTask.objects.filter(consent=consent).count() == 1
        assert Reminder.objects.filter(obligation__startswith="reconsent:").count() == 1

    def test_it_creates_no_new_task_on_the_17th_birthday(self, world):
        consent = jonas_health_consent(world)
        for day in (datetime.date(2026, 3, 10), datetime.date(2027, 3, 10)):
            run_on(day)
        assert task_ages(consent) == [16]

    def test_it_creates_the_task_even_if_the_job_did_not_run_on_the_birthday(self, world):
        consent = jonas_health_consent(world)
        run_on(datetime.date(2026, 3, 13))
        assert task_ages(consent) == [16]

    def test_it_schedules_a_reminder_for_the_responsible_services_staff(self, world):
        consent = jonas_health_consent(world)
        task, = run_on(datetime.date(2026, 3, 10))
        reminder = Reminder.objects.get(key=f"reconsent:{task.pk}")
        assert (reminder.service, reminder.audience, reminder.kind) == (world[1].helse, Reminder.Audience.STAFF, Reminder.Kind.REMINDER)
        assert reminder.message == f"Consent {consent.reference} must be renewed: the person has turned 16."
        assert "Jonas" not in reminder.message and str(consent.code) in reminder.url

    def test_it_delivers_the_reminder_to_the_responsible_service_only(self, world):
        org, svc = world
        consent = jonas_health_consent(world)
        with at(datetime.date(2026, 3, 10)):
            reconsent_tasks_create()
            reminders_sweep()
        renew = Notification.objects.filter(reminder__key__startswith="reconsent:")
        assert list(renew.values_list("user", flat=True)) == [svc.nurse.pk]
        assert consent.reference in renew.get().message


class ReconsentGeneralDomainTests:
    def lina_general_consent(self, world):
        # Given by Kari and Per when Lina was 14; other services ask the young person too from 15.
        return guardian_consent(world, birth=datetime.date(2012, 3, 10), recorded_on=datetime.date(2026, 6, 1),
                                domain=AgeRule.Domain.GENERAL, given="Lina")

    def test_it_creates_a_task_at_15_when_the_young_person_must_consent_too(self, world):
        consent = self.lina_general_consent(world)
        assert run_on(datetime.date(2027, 3, 9)) == []
        run_on(datetime.date(2027, 3, 10))
        assert task_ages(consent) == [15]

    def test_it_creates_a_task_at_18_and_none_at_16_or_17(self, world):
        consent = self.lina_general_consent(world)
        for year in (2027, 2028, 2029):
            run_on(datetime.date(year, 3, 10))
        assert task_ages(consent) == [15]
        run_on(datetime.date(2030, 3, 9))
        assert task_ages(consent) == [15]
        run_on(datetime.date(2030, 3, 10))
        assert task_ages(consent) == [15, 18]

    def test_it_creates_tasks_at_16_and_18_for_a_health_consent(self, world):
        consent = jonas_health_consent(world)
        for year in (2026, 2027, 2028, 2029):
            run_on(datetime.date(year, 3, 10))
        assert task_ages(consent) == [16, 18]


class ReconsentNotNeededTests:
    def test_it_creates_none_for_a_consent_the_person_gave_themselves(self, world):
        org, svc = world
        with at(datetime.date(2025, 6, 1), hour=10):
            sara = make_child(org, birth=datetime.date(2009, 3, 10), given="Sara")  # 16
            make_consent(user=svc.nurse, service=svc.helse, person=sara, grantees=[svc.rask], given_by_person=True)
        for day in (datetime.date(2026, 3, 10), datetime.date(2027, 3, 10)):
            assert run_on(day) == []
        assert not ReconsentTask.objects.exists()

    def test_it_creates_none_for_a_withdrawn_consent(self, world):
        consent = jonas_health_consent(world)
        with at(datetime.date(2025, 12, 1), hour=10):
            consent_withdraw(consent=consent, user=world[1].nurse, note="Foreldrene trakk samtykket.")
        assert run_on(datetime.date(2026, 3, 10)) == []

    def test_it_creates_none_for_a_consent_that_has_expired(self, world):
        org, svc = world
        with at(datetime.date(2025, 6, 1), hour=10):
            jonas = make_child(org, birth=datetime.date(2010, 3, 10), given="Jonas")
            make_consent(user=svc.nurse, service=svc.helse, person=jonas, grantees=[svc.rask], given_by_person=False,
                         guardians=[make_guardian(jonas)], valid_to=datetime.date(2025, 12, 31))
        assert run_on(datetime.date(2026, 3, 10)) == []


class ReconsentLeapDayTests:
    def test_it_creates_the_task_on_29_february_for_a_leap_day_child_turning_16(self, world):
        consent = guardian_consent(world, birth=datetime.date(2012, 2, 29), recorded_on=datetime.date(2027, 6, 1), given="Maja")
        assert run_on(datetime.date(2028, 2, 28)) == []
        run_on(datetime.date(2028, 2, 29))
        assert task_ages(consent) == [16]

    def test_it_treats_1_march_as_the_birthday_in_a_common_year(self, world):
        # Person.age_on: someone born 29 February has not had the birthday on 28 February.
        consent = guardian_consent(world, birth=datetime.date(2008, 2, 29), recorded_on=datetime.date(2022, 6, 1),
                                   domain=AgeRule.Domain.GENERAL, given="Lina")
        run_on(datetime.date(2023, 3, 1))
        assert task_ages(consent) == [15]
        run_on(datetime.date(2026, 2, 28))
        assert task_ages(consent) == [15]
        run_on(datetime.date(2026, 3, 1))
        assert task_ages(consent) == [15, 18]


class CreateReconsentTasksJobTests:
    def test_it_creates_the_tasks_when_the_beat_job_runs(self, world):
        consent = jonas_health_consent(world)
        with at(datetime.date(2026, 3, 10)):
            result = create_reconsent_tasks.apply()
        assert result.get() == 1
        assert task_ages(consent) == [16]

    def test_it_is_scheduled_daily_by_beat(self):
        from config.celery import app

        entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "consent.tasks.create_reconsent_tasks"]
        assert len(entries) == 1
        assert (entries[0]["schedule"].hour, entries[0]["schedule"].minute) == ({2}, {15})
