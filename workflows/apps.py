from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Workflows and deadlines")

    def ready(self):
        from workflows.services.referral import register_disclosure_handlers

        register_disclosure_handlers()
