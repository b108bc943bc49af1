"""A real OpenID Connect provider for the login tests, and helpers for TOTP codes.

The provider is oidc-provider-mock (authlib): a separate process with real discovery, authorization,
token, userinfo and JWKS endpoints, RS256-signed id tokens. Its authorization page asks for the
subject ("sub") to log in as, with a button per predefined user.
"""
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

CLIENT_ID = "samhandling-test"
CLIENT_SECRET = "test-secret-not-used-in-production"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def oidc_provider_process(users=()):
    """Start the provider in its own process on a free loopback port; yields its base URL (= issuer).

    ``users``: claims dicts, each with "sub", offered as one-click users on the authorization page.
    """
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), "--require-nonce"]
    for claims in users:
        args += ["--user-claims", json.dumps(claims)]
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the OIDC provider did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def enable_oidc(settings, provider_url, *, claim="sub", label="ID-porten"):
    """Configure the app for the provider as the environment would (see config/settings.py, "Login")."""
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_DISCOVERY = provider_url
    settings.OIDC_USER_CLAIM = claim
    settings.OIDC_PROVIDER_LABEL = label
    settings.OIDC_ENABLED = True
    backends = [b for b in settings.AUTHENTICATION_BACKENDS if b != "accounts.oidc.OIDCBackend"]
    backends.insert(backends.index("guardian.backends.ObjectPermissionBackend"), "accounts.oidc.OIDCBackend")
    settings.AUTHENTICATION_BACKENDS = backends


def totp_code(device, *, at=None) -> str:
    """The code an authenticator app shows now (or at the unix time ``at``) for a django-otp TOTP device."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    if at is not None:
        totp.time = at
    return f"{totp.token():0{device.digits}d}"


def totp_code_for_key(bin_key: bytes) -> str:
    """What an authenticator app shows now for a key with django-otp's defaults (30 s, 6 digits)."""
    from django_otp.oath import TOTP

    return f"{TOTP(bin_key).token():06d}"


def bin_key_from_display(key: str) -> bytes:
    """The key as the enrolment page shows it (base32 in groups) back to bytes, as an app reads it."""
    from base64 import b32decode

    compact = "".join(key.split()).upper()
    return b32decode(compact + "=" * (-len(compact) % 8))


def production_setting(expression: str, **extra_env) -> str:
    """``str(settings.<expression>)`` as config/settings.py gives it in a fresh process with a
    production environment (no DJANGO_EMBEDDED, DJANGO_DEMO or DJANGO_DEBUG) plus ``extra_env``.
    Raises RuntimeError with the start-up error when the settings refuse to load."""
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OIDC_", "ADMIN_", "AXES_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "x" * 64,
        "DATABASE_URL": "sqlite:///:memory:",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/1",
        "DJANGO_ALLOWED_HOSTS": "samhandling.example.no",
        "SITE_URL": "https://samhandling.example.no",
        **extra_env,
    })
    code = f"from django.conf import settings; print(settings.{expression})"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return result.stdout.strip()
