from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Workflows and deadlines")

    def ready(self):
        from workflows import checks  # noqa: F401  (registers the registry's system checks: complete entries, known home kinds)
        from workflows.processes import register_consent_hooks, register_delivery_gates, register_persons, register_service_facts
        from workflows.referral.services import register_disclosure_handlers

        register_persons()
        register_service_facts()
        register_consent_hooks()
        register_delivery_gates()
        register_disclosure_handlers()
