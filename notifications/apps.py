from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Notifications")

    def ready(self):
        from consent.reminders import ReminderScheduler, register_reminder_scheduler
        from notifications.services import reminder_cancel, staff_reminder_schedule

        # consent may not import this app; its re-consent tasks remind the staff through this.
        register_reminder_scheduler(ReminderScheduler(remind_staff=staff_reminder_schedule, cancel=reminder_cancel))
