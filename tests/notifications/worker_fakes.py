"""Stand-ins the worker subprocesses of tests/notifications load: a task that takes a while, and a slow
mail server. Loaded by a worker with ``-I tests.notifications.worker_fakes`` (the task) or
``TEST_EMAIL_BACKEND=tests.notifications.worker_fakes.SlowFileBackend`` (the backend)."""
import os
import time

from celery import shared_task
from django.core.mail.backends.filebased import EmailBackend


@shared_task(name="tests.sleep")
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


class SlowFileBackend(EmailBackend):
    """Django's file backend behind a mail server that takes TEST_EMAIL_DELAY_SECONDS per message."""

    def send_messages(self, email_messages):
        time.sleep(float(os.environ.get("TEST_EMAIL_DELAY_SECONDS", "0.5")) * len(email_messages))
        return super().send_messages(email_messages)


class SlowGoodbyeFileBackend(EmailBackend):
    """Django's file backend behind a mail server that accepts a message at once but takes
    TEST_EMAIL_CLOSE_DELAY_SECONDS to answer the goodbye (QUIT): a worker can be killed after the
    server has the message and before the application has recorded it."""

    def close(self):
        time.sleep(float(os.environ.get("TEST_EMAIL_CLOSE_DELAY_SECONDS", "0.5")))
        return super().close()
