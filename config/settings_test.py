"""Test settings: the production settings file, made faster. Nothing here changes behaviour."""
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_EMBEDDED", "1")

from .settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-memory mail, except in the Celery workers the reliability tests start: they are other
# processes, so they write mail to files the test reads (TEST_EMAIL_BACKEND=...filebased...).
EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
SECURE_SSL_REDIRECT = False
# Unrelated tests log in with force_login and must not be sent to the code page. Production
# requires the second factor (settings.REQUIRE_SECOND_FACTOR = not DEMO_MODE, no variable to turn it
# off; tests/accounts/test_second_factor.py asserts that); the login tests turn it back on.
REQUIRE_SECOND_FACTOR = False
# The mail journal (notifications.services.email_send) of this test run, not the checkout's var/:
# a note left by one test must never stand for another test's e-mail of the same id.
EMAIL_JOURNAL_DIR = Path(os.environ.get("EMAIL_JOURNAL_DIR") or tempfile.mkdtemp(prefix="samhandling-mail-journal-"))
