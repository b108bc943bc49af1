from celery import shared_task


@shared_task(name="notifications.tasks.sweep_reminders")
def sweep_reminders():
    from notifications.services import notifications_requeue_unsent, reminders_sweep

    delivered = reminders_sweep()
    notifications_requeue_unsent()
    return delivered


@shared_task(name="notifications.tasks.send_notification_email")
def send_notification_email(notification_id: int):
    from notifications.services import notification_send_email

    return notification_send_email(notification_id=notification_id)


@shared_task(name="notifications.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int):
    """Deliver one reminder now, without waiting for the minute's sweep (an alarm that must reach
    its readers at once). The sweep still delivers it if this never runs, and never twice."""
    from notifications.services import reminder_deliver_one

    return reminder_deliver_one(reminder_id=reminder_id)
