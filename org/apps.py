from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "org"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Organisation")

    def ready(self):
        from org import checks  # noqa: F401  (registers the system checks)
        from org.choices import choice_displays_install

        choice_displays_install()
