"""Start-up checks of the consent app."""
from django.core import checks

from consent.reminders import has_reminder_scheduler


@checks.register()
def reminder_scheduler_registered(app_configs, **kwargs):
    if has_reminder_scheduler():
        return []
    return [checks.Error("No reminder scheduler is registered for re-consent tasks.",
                         hint="Install the 'notifications' app; its AppConfig.ready registers the scheduler.", id="consent.E001")]
