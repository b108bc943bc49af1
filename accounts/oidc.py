"""Login through OpenID Connect (mozilla-django-oidc): ID-porten, Entra ID, Feide or HelseID.

Configured from the environment (see config/settings.py, "Login"); on only when settings.OIDC_ENABLED.
The provider's endpoints come from explicit settings or from its discovery document. A login maps
the identity to an existing user through ExternalIdentity (issuer, settings.OIDC_USER_CLAIM, value)
and never creates a user or a membership. State, nonce and PKCE (S256) are always used, and the id
token's issuer and audience are checked (mozilla-django-oidc checks neither).
"""
import logging
import time
import uuid
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

logger = logging.getLogger(__name__)

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600
_discovery_cache: dict[str, tuple[float, dict]] = {}

REFUSAL_UNKNOWN_IDENTITY = "unknown_identity"


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str  # "" reads the claims from the id token only
    jwks_uri: str


def provider_config() -> ProviderConfig:
    """The provider's endpoints: explicit settings win over the discovery document (fetched at most
    once an hour per process). Raises ImproperlyConfigured when one is missing, and
    requests.RequestException when the discovery document cannot be read."""
    discovered = _discovery_document() if settings.OIDC_OP_DISCOVERY else {}

    def pick(setting, key):
        return getattr(settings, setting, "") or discovered.get(key, "")

    config = ProviderConfig(
        issuer=pick("OIDC_OP_ISSUER", "issuer"),
        authorization_endpoint=pick("OIDC_OP_AUTHORIZATION_ENDPOINT", "authorization_endpoint"),
        token_endpoint=pick("OIDC_OP_TOKEN_ENDPOINT", "token_endpoint"),
        userinfo_endpoint=pick("OIDC_OP_USER_ENDPOINT", "userinfo_endpoint"),
        jwks_uri=pick("OIDC_OP_JWKS_ENDPOINT", "jwks_uri"),
    )
    missing = [name for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not getattr(config, name)]
    if missing:
        raise ImproperlyConfigured(f"OpenID Connect provider configuration lacks: {', '.join(missing)}")
    return config


