"""The production build serves: collectstatic with the production settings, then real pages through
gunicorn with DEBUG off, behind the (simulated) TLS proxy.

One module-scoped server: ``collectstatic`` into a temporary STATIC_ROOT while a temporary SQLite
database is migrated and seeded (a barnevern caseworker with a TOTP device, and a melding about a
child) in parallel; then gunicorn with config/gunicorn.conf.py on a free loopback port. Every wait
is bounded and the server is always stopped.

Personas: the caseworker of Barneverntjenesten (receives the melding), logging in with password and
TOTP code like any production user.
"""
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.servers import gunicorn

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "samhandling.example.no"
TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, hex
PASSWORD = "smoke-test-password-1234"

SEED = f"""
import json
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.factories import make_melding, make_org
org = make_org()
org.caseworker.set_password({PASSWORD!r})
org.caseworker.save(update_fields=["password"])
TOTPDevice.objects.create(user=org.caseworker, name="smoke", confirmed=True, key={TOTP_KEY!r})
melding = make_melding(org)
print("SMOKE " + json.dumps({{"username": org.caseworker.username, "code": str(melding.code),
      "given_name": melding.person.given_name}}))
"""


def production_env(tmp: Path) -> dict:
    """The README's production environment, nothing from the test process's own settings."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": f"sqlite:///{tmp / 'smoke.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DJANGO_TRUST_X_FORWARDED_PROTO": "1",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def totp(key_hex: str) -> str:
    counter = int(time.time()) // 30
    mac = hmac.new(bytes.fromhex(key_hex), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset:offset + 4], 'big') & 0x7FFFFFFF) % 10**6:06d}"


def run(args, env, timeout):
    result = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args[2:]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


class Browser:
    """Just enough of a browser behind a TLS proxy: a cookie jar, Origin/Referer, X-Forwarded-Proto."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.set_cookies = {}  # name -> the raw Set-Cookie header last seen

    def request(self, method, path, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update({
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{HOST}",
                "Referer": f"https://{HOST}{path}",
            })
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            self.set_cookies[name] = raw
            if "max-age=0" in raw.lower() or value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def csrf_token(self):
        return self.cookies["__Host-csrftoken"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    env = production_env(tmp)
    python = sys.executable
    # collectstatic and the database are independent: prepare both at once.
    collect = subprocess.Popen(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        seeded = run([python, "manage.py", "shell", "-c", SEED], env, timeout=120)
        out, err = collect.communicate(timeout=120)
    finally:
        if collect.poll() is None:
            collect.kill()
            collect.wait(10)
    assert collect.returncode == 0, f"collectstatic failed with the production settings:\n{err[-3000:]}"
    seed = json.loads(next(line for line in seeded.stdout.splitlines() if line.startswith("SMOKE "))[6:])

    access_log = tmp / "access.log"
    with gunicorn(env, tmp / "gunicorn.log", "--access-logfile", str(access_log), "--error-logfile", "-") as port:
        yield {"port": port, "access_log": access_log, "log": tmp / "gunicorn.log", **seed}


@pytest.fixture(scope="module")
def caseworker(server):
    """A browser logged in as the caseworker: login page, password, TOTP code."""
    browser = Browser(server["port"])
    login = browser.request("GET", "/accounts/login/")
    assert login.status == 200, login.text[:2000]
    response = browser.request(
        "POST", "/accounts/login/",
        {"csrfmiddlewaretoken": browser.csrf_token(), "username": server["username"], "password": PASSWORD, "next": "/"},
    )
    assert response.status == 302, response.text[:2000]
    # The password alone leads to the second-factor page, wherever the redirect goes first.
    path = response.getheader("Location")
    for _ in range(5):
        page = browser.request("GET", path)
        if page.status != 302:
            break
        path = page.getheader("Location")
    assert page.status == 200 and 'name="token"' in page.text, (path, page.status, page.text[:2000])
    response = browser.request("POST", path, {"csrfmiddlewaretoken": browser.csrf_token(), "token": totp(TOTP_KEY)})
    assert response.status == 302, response.text[:2000]
    assert "otp" not in response.getheader("Location")
    return browser


class ProductionBuildTests:
    def test_it_serves_the_login_page_with_the_security_headers(self, server):
        browser = Browser(server["port"])
        response = browser.request("GET", "/accounts/login/")
        assert response.status == 200
        csp = response.getheader("Content-Security-Policy")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.getheader("Permissions-Policy")
        assert response.getheader("Cache-Control") == "no-store"
        assert response.getheader("Strict-Transport-Security")

    def test_it_serves_the_hashed_static_files(self, server):
        browser = Browser(server["port"])
        page = browser.request("GET", "/accounts/login/").text
        css = next(part.split('"')[0] for part in page.split('href="')[1:] if part.startswith("/static/samhandling/app."))
        assert css != "/static/samhandling/app.css"  # the manifest's hashed name
        assert browser.request("GET", css).status == 200

    def test_it_sets_the_csrf_cookie_with_the_host_prefix(self, server):
        browser = Browser(server["port"])
        browser.request("GET", "/accounts/login/")
        raw = browser.set_cookies["__Host-csrftoken"].lower()
        assert "secure" in raw and "samesite=lax" in raw and "path=/" in raw and "domain=" not in raw

    def test_it_sets_the_session_cookie_with_the_host_prefix(self, caseworker):
        raw = caseworker.set_cookies["__Host-sessionid"].lower()
        assert "secure" in raw and "httponly" in raw and "samesite=lax" in raw and "path=/" in raw and "domain=" not in raw
        assert "sessionid" not in caseworker.cookies

    def test_it_shows_the_caseworker_the_melding_without_caching(self, server, caseworker):
        response = caseworker.request("GET", f"/concerns/{server['code']}/")
        assert response.status == 200, response.text[:2000]
        assert server["given_name"] in response.text
        assert response.getheader("Cache-Control") == "no-store"
        assert "script-src 'self'" in response.getheader("Content-Security-Policy")

    def test_it_serves_viewflows_task_pages(self, caseworker):
        response = caseworker.request("GET", "/workflow/queue/")
        assert response.status == 200, response.text[:2000]
        assert response.getheader("Cache-Control") == "no-store"

    def test_it_answers_a_missing_page_with_404(self, caseworker):
        assert caseworker.request("GET", f"/concerns/{uuid.uuid4()}/").status == 404

    def test_it_redirects_plain_http_to_https(self, server):
        connection = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
        try:
            connection.request("GET", "/accounts/login/", headers={"Host": HOST})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        assert response.status == 301
        assert response.getheader("Location").startswith(f"https://{HOST}/")

    def test_it_keeps_query_strings_out_of_the_access_log(self, server, caseworker):
        caseworker.request("GET", "/concerns/?q=Hansen")
        Browser(server["port"]).request("GET", "/accounts/login/?next=/concerns/%3Fq%3DHansen&q=Hansen")
        deadline = time.monotonic() + 5
        while "/accounts/login/" not in server["access_log"].read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server["access_log"].read_text()
        assert "GET /concerns/ HTTP" in log
        assert "Hansen" not in log and "?" not in log
        assert "Hansen" not in server["log"].read_text()
