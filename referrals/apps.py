from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Case records")

    def ready(self):
        from people.holders import Holding, register

        # An emergency access names the person it read; it gives no role (it is not a case).
        register(Holding("referrals.BreakGlassAccess"))