def _discovery_document() -> dict:
    url = settings.OIDC_OP_DISCOVERY.rstrip("/")
    if not url.endswith(DISCOVERY_SUFFIX):
        url += DISCOVERY_SUFFIX
    cached = _discovery_cache.get(url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
    response.raise_for_status()
    document = response.json()
    _discovery_cache[url] = (time.monotonic() + DISCOVERY_CACHE_SECONDS, document)
    return document


class OIDCBackend(OIDCAuthenticationBackend):
    """Authenticates the OIDC callback as an EXISTING user tied to the identity by ExternalIdentity."""

    def __init__(self, *args, **kwargs):
        # Django instantiates every backend on each authenticate() call (password logins too):
        # read no endpoints and touch no network here; authenticate() resolves them.
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.OIDC_OP_TOKEN_ENDPOINT = self.OIDC_OP_USER_ENDPOINT = self.OIDC_OP_JWKS_ENDPOINT = ""
        self.issuer = ""

    def authenticate(self, request, **kwargs):
        # Only the callback view passes the nonce it stored with the state; a password form never
        # reaches the provider through this backend.
        if request is None or not settings.OIDC_ENABLED or "nonce" not in kwargs or "username" in kwargs:
            return None
        config = provider_config()
        self.issuer = config.issuer
        self.OIDC_OP_TOKEN_ENDPOINT = config.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = config.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = config.jwks_uri
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        # kid is optional (RFC 7515): a provider with a single signing key may leave it out.
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        keys = [key for key in response.json().get("keys", []) if key.get("use", "sig") == "sig"]
        if len(keys) != 1:
            raise SuspiciousOperation("OIDC token without kid and no single signing key")
        return jwt.PyJWK(keys[0])

    def verify_token(self, token, **kwargs):
        """Signature and nonce (mozilla-django-oidc), then issuer and audience."""
        payload = super().verify_token(token, **kwargs)
        if payload.get("iss") != self.issuer:
            raise SuspiciousOperation("OIDC token from an unexpected issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("OIDC token for another audience")
        return payload

    def get_token(self, payload):
        """The token request, authenticated as settings.OIDC_RP_CLIENT_AUTH_METHOD says (client_secret_post,
        client_secret_basic through OIDC_TOKEN_USE_BASIC_AUTH, or private_key_jwt as HelseID requires)."""
        if settings.OIDC_RP_CLIENT_AUTH_METHOD == "private_key_jwt":
            payload = {key: value for key, value in payload.items() if key != "client_secret"}
            payload["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            payload["client_assertion"] = client_assertion(audience=self.issuer)
        return super().get_token(payload)

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo answer (when the provider has the endpoint) under the signed id token's claims."""
        required_acr = settings.OIDC_ACR_VALUES.split()
        if required_acr and payload.get("acr") not in required_acr:
            raise SuspiciousOperation("OIDC login below the required assurance level (acr)")
        claims = super().get_userinfo(access_token, id_token, payload) if self.OIDC_OP_USER_ENDPOINT else {}
        if claims.get("sub") and claims["sub"] != payload.get("sub"):
            raise SuspiciousOperation("OIDC userinfo for another subject")
        return {**claims, **payload}

    def verify_claims(self, claims):
        return bool(_claim_value(claims))

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(
            is_active=True,
            external_identities__issuer=claims.get("iss"),
            external_identities__claim=settings.OIDC_USER_CLAIM,
            external_identities__value=_claim_value(claims),
        ).distinct()
        if not users.exists():
            self.request.oidc_refusal = REFUSAL_UNKNOWN_IDENTITY
            logger.info("OIDC login refused: no user is linked to the identity (issuer %s)", claims.get("iss"))
        return users

    def describe_user_by_claims(self, claims):
        # Never the claim's value: it may be a national identity number.
        return f"{settings.OIDC_USER_CLAIM} @ {claims.get('iss')}"

    def create_user(self, claims):
        raise SuspiciousOperation("An OIDC login never creates a user")

    def update_user(self, user, claims):
        return user


def client_assertion(*, audience: str) -> str:
    """A short-lived JWT signed with the client's private key (RFC 7523), for private_key_jwt."""
    now = int(time.time())
    claims = {
        "iss": settings.OIDC_RP_CLIENT_ID, "sub": settings.OIDC_RP_CLIENT_ID, "aud": audience,
        "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 60,
    }
    with open(settings.OIDC_RP_PRIVATE_KEY_FILE, encoding="ascii") as key_file:
        private_key = key_file.read()
    headers = {"kid": settings.OIDC_RP_PRIVATE_KEY_ID} if settings.OIDC_RP_PRIVATE_KEY_ID else None
    return jwt.encode(claims, private_key, algorithm=settings.OIDC_RP_CLIENT_ASSERTION_ALGO, headers=headers)


def _claim_value(claims) -> str:
    value = claims.get(settings.OIDC_USER_CLAIM)
    return value if isinstance(value, str) else ""


class OIDCAuthenticateView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with state, nonce and a PKCE challenge."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)  # the parent reads endpoints from settings here

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_config().authorization_endpoint
        except requests.RequestException:
            logger.exception("OIDC discovery failed")
            messages.error(request, _("%(provider)s cannot be reached just now. Try again later.") % {"provider": settings.OIDC_PROVIDER_LABEL})
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)

    def get_extra_params(self, request):
        params = {"ui_locales": get_language()}
        if settings.OIDC_ACR_VALUES:
            params["acr_values"] = settings.OIDC_ACR_VALUES
        return params


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: logs the mapped user in, or back to the login page saying why not."""

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            return super().get(request)
        except (SuspiciousOperation, requests.RequestException) as exc:
            logger.warning("OIDC login failed: %s", exc)
            return self.login_failure()

    def login_failure(self):
        provider = settings.OIDC_PROVIDER_LABEL
        if getattr(self.request, "oidc_refusal", None) == REFUSAL_UNKNOWN_IDENTITY:
            message = _(
                "You logged in with %(provider)s, but your identity is not linked to a user in Samhandling. "
                "Ask your administrator to give you access."
            ) % {"provider": provider}
        else:
            message = _("Login with %(provider)s did not succeed. Try again.") % {"provider": provider}
        messages.error(self.request, message)
        return HttpResponseRedirect(reverse("login"))

