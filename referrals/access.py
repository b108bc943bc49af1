"""The access helpers: fetch an object for a user, or 404 for both missing and forbidden.

Existence never leaks: a forged or foreign code gets exactly the answer a random code gets.
"""
from django.contrib.contenttypes.models import ContentType
from django.http import Http404

from org.access import code_as_uuid, member_group_ids, object_perms, permitted_ids_subquery
from org.permissions import CONCERN_HANDLER, CONCERN_REPORTER, CONTACT_HANDLER, REFERRAL_HANDLER, REFERRAL_ROUTER, REFERRAL_SENDER, codename
from referrals.models import BreakGlassAccess, Concern, Contact, Referral

REPORTER_PERM = codename(CONCERN_REPORTER)
HANDLER_PERM = codename(CONCERN_HANDLER)




def break_glass_active(user, obj) -> BreakGlassAccess | None:
    """The user's unexpired emergency access to ``obj``, if any (see break_glass_open)."""
    if not user.is_authenticated or not user.is_active:
        return None
    from django.utils import timezone

    return (
        BreakGlassAccess.objects.filter(
            user=user, subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk,
            expires_at__gt=timezone.now(), ended_at__isnull=True,
        )
        .order_by("-expires_at")
        .first()
    )


# The role a user holds through an emergency access: read only, never a step of the case.
EMERGENCY = "emergency"


def case_get_for_user(queryset, code, roles_of, role: str | None = None):
    """The one shape of a case's access helper: the row of ``queryset`` with ``code`` and the
    user's roles on it (``roles_of(row)``, a set). Http404 when the code is malformed or unknown,
    when the user holds no role, or, with ``role``, when they lack that one: missing and forbidden
    answer alike. Returns ``(row, roles)``."""
    row = queryset.filter(code=code_as_uuid(code)).first()
    if row is None:
        raise Http404
    roles = roles_of(row)
    if not roles or (role is not None and role not in roles):
        raise Http404
    return row, roles


def concern_roles(user, concern: Concern) -> set[str]:
    """Which of "reporter" and "handler" the user holds on the concern (through a service group);
    {"emergency"} when they hold none but have broken the glass for it."""
    perms = object_perms(user, concern)
    roles = set()
    if REPORTER_PERM in perms:
        roles.add("reporter")
    if HANDLER_PERM in perms:
        roles.add("handler")
    if not roles and break_glass_active(user, concern):
        roles.add(EMERGENCY)
    return roles


def concern_get_for_user(user, code, *, role: str | None = None) -> tuple[Concern, set[str]]:
    """The concern with ``code`` and the user's roles on it; Http404 if missing or not permitted.

    ``role`` ("reporter" or "handler") narrows which role the caller requires.
    """
    concern = (
        Concern.objects.select_related("reporting_service", "receiving_service", "person", "created_by")
        .filter(code=code_as_uuid(code))
        .first()
    )
    if concern is None:
        raise Http404
    roles = concern_roles(user, concern)
    if not roles or (role is not None and role not in roles):
        raise Http404
    return concern, roles


def concern_get_for_process(user, process_pk: int) -> Concern:
    """The concern behind a viewflow process the user may see, or Http404 (an emergency access
    reads the concern page only, never viewflow's task pages)."""
    concern = Concern.objects.filter(process__pk=process_pk).first()
    if concern is None or not (concern_roles(user, concern) - {EMERGENCY}):
        raise Http404
    return concern


def concern_process_check(user, process_pk: int) -> Concern:
    """viewflow's pages of a concern process: its handlers only, else Http404. Reporters see status
    and feedback on the concern page, never barnevern's process, and an emergency access reads the
    concern page only. One query: the concern with whether the user's groups hold the handler
    permission on it (the check of ``concern_roles``, asked of the row)."""
    if not member_group_ids(user):
        raise Http404
    concern = (
        Concern.objects.filter(process__pk=process_pk)
        .annotate(user_handles=permitted_ids_subquery(user, Concern, HANDLER_PERM))
        .first()
    )
    if concern is None or not concern.user_handles:
        raise Http404
    return concern


REFERRAL_ROLES = {codename(REFERRAL_SENDER): "sender", codename(REFERRAL_HANDLER): "handler", codename(REFERRAL_ROUTER): "router"}


def referral_roles(user, referral: Referral) -> set[str]:
    """Which of "sender", "handler" and "router" the user holds on the referral (through a service
    group); {"emergency"} when they hold none but have broken the glass for it."""
    perms = object_perms(user, referral)
    roles = {role for perm, role in REFERRAL_ROLES.items() if perm in perms}
    if not roles and break_glass_active(user, referral):
        roles.add(EMERGENCY)
    return roles


def referral_get_for_user(user, code, *, role: str | None = None) -> tuple[Referral, set[str]]:
    """The referral with ``code`` and the user's roles on it; Http404 if missing or not permitted."""
    return case_get_for_user(
        Referral.objects.select_related("person", "sender_service", "target_service", "routing_service", "contact"),
        code, lambda referral: referral_roles(user, referral), role,
    )


def referral_get_for_process(user, process_pk: int) -> Referral:
    referral = Referral.objects.filter(process__pk=process_pk).first()
    if referral is None or not ({"handler", "router"} & referral_roles(user, referral)):
        raise Http404
    return referral


def contact_get_for_user(user, code) -> Contact:
    """The contact with ``code`` if the user's groups hold the contact permission on it, else
    Http404. One query: the permission is asked of the row (org.access.permitted_ids_subquery)."""
    contact_code = code_as_uuid(code)
    if not member_group_ids(user):
        raise Http404
    contact = (
        Contact.objects.select_related("person", "service", "created_by").filter(code=contact_code)
        .annotate(user_handles=permitted_ids_subquery(user, Contact, codename(CONTACT_HANDLER)))
        .first()
    )
    if contact is None or not contact.user_handles:
        raise Http404
    return contact
