"""The production settings: what a missing variable does, and what the embedded defaults cover.

Each case starts Django in a fresh process with exactly the given environment (settings are read
once per process), and either prints the settings that matter or fails with ImproperlyConfigured.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SECRET_KEY": "s" * 64,
    "DATABASE_URL": "sqlite:////tmp/samhandling-settings-test.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_ALLOWED_HOSTS": "samhandling.example.no",
    "SITE_URL": "https://samhandling.example.no",
}
PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print("SETTINGS " + json.dumps({
    "embedded": s.EMBEDDED, "session_cookie": s.SESSION_COOKIE_NAME, "csrf_cookie": s.CSRF_COOKIE_NAME,
    "session_secure": s.SESSION_COOKIE_SECURE, "csrf_secure": s.CSRF_COOKIE_SECURE,
    "cookie_paths": [s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH], "domains": [s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN],
    "proxy_header": s.SECURE_PROXY_SSL_HEADER, "idle_minutes": s.SESSION_IDLE_TIMEOUT_MINUTES,
    "database": s.DATABASES["default"]["ENGINE"], "site_url": s.SITE_URL,
    "staticfiles": s.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def start(env: dict, args=None):
    """Run the probe (or manage.py ``args``) with only ``env`` on top of PATH and HOME."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    command = [sys.executable, "-c", PROBE] if args is None else [sys.executable, "manage.py", *args]
    if args is None:
        base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(command, cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True, timeout=120)


def settings_of(env: dict) -> dict:
    result = start(env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(next(line for line in result.stdout.splitlines() if line.startswith("SETTINGS "))[9:])


def refusal_of(env: dict) -> str:
    result = start(env)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr


class ProductionSettingsTests:
    def test_it_starts_with_the_readmes_production_environment(self):
        production = settings_of(PRODUCTION)
        assert production["embedded"] is False
        assert production["staticfiles"] == "config.storage.SamhandlingStaticFilesStorage"

    def test_it_requires_site_url(self):
        env = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
        assert "SITE_URL must be set" in refusal_of(env)

    @pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"])
    def test_it_refuses_to_start_without_each_secret(self, variable):
        assert variable in refusal_of({k: v for k, v in PRODUCTION.items() if k != variable})

    def test_it_prefixes_the_cookies_with_host(self):
        production = settings_of(PRODUCTION)
        assert (production["session_cookie"], production["csrf_cookie"]) == ("__Host-sessionid", "__Host-csrftoken")
        assert production["session_secure"] and production["csrf_secure"]
        assert production["cookie_paths"] == ["/", "/"] and production["domains"] == [None, None]

    def test_it_ignores_x_forwarded_proto_unless_told_to_trust_it(self):
        assert settings_of(PRODUCTION)["proxy_header"] is None

    def test_it_trusts_x_forwarded_proto_when_configured(self):
        trusted = settings_of({**PRODUCTION, "DJANGO_TRUST_X_FORWARDED_PROTO": "1"})
        assert trusted["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]

    def test_it_reads_the_idle_timeout_from_the_environment(self):
        assert settings_of(PRODUCTION)["idle_minutes"] == 20
        assert settings_of({**PRODUCTION, "SESSION_IDLE_TIMEOUT_MINUTES": "10"})["idle_minutes"] == 10


class EmbeddedSettingsTests:
    def test_it_refuses_debug_alone_without_the_production_secrets(self):
        assert "DJANGO_SECRET_KEY must be set" in refusal_of({"DJANGO_DEBUG": "1"})

    def test_it_refuses_debug_with_the_production_settings(self):
        """DEBUG's pages show tracebacks with the request's data: only with the embedded settings."""
        assert "DJANGO_DEBUG=1 shows tracebacks" in refusal_of({**PRODUCTION, "DJANGO_DEBUG": "1"})

    def test_it_uses_the_embedded_defaults_in_demo_mode(self):
        demo = settings_of({"DJANGO_DEMO": "1", "DJANGO_DEBUG": "1"})
        assert demo["embedded"] is True and demo["database"].endswith("sqlite3")
        # __Host- cookies need HTTPS, which the quick start does not have.
        assert (demo["session_cookie"], demo["csrf_cookie"]) == ("sessionid", "csrftoken")

    def test_it_uses_the_embedded_defaults_when_asked_by_name(self):
        assert settings_of({"DJANGO_EMBEDDED": "1"})["embedded"] is True

    def test_it_lets_manage_py_use_the_embedded_settings_on_an_unconfigured_checkout(self):
        result = start({}, args=["check"])
        assert result.returncode == 0, result.stderr[-3000:]
        assert "embedded development settings" in result.stderr
