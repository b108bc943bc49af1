import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

log = logging.getLogger(__name__)


@shared_task(bind=True, name="notifications.tasks.sweep_reminders")
def sweep_reminders(self):
    """Deliver due reminders and requeue lost e-mails: the beat's job each minute.

    At most REMINDER_SWEEP_PARALLEL sweeps run at once (``sweep_slot``); a sweep that finds no
    free slot ends at once. A sweep that finds a backlog starts the others, and one that spends
    its time budget with rows still due hands on to fresh sweeps at once instead of leaving them
    to the next tick. A database outage makes it try again within seconds, not at the next tick.
    """
    from notifications.services import emails_requeue, reminders_backlog, reminders_sweep_run, sweep_slot, sweeps_at_once

    try:
        with sweep_slot() as slot:
            if slot is None:
                return 0
            if sweeps_at_once() > 1 and reminders_backlog():
                _sweeps_publish(sweeps_at_once() - 1, "a backlog")
            delivered, more = reminders_sweep_run()
            emails_requeue()
    except DatabaseError as exc:
        log.warning("reminder sweep stopped, the database is away; trying again in %ss", settings.REMINDER_SWEEP_RETRY_SECONDS)
        raise self.retry(exc=exc, countdown=settings.REMINDER_SWEEP_RETRY_SECONDS, max_retries=settings.REMINDER_SWEEP_RETRIES) from exc
    if more:
        _sweeps_publish(sweeps_at_once(), "rows still due after the time budget")
    return delivered


def _sweeps_publish(count: int, why: str) -> None:
    """Queue ``count`` more sweeps; a broker that is down costs only the wait for the next tick."""
    for _ in range(count):
        try:
            sweep_reminders.apply_async(expires=settings.REMINDER_SWEEP_BUDGET_SECONDS * 2)
        except Exception:  # noqa: BLE001 - any broker failure; the next beat tick sweeps anyway
            log.warning("further reminder sweep not queued (%s); the next tick sweeps", why, exc_info=True)
            return


@shared_task(name="notifications.tasks.send_email")
def send_email(email_id: int):
    """Send one outbox e-mail (notifications.models.Email); a repeat of the task sends nothing more."""
    from notifications.services import email_send

    return email_send(email_id=email_id)


@shared_task(name="notifications.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int):
    """Deliver one reminder now, without waiting for the next sweep (an alarm that must reach
    its readers at once). The sweep still delivers it if this never runs, and never twice."""
    from notifications.services import reminder_deliver_one

    return reminder_deliver_one(reminder_id=reminder_id)
