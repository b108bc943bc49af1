"""The one path by which a person's data reaches another service."""
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import access_log_write
from consent.models import Disclosure
from referrals import permissions
from referrals.models import Service

OPPLYSNINGSPLIKT_RECIPIENTS = {Service.Kind.BARNEVERN}


class NoLegalBasis(ValidationError):
    """Raised when a disclosure has no lawful basis; nothing has been shared."""


@transaction.atomic
def disclosure_record(
    *,
    obj,
    person,
    from_service: Service,
    to_service: Service,
    basis: str,
    purpose: str,
    perm: str,
    user,
    legal_reference: str = "",
) -> Disclosure:
    """Record why sharing ``obj`` with ``to_service`` is lawful, and grant ``perm`` on it.

    The ledger row, the object permission and the audit row are written in one transaction.
    Raises NoLegalBasis (a translated ValidationError) and shares nothing when the basis does not hold.
    """
    if basis == Disclosure.Basis.OPPLYSNINGSPLIKT:
        if to_service.kind not in OPPLYSNINGSPLIKT_RECIPIENTS:
            raise NoLegalBasis(_("The duty to report (opplysningsplikt) only covers reports to the child welfare service."))
    elif basis == Disclosure.Basis.STATUTORY:
        if not legal_reference.strip():
            raise NoLegalBasis(_("Cite the statutory basis (law and section) for this disclosure."))
    elif basis == Disclosure.Basis.CONSENT:
        raise NoLegalBasis(_("There is no active consent covering this recipient and purpose."))
    else:
        raise NoLegalBasis(_("Choose the legal basis for sharing this information."))

    disclosure = Disclosure.objects.create(
        person=person,
        subject_type=ContentType.objects.get_for_model(obj),
        subject_id=obj.pk,
        from_service=from_service,
        to_service=to_service,
        basis=basis,
        legal_reference=legal_reference,
        purpose=purpose,
        permission=perm,
        disclosed_by=user,
    )
    permissions.grant_to_service(perm=perm, obj=obj, service=to_service)
    access_log_write(user=user, action="disclose", obj=obj, person=person, purpose=purpose, service=from_service)
    return disclosure
