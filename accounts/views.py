"""Login pages: the password login (with the OIDC button), the TOTP verification and enrolment."""
import math

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache

from . import services
from .forms import TokenForm
from .second_factor import is_strongly_authenticated


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        context["oidc_provider_label"] = settings.OIDC_PROVIDER_LABEL
        if settings.OIDC_ENABLED:
            next_url = self.get_redirect_url()
            context["oidc_login_url"] = reverse("accounts:oidc_authenticate") + (f"?{urlencode({'next': next_url})}" if next_url else "")
        return context


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


@never_cache
@login_required
def otp_verify(request):
    next_url = _next_url(request)
    if is_strongly_authenticated(request):
        return redirect(next_url)
    if not services.totp_devices_confirmed(user=request.user).exists():
        return redirect(_with_next("accounts:otp_setup", next_url))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_verify(request=request, token=form.cleaned_data["token"])
        except services.SecondFactorError as exc:
            form.add_error("token", str(exc))
        else:
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def otp_setup(request):
    next_url = _next_url(request)
    if is_strongly_authenticated(request):
        return redirect(next_url)
    try:
        device = services.totp_device_for_enrolment(user=request.user)
    except services.SecondFactorError:
        return redirect(_with_next("accounts:otp_verify", next_url))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_device_confirm(request=request, device=device, token=form.cleaned_data["token"])
        except services.SecondFactorError as exc:
            form.add_error("token", str(exc))
        else:
            return redirect(next_url)
    return render(request, "accounts/otp_setup.html", {
        "form": form,
        "next": next_url,
        "qr_svg": services.totp_qr_svg(device),
        "key": services.totp_key_for_display(device),
    })


def lockout(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): a translated page, 429."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = math.ceil(cooloff.total_seconds() / 60) if cooloff else None
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
