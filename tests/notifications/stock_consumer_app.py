"""The project's Celery app with Celery's own worker consumer instead of config.celery_worker's:
the worker tests/notifications/test_queues.py starts to show the kombu fault that consumer survives."""
from config.celery import app

app.conf.worker_consumer = "celery.worker.consumer:Consumer"
