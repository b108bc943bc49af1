"""The consent access helper: a consent the user's service is responsible for, or 404."""
from django.http import Http404

from consent.models import Consent
from org.access import code_as_uuid, member_group_ids, permitted_ids_subquery
from org.permissions import CONSENT_MANAGER, codename


def consent_get_for_user(user, code, *, queryset=None) -> Consent:
    """A consent the user's service is responsible for, or Http404; from ``queryset`` (a page's
    annotated consents) when given. One query: the permission is asked of the row
    (org.access.permitted_ids_subquery)."""
    consent_code = code_as_uuid(code)
    if not member_group_ids(user):
        raise Http404
    consent = (
        (Consent.objects.all() if queryset is None else queryset)
        .select_related("person", "recorded_by_service").filter(code=consent_code)
        .annotate(user_manages=permitted_ids_subquery(user, Consent, codename(CONSENT_MANAGER)))
        .first()
    )
    if consent is None or not consent.user_manages:
        raise Http404
    return consent
