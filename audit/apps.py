from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Audit")

    def ready(self):
        from audit.services import access_log_write
        from org.recording import register_access_log_writer

        # Membership and person changes in the kernel apps are logged through this writer.
        register_access_log_writer(access_log_write)

        from people.holders import Holding, register

        register(Holding("audit.AccessLog", merge=False,
                         kept_because="the access log is append-only and hash-chained: it says whom a read concerned then"))
