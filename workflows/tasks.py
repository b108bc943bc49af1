"""The workflows' Celery tasks, for Celery's autodiscovery (it imports ``<app>.tasks``): each
process keeps its tasks in its own package."""
from workflows.brukerplan.tasks import round_report_compute  # noqa: F401
