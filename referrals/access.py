"""The access helpers: fetch an object for a user, or 404 for both missing and forbidden.

Existence never leaks: a forged or foreign code gets exactly the answer a random code gets.
"""
import uuid

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.db.models.lookups import IsNull
from django.http import Http404
from guardian.models import GroupObjectPermission

from referrals.models import BreakGlassAccess, Concern, Contact, Membership, Person, Referral, Service

REPORTER_PERM = "view_concern_status"
HANDLER_PERM = "handle_concern"


def code_as_uuid(code):
    """A code from a URL as a UUID; Http404 for anything else (a forged code answers like a missing one)."""
    try:
        return uuid.UUID(str(code))
    except (TypeError, ValueError):
        raise Http404


_as_uuid = code_as_uuid


def object_perms(user, obj) -> set[str]:
    """The codenames the user holds on ``obj`` through the groups of their services.

    Deliberately not guardian's ObjectPermissionChecker nor ``user.has_perm``: both answer "every
    permission" for a superuser, and superuser status must open no case (a technical administrator
    reaches a case only by breaking the glass, which is logged as such).
    """
    if not user.is_authenticated or not user.is_active:
        return set()
    ct = ContentType.objects.get_for_model(obj)
    return set(
        GroupObjectPermission.objects.filter(content_type=ct, object_pk=str(obj.pk), group_id__in=member_group_ids(user))
        .values_list("permission__codename", flat=True)
    )


def member_group_ids(user) -> list[int]:
    """The permission groups of the active services the user is an active member of.

    Never the user's raw group list: a group added to a user by hand (an administrator adding
    themselves in the admin) or the group of a deactivated service opens nothing.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    return list(
        Membership.objects.filter(user=user, active=True, service__active=True, service__group__isnull=False)
        .values_list("service__group_id", flat=True)
    )


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
        .filter(code=_as_uuid(code))
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


def permitted_ids_subquery(user, model, codename: str):
    """A filter expression, true for rows on which one of the user's groups holds ``codename``.

    Meant as a per-row filter on a list already narrowed and ordered by its own index: each
    candidate row costs one lookup on guardian's (group, content type, object_pk) index.
    Never drive a query from the permission table with a cast join (a 9 ms query became 124 ms).

    It is a scalar subquery (``(SELECT … LIMIT 1) IS NOT NULL``), not ``EXISTS``, on purpose:
    PostgreSQL turns an EXISTS into a semi-join, cannot estimate the join on the text-cast key, and
    then hash-joins every permission row of the group, or compares each candidate with each of them
    (the intake list took 42 s at 100,000 concerns; see bench/bench_concern_lists.py). A scalar
    subquery stays a per-row lookup, so a page reads one page of candidates.
    """
    ct = ContentType.objects.get_for_model(model)
    permission = Permission.objects.filter(content_type=ct, codename=codename).order_by().values("id")[:1]
    granted = GroupObjectPermission.objects.filter(
        content_type=ct,
        permission_id=Subquery(permission),
        group_id__in=member_group_ids(user),
        object_pk=Cast(OuterRef("pk"), CharField()),
    ).order_by().values("pk")[:1]
    return IsNull(Subquery(granted), False)


def user_services(user, *, role: str | None = None):
    qs = Service.objects.filter(memberships__user=user, memberships__active=True, active=True)
    if role:
        qs = qs.filter(memberships__role=role)
    return qs.distinct().order_by("name")


def user_is_privacy_function(user) -> bool:
    """Whether the user acts as the municipality's privacy function: an active member of an active
    service of kind "personvern". Superuser status does not make anyone the privacy function."""
    if not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, active=True, service__active=True, service__kind=Service.Kind.PERSONVERN
    ).exists()


def privacy_services(user):
    """The privacy-function services the user is an active member of."""
    return user_services(user).filter(kind=Service.Kind.PERSONVERN)


def user_is_leader_of(user, service: Service) -> bool:
    return Membership.objects.filter(user=user, service=service, role=Membership.Role.LEADER, active=True).exists()


def service_get_for_user(user, code) -> Service:
    """A service the user is an active member of, or Http404."""
    service = user_services(user).filter(code=_as_uuid(code)).first()
    if service is None:
        raise Http404
    return service


REFERRAL_ROLES = {"view_referral_status": "sender", "handle_referral": "handler", "route_referral": "router"}


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
    referral = (
        Referral.objects.select_related("person", "sender_service", "target_service", "routing_service", "contact")
        .filter(code=_as_uuid(code))
        .first()
    )
    if referral is None:
        raise Http404
    roles = referral_roles(user, referral)
    if not roles or (role is not None and role not in roles):
        raise Http404
    return referral, roles


def referral_get_for_process(user, process_pk: int) -> Referral:
    referral = Referral.objects.filter(process__pk=process_pk).first()
    if referral is None or not ({"handler", "router"} & referral_roles(user, referral)):
        raise Http404
    return referral


def contact_get_for_user(user, code) -> Contact:
    contact = Contact.objects.select_related("person", "service").filter(code=_as_uuid(code)).first()
    if contact is None or "handle_contact" not in object_perms(user, contact):
        raise Http404
    return contact


def consent_get_for_user(user, code):
    """A consent the user's service is responsible for, or Http404."""
    from consent.models import Consent

    consent = Consent.objects.select_related("person", "recorded_by_service").filter(code=_as_uuid(code)).first()
    if consent is None or "manage_consent" not in object_perms(user, consent):
        raise Http404
    return consent


def person_services_with_role(person: Person):
    """Services that hold a role in a case of the person: they registered a contact or consent,
    or a live disclosure, concern or referral of the person reached or came from them."""
    from consent.models import Consent, Disclosure

    ids = set(Contact.objects.filter(person=person).values_list("service_id", flat=True))
    ids |= set(Consent.objects.filter(person=person).values_list("recorded_by_service_id", flat=True))
    live = Disclosure.objects.filter(person=person, revoked_at__isnull=True, status=Disclosure.Status.IN_FORCE)
    ids |= set(live.values_list("to_service_id", flat=True)) | set(live.values_list("from_service_id", flat=True))
    ids |= set(Concern.objects.filter(person=person).values_list("reporting_service_id", flat=True))
    ids |= set(Referral.objects.filter(person=person).values_list("sender_service_id", flat=True))
    return ids


def person_acting_service(user, person: Person, *, leader: bool = False) -> Service | None:
    """The user's service (first by name) through which they hold a role with ``person``; None if none.

    With ``leader``, only services the user leads count.
    """
    memberships = Membership.objects.filter(user=user, active=True, service_id__in=person_services_with_role(person))
    if leader:
        memberships = memberships.filter(role=Membership.Role.LEADER)
    membership = memberships.select_related("service").order_by("service__name").first()
    return membership.service if membership else None


def person_get_for_user(user, code, *, leader: bool = False) -> Person:
    """A person the user's service holds a role with (a leader of it, if ``leader``), or Http404."""
    person = Person.objects.filter(code=_as_uuid(code), merged_into__isnull=True).first()
    if person is None or not user.is_authenticated or person_acting_service(user, person, leader=leader) is None:
        raise Http404
    return person
