"""The Celery app, the project's only beat schedule, and which queue each task runs on.

Two queues, each consumed by its own worker pool (README, "Queues and workers"):

- ``sweeps``: every beat job plus the immediate delivery of an alarm (``deliver_reminder``). They are
  few and short, and a reminder must not wait behind mail: a slow SMTP server with a few hundred
  e-mails queued once held the minute's sweep back for twelve minutes when everything shared one queue.
- ``mail``: the e-mail send tasks, as many as there are notifications, each waiting on the SMTP server.
"""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SWEEPS_QUEUE = "sweeps"
MAIL_QUEUE = "mail"

BEAT_SCHEDULE = {
    # Every 15 s: a tick while sweeps are running finds no free slot and ends at once; a tick after a
    # Redis restart (which loses queued hand-ons and retries) starts sweeping again within 15 s.
    "sweep-reminders": {"task": "notifications.tasks.sweep_reminders", "schedule": 15.0},
    "daily-reconsent": {"task": "consent.tasks.create_reconsent_tasks", "schedule": crontab(hour=2, minute=15)},
    # Every minute: the access review's roll-up of reads (audit/rollup.py); the review counts the reads
    # after its watermark live, so a late or missed run costs time on that page, never a wrong count.
    "rollup-reads": {"task": "audit.tasks.rollup_reads", "schedule": 60.0},
    # Every minute: BrukerPlan reports whose computation looks lost (pending over a minute, running with
    # no progress for ten) are enqueued again, so a lost enqueue or a killed worker delays a report.
    "brukerplan-reports-requeue": {"task": "workflows.brukerplan.tasks.reports_requeue", "schedule": 60.0},
    # Every ten minutes: the insights' aggregate rows recomputed from the case records (insights/services.py).
    # A full pass over every case, so not every minute; the pages say how old the figures are. A tick
    # that has waited longer than an interval is dropped: the next one reads the same records anew.
    "insights-rollup": {"task": "insights.tasks.rollup_refresh", "schedule": 600.0, "options": {"expires": 600}},
}
# Every beat job runs on the sweeps queue, so a job added to the schedule above is routed with no
# second list to keep; deliver_reminder is not a beat job but is a reminder that must not wait for mail.
SWEEP_TASKS = sorted({entry["task"] for entry in BEAT_SCHEDULE.values()} | {"notifications.tasks.deliver_reminder"})
MAIL_TASKS = ["notifications.tasks.send_email"]
# A closed BrukerPlan round's report: seconds of work, once a round. On the sweeps queue, not behind
# the mail; a third queue (and worker) is worth it only if reports grow slower.
REPORT_TASKS = ["workflows.brukerplan.tasks.round_report_compute"]
TASK_ROUTES = {name: {"queue": SWEEPS_QUEUE} for name in SWEEP_TASKS + REPORT_TASKS} | {name: {"queue": MAIL_QUEUE} for name in MAIL_TASKS}

app = Celery("samhandling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    beat_schedule=BEAT_SCHEDULE,
    task_routes=TASK_ROUTES,
    # A task without a route (tests/notifications/test_queues.py requires a route for each of ours)
    # would otherwise go to Celery's "celery" queue, which no worker here consumes.
    task_default_queue=MAIL_QUEUE,
    # Broker outages (README, "Worker resilience"). A worker keeps trying to reach the broker, at start
    # and after losing it, for as long as it takes: Celery's default gives up after 100 attempts
    # (about 45 minutes of back-off) and exits, leaving the queues unconsumed until someone restarts it.
    broker_connection_retry_on_startup=True,
    broker_connection_retry=True,
    broker_connection_max_retries=None,
    # A task still running when the connection drops cannot be acknowledged on the dead channel. Cancel
    # it (Celery 6's default) instead of letting it finish and ack on a channel kombu has already
    # closed; Redis delivers it again after the visibility timeout, and the sweep redoes whatever a
    # lost one would have done. Every task is safe to run twice: the database decides (claims, unique
    # keys, the e-mail outbox), never the message.
    worker_cancel_long_running_tasks_on_connection_loss=True,
    # Celery's consumer, surviving a kombu fault that ended a worker in 2 of 40 Redis restarts.
    worker_consumer="config.celery_worker:Consumer",
)
app.autodiscover_tasks()
