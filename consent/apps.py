from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Consent and legal basis")

    def ready(self):
        from django.db.models import Q

        from consent import checks  # noqa: F401  (registers the system checks)

        from people.holders import Holding, register

        register(
            # The service that recorded a consent holds a role with the person.
            Holding("consent.Consent", services=("recorded_by_service",)),
            # A disclosure in force gives both ends a role; a revoked or pending one gives none.
            Holding("consent.Disclosure", services=("from_service", "to_service"), held=Q(status="in_force"),
                    live=Q(revoked_at__isnull=True, status="in_force"), starts="disclosed_at", ends="revoked_at"),
            # A request for access (GDPR art. 15) is the person's; it gives the privacy function no case role.
            Holding("consent.AccessRequest"),
            # The guardians who gave a consent on a child's behalf (the many-to-many's rows).
            Holding("consent.Consent_guardians"),
        )
