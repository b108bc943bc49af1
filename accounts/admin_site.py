from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse

from .second_factor import second_factor_satisfied


class SamhandlingAdminSite(admin.AdminSite):
    """Django's admin behind the one login page (lockout, second factor) and the second factor itself."""

    def has_permission(self, request):
        return super().has_permission(request) and second_factor_satisfied(request)

    def login(self, request, extra_context=None):
        # Never authenticates here, so a POST of credentials to /admin/login/ logs nobody in:
        # every login goes through the site's login page and its lockout and second factor.
        if request.user.is_authenticated:
            # Logged in (and verified, or the middleware would have sent them to the code page)
            # but no staff user: the admin does not exist for them.
            raise Http404
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("login"))
