"""The Celery app and the project's only beat schedule."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("samhandling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "sweep-reminders": {"task": "notifications.tasks.sweep_reminders", "schedule": 60.0},
        "daily-reconsent": {"task": "consent.tasks.create_reconsent_tasks", "schedule": crontab(hour=2, minute=15)},
    },
)
app.autodiscover_tasks()
