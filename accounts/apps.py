from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = _("Login")

    def ready(self):
        from . import signals  # noqa: F401  (records the login method on the session)


class SamhandlingAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the site that requires the second factor and the one login page."""

    default = False
    default_site = "accounts.admin_site.SamhandlingAdminSite"


class AxesConfig(AxesAppConfig):
    """django-axes under a name in the user's language in the admin (axes names its app nothing)."""

    default = False
    verbose_name = _("Login lockout")
