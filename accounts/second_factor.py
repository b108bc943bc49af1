"""Whether the current session satisfies the second-factor rule.

A login through OpenID Connect is strong authentication by itself (the provider did the second
factor). A password login needs a verified TOTP device in the session (django-otp's
``request.user.is_verified()``), unless settings.REQUIRE_SECOND_FACTOR is off (demo mode only).
"""
from django.conf import settings

LOGIN_METHOD_SESSION_KEY = "samhandling_login_method"
METHOD_OIDC = "oidc"
METHOD_PASSWORD = "password"


def login_method(request) -> str | None:
    """The recorded login method of the session: "oidc", "password" or None (not recorded)."""
    return request.session.get(LOGIN_METHOD_SESSION_KEY)


def is_strongly_authenticated(request) -> bool:
    """True for an OIDC login or a password login verified with a TOTP code in this session.

    A session without a recorded login method counts as a password login: nothing skips the check.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if login_method(request) == METHOD_OIDC:
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_satisfied(request) -> bool:
    """True when the authenticated user may use the application (and /admin/) in this session."""
    if not settings.REQUIRE_SECOND_FACTOR:
        return True
    return is_strongly_authenticated(request)
