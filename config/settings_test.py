"""Test settings: the production settings file, made faster. Nothing here changes behaviour."""
import os

os.environ.setdefault("DJANGO_EMBEDDED", "1")

from .settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
