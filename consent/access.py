"""The consent access helper: a consent the user's service is responsible for, or 404."""
from django.http import Http404

from consent.models import Consent
from org.access import code_as_uuid, object_perms
from org.permissions import CONSENT_MANAGER, codename


def consent_get_for_user(user, code) -> Consent:
    """A consent the user's service is responsible for, or Http404."""
    consent = Consent.objects.select_related("person", "recorded_by_service").filter(code=code_as_uuid(code)).first()
    if consent is None or codename(CONSENT_MANAGER) not in object_perms(user, consent):
        raise Http404
    return consent
