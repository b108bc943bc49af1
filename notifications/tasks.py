from celery import shared_task


@shared_task(name="notifications.tasks.sweep_reminders")
def sweep_reminders():
    from notifications.services import emails_requeue, reminders_sweep

    delivered = reminders_sweep()
    emails_requeue()
    return delivered


@shared_task(name="notifications.tasks.send_email")
def send_email(email_id: int):
    """Send one outbox e-mail (notifications.models.Email); a repeat of the task sends nothing more."""
    from notifications.services import email_send

    return email_send(email_id=email_id)


@shared_task(name="notifications.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int):
    """Deliver one reminder now, without waiting for the minute's sweep (an alarm that must reach
    its readers at once). The sweep still delivers it if this never runs, and never twice."""
    from notifications.services import reminder_deliver_one

    return reminder_deliver_one(reminder_id=reminder_id)
