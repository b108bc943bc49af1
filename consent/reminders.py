"""Reminders of consent's own obligations, as consent sees them: a scheduler the notifications app plugs in.

A re-consent task must remind the responsible service's staff, in the transaction that creates the
task, and closing the task must cancel that reminder. Yet consent may not import notifications
(design.md's import direction, checked by .importlinter): the dependency runs the other way.
The notifications app registers its scheduler here in ``NotificationsConfig.ready``; a system check
(consent.checks) refuses to start without one, and the calls below raise rather than let an
obligation pass unreminded.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class ReminderScheduler:
    """``remind_staff(*, obligation, message, service, subject, required_perm, url="", topic="")``:
    remind the staff of ``service`` now, once per ``obligation``, while the service holds
    ``required_perm`` on ``subject``; ``topic`` (a gettext_noop msgid) names the step in the notice's
    heading. ``cancel(*, obligation)``: cancel the obligation's unsent reminders."""

    remind_staff: Callable
    cancel: Callable


_schedulers: list[ReminderScheduler] = []


def register_reminder_scheduler(scheduler: ReminderScheduler) -> None:
    _schedulers[:] = [scheduler]


def has_reminder_scheduler() -> bool:
    return bool(_schedulers)


def _scheduler() -> ReminderScheduler:
    if not _schedulers:
        raise ImproperlyConfigured("No reminder scheduler is registered: add 'notifications' to INSTALLED_APPS.")
    return _schedulers[0]


def remind_staff(**reminder) -> None:
    """Remind a service's staff of an obligation now (see ReminderScheduler for the keywords).
    Call inside the transaction that creates the obligation."""
    _scheduler().remind_staff(**reminder)


def reminder_cancel(*, obligation: str) -> None:
    """Cancel the obligation's unsent reminders. Call inside the transaction that fulfils it."""
    _scheduler().cancel(obligation=obligation)
