from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Persons")

    def ready(self):
        from people import checks  # noqa: F401  (registers the system checks)
