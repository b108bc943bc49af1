def client_ip(request):
    """The client address axes locks on: REMOTE_ADDR only. A proxy's forwarded header is used only
    where the platform's proxy setting has already put it into REMOTE_ADDR (opt-in)."""
    return request.META.get("REMOTE_ADDR")


def not_a_password_login(request, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: axes neither counts nor locks the OpenID Connect callback.

    It carries no guessable secret (a single-use code bound to PKCE and the session's state), and
    counting its refusals without a user name would lock everyone behind one address (an office's
    NAT) out of OIDC after a few unknown identities.
    """
    from django.urls import reverse

    return request is not None and getattr(request, "path_info", None) == reverse("accounts:oidc_callback")
