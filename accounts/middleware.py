import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .second_factor import second_factor_satisfied


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]):
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _admin_prefix() -> str:
    return reverse("admin:index")


class AdminNetworkMiddleware:
    """/admin/ answers 404 outside settings.ADMIN_ALLOWED_NETWORKS (CIDRs; empty = anywhere).

    Reads REMOTE_ADDR only: a forwarded header counts only where the proxy setting has put it there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        networks = _networks(tuple(settings.ADMIN_ALLOWED_NETWORKS))
        if networks and request.path_info.startswith(_admin_prefix()) and not _inside(request.META.get("REMOTE_ADDR"), networks):
            raise Http404
        return self.get_response(request)


def _inside(address, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


class SecondFactorMiddleware:
    """Sends a user logged in with a password but not yet verified with a TOTP code to the
    verification page (or enrolment, when they have no device yet) for every other URL.

    Only logout, static files, the language switch and the second-factor pages themselves are
    open before that. Must come after django_otp.middleware.OTPMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not second_factor_satisfied(request) and not _open_path(request.path_info):
            # Only the path as "next": a query string may carry a search term (no URL carries personal data).
            return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.path})}")
        return self.get_response(request)


def _open_path(path: str) -> bool:
    open_paths = (reverse("logout"), reverse("accounts:otp_verify"), reverse("accounts:otp_setup"))
    prefixes = ("/" + settings.STATIC_URL.lstrip("/"), reverse("set_language").rsplit("/", 2)[0] + "/")
    return path in open_paths or path.startswith(prefixes)
