"""Login through OpenID Connect against a real provider process (oidc-provider-mock).

Personas: a barnevern caseworker whose ID-porten identity (pid) an administrator has linked; a
person the provider knows but Samhandling does not (refused, nothing created).
"""
from unittest import mock
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from django.utils import translation

from accounts.models import ExternalIdentity
from accounts.oidc import OIDCBackend
from accounts.second_factor import LOGIN_METHOD_SESSION_KEY
from org.models import Membership
from tests.accounts.support import CLIENT_ID, enable_oidc, oidc_provider_process

pytestmark = pytest.mark.django_db

CASEWORKER_PID = "05917098733"  # synthetic
STRANGER_PID = "17912099997"  # synthetic


@pytest.fixture(scope="module")
def provider():
    users = [
        {"sub": "cw-sub", "pid": CASEWORKER_PID},
        {"sub": "cw-high", "pid": CASEWORKER_PID, "acr": "idporten-loa-high"},
        {"sub": "stranger-sub", "pid": STRANGER_PID},
    ]
    with oidc_provider_process(users) as url:
        yield url


@pytest.fixture
def oidc(settings, provider):
    enable_oidc(settings, provider, claim="pid")
    settings.REQUIRE_SECOND_FACTOR = True
    return provider


def provider_login(client, sub, *, next_url="/"):
    """Start at our login, choose ``sub`` at the provider, and follow the provider back to our callback."""
    start = client.get(reverse("accounts:oidc_authenticate"), {"next": next_url})
    assert start.status_code == 302, start
    answer = requests.post(start["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return client.get(answer.headers["Location"])


def link(user, provider, value=CASEWORKER_PID, claim="pid"):
    return ExternalIdentity.objects.create(user=user, issuer=provider, claim=claim, value=value)


class OIDCLoginTests:
    def test_it_logs_in_the_user_linked_to_the_identity(self, client, org, oidc):
        link(org.caseworker, oidc)
        response = provider_login(client, "cw-sub", next_url="/varsler/")
        assert response.status_code == 302 and response["Location"] == "/varsler/"
        assert int(client.session["_auth_user_id"]) == org.caseworker.pk
        assert client.session[LOGIN_METHOD_SESSION_KEY] == "oidc"

    def test_it_counts_as_strong_authentication_without_a_local_code(self, client, org, oidc):
        link(org.caseworker, oidc)
        provider_login(client, "cw-sub")
        response = client.get(reverse("notifications:index"))
        assert response.status_code == 200

    def test_it_refuses_an_unknown_identity_and_creates_nobody(self, client, org, oidc):
        link(org.caseworker, oidc)
        users_before = get_user_model().objects.count()
        memberships_before = Membership.objects.count()
        response = provider_login(client, "stranger-sub")
        assert response.status_code == 302 and response["Location"] == reverse("login")
        assert "_auth_user_id" not in client.session
        assert get_user_model().objects.count() == users_before
        assert Membership.objects.count() == memberships_before
        page = client.get(reverse("login")).content.decode()
        with translation.override("nb"):
            expected = translation.gettext("You logged in with %(provider)s, but your identity is not linked to a user in Samhandling. Ask your administrator to give you access.") % {"provider": "ID-porten"}
        assert "ikke knyttet til en bruker" in expected
        assert expected in page

    def test_it_keeps_refused_identities_from_locking_others_at_the_same_address(self, client, org, oidc, settings):
        link(org.caseworker, oidc)
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            provider_login(client, "stranger-sub")
        provider_login(client, "cw-sub")
        assert int(client.session["_auth_user_id"]) == org.caseworker.pk

    def test_it_refuses_an_identity_linked_at_another_issuer(self, client, org, oidc):
        link(org.caseworker, "https://idporten.example")
        provider_login(client, "cw-sub")
        assert "_auth_user_id" not in client.session

    def test_it_refuses_an_identity_linked_by_another_claim(self, client, org, oidc):
        link(org.caseworker, oidc, value="cw-sub", claim="sub")
        provider_login(client, "cw-sub")
        assert "_auth_user_id" not in client.session

    def test_it_refuses_an_inactive_user(self, client, org, oidc):
        link(org.caseworker, oidc)
        org.caseworker.is_active = False
        org.caseworker.save(update_fields=["is_active"])
        provider_login(client, "cw-sub")
        assert "_auth_user_id" not in client.session

    def test_it_sends_state_nonce_and_a_pkce_challenge(self, client, oidc):
        start = client.get(reverse("accounts:oidc_authenticate"))
        query = parse_qs(urlparse(start["Location"]).query)
        assert start["Location"].startswith(f"{oidc}/oauth2/authorize")
        assert query["client_id"] == [CLIENT_ID]
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
        state, nonce = query["state"][0], query["nonce"][0]
        stored = client.session["oidc_states"][state]
        assert stored["nonce"] == nonce and len(stored["code_verifier"]) >= 43

    def test_it_refuses_a_callback_with_a_state_it_did_not_send(self, client, org, oidc):
        link(org.caseworker, oidc)
        start = client.get(reverse("accounts:oidc_authenticate"))
        answer = requests.post(start["Location"], data={"sub": "cw-sub"}, allow_redirects=False, timeout=10)
        callback = urlparse(answer.headers["Location"])
        code = parse_qs(callback.query)["code"][0]
        response = client.get(callback.path, {"code": code, "state": "forged"})
        assert response.status_code == 302 and response["Location"] == reverse("login")
        assert "_auth_user_id" not in client.session

    def test_it_asks_for_and_requires_the_configured_assurance_level(self, client, org, oidc, settings):
        settings.OIDC_ACR_VALUES = "idporten-loa-high"
        link(org.caseworker, oidc)
        start = client.get(reverse("accounts:oidc_authenticate"))
        assert parse_qs(urlparse(start["Location"]).query)["acr_values"] == ["idporten-loa-high"]
        provider_login(client, "cw-sub")  # no acr in the id token
        assert "_auth_user_id" not in client.session
        provider_login(client, "cw-high")
        assert int(client.session["_auth_user_id"]) == org.caseworker.pk

    def test_it_offers_the_provider_on_the_login_page(self, client, oidc):
        page = client.get(reverse("login")).content.decode()
        assert 'data-testid="oidc-login"' in page and "ID-porten" in page


class OIDCBackendTests:
    def test_it_never_creates_a_user(self, settings):
        settings.OIDC_ENABLED = True
        with pytest.raises(SuspiciousOperation):
            OIDCBackend().create_user({"sub": "x", "email": "x@example.test"})

    def test_it_refuses_an_id_token_for_another_client(self, settings):
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        backend = OIDCBackend()
        backend.issuer = "https://op.example"
        payload = {"iss": "https://op.example", "aud": "another-client", "sub": "x"}
        with mock.patch("mozilla_django_oidc.auth.OIDCAuthenticationBackend.verify_token", return_value=payload):
            with pytest.raises(SuspiciousOperation):
                backend.verify_token("token", nonce="n")

    def test_it_refuses_an_id_token_from_another_issuer(self, settings):
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        backend = OIDCBackend()
        backend.issuer = "https://op.example"
        payload = {"iss": "https://evil.example", "aud": [CLIENT_ID], "sub": "x"}
        with mock.patch("mozilla_django_oidc.auth.OIDCAuthenticationBackend.verify_token", return_value=payload):
            with pytest.raises(SuspiciousOperation):
                backend.verify_token("token", nonce="n")

    def test_it_authenticates_the_client_with_a_signed_assertion_for_private_key_jwt(self, settings, tmp_path):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        (tmp_path / "client.pem").write_bytes(pem)
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_AUTH_METHOD = "private_key_jwt"
        settings.OIDC_RP_PRIVATE_KEY_FILE = str(tmp_path / "client.pem")
        settings.OIDC_RP_PRIVATE_KEY_ID = "key-1"
        backend = OIDCBackend()
        backend.issuer, backend.OIDC_OP_TOKEN_ENDPOINT = "https://helseid.example", "https://helseid.example/connect/token"
        answer = mock.Mock(status_code=200, json=lambda: {"id_token": "x", "access_token": "y"})
        with mock.patch("mozilla_django_oidc.auth.requests.post", return_value=answer) as post:
            backend.get_token({"client_id": CLIENT_ID, "client_secret": "", "grant_type": "authorization_code", "code": "c"})
        sent = post.call_args.kwargs["data"]
        assert "client_secret" not in sent and post.call_args.kwargs["auth"] is None
        assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        assert jwt.get_unverified_header(sent["client_assertion"])["kid"] == "key-1"
        claims = jwt.decode(sent["client_assertion"], key.public_key(), algorithms=["RS256"], audience="https://helseid.example")
        assert claims["iss"] == claims["sub"] == CLIENT_ID and claims["exp"] - claims["iat"] == 60

    def test_it_ignores_a_password_login(self, settings, rf):
        settings.OIDC_ENABLED = True
        assert OIDCBackend().authenticate(rf.get("/?code=c&state=s"), username="u", password="p") is None


class OIDCOffTests:
    def test_it_is_off_when_not_configured(self, client, settings):
        assert settings.OIDC_ENABLED is False
        assert "accounts.oidc.OIDCBackend" not in settings.AUTHENTICATION_BACKENDS
        assert client.get(reverse("accounts:oidc_authenticate")).status_code == 404
        assert client.get(reverse("accounts:oidc_callback"), {"code": "c", "state": "s"}).status_code == 404
        assert 'data-testid="oidc-login"' not in client.get(reverse("login")).content.decode()
