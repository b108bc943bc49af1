"""consent reminds through a scheduler the notifications app plugs in (consent may not import notifications)."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from consent import checks, reminders


class ReminderSchedulerTests:
    def test_it_is_registered_by_the_notifications_app(self):
        assert reminders.has_reminder_scheduler()
        assert checks.reminder_scheduler_registered(None) == []

    def test_it_refuses_to_start_without_one(self, monkeypatch):
        monkeypatch.setattr(reminders, "_schedulers", [])
        assert [e.id for e in checks.reminder_scheduler_registered(None)] == ["consent.E001"]

    def test_it_raises_rather_than_let_an_obligation_pass_unreminded(self, monkeypatch):
        monkeypatch.setattr(reminders, "_schedulers", [])
        with pytest.raises(ImproperlyConfigured):
            reminders.remind_staff(obligation="reconsent:1", message="", service=None, subject=None, required_perm="")
        with pytest.raises(ImproperlyConfigured):
            reminders.reminder_cancel(obligation="reconsent:1")
