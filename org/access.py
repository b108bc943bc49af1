"""Who belongs to which service, and what a user holds on an object through their services.

Access is only ever through the active memberships of active services: never a user's raw group
list, never ``has_perm`` (which answers "everything" for a superuser), never an identity number.
"""
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Subquery
from django.db.models.functions import Cast
from django.db.models.lookups import IsNull
from django.core.exceptions import ValidationError
from django.http import Http404
from guardian.models import GroupObjectPermission

from org.compiled import CompiledQuery
from org.models import Membership, Service, ServiceKindSetting


def code_as_uuid(code):
    """A code from a URL as a UUID; Http404 for anything else (a forged code answers like a missing one)."""
    try:
        return uuid.UUID(str(code))
    except (TypeError, ValueError):
        raise Http404


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


def active_memberships(user, *, role: str | None = None):
    """The user's memberships that open anything: active, of an active service, of an active user.

    The one rule of "a member": every check of membership reads it, or ``active_members`` (the same
    rule seen from a service); an ended membership or a deactivated service opens nothing, whatever
    the user's groups say.
    """
    if not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    memberships = active_memberships_of_user(user.pk)
    return memberships.filter(role=role) if role else memberships


def active_memberships_of_user(user_id):
    """The rule of ``active_memberships`` for an active user's id."""
    return Membership.objects.filter(user_id=user_id, active=True, service__active=True)


def active_members(service: Service, *, role: str | None = None):
    """The memberships of ``service`` that count (the same rule, seen from the service): active, of
    an active user; none at all while the service is deactivated."""
    return active_members_of([service.pk], role=role)


def active_members_of(service_ids, *, role: str | None = None):
    """``active_members`` of several services at once (``service_ids``)."""
    memberships = Membership.objects.filter(service_id__in=service_ids, active=True, user__is_active=True, service__active=True)
    return memberships.filter(role=role) if role else memberships


def is_member(user, service: Service | None, *, role: str | None = None) -> bool:
    """Whether ``user`` is an active member (a leader, with ``role=LEADER``) of the active ``service``
    (from the request's membership facts, read once per request)."""
    if service is None:
        return False
    return any(s.pk == service.pk and (role is None or r == role) for s, r in member_facts(user).memberships)


def require_member(user, service: Service | None, message, *, role: str | None = None) -> None:
    """Raise a ValidationError with ``message`` unless ``user`` is an active member of ``service``
    (a leader, with ``role=LEADER``): code "not_leader" for a missing role, else "not_member"."""
    if not is_member(user, service, role=role):
        raise ValidationError(str(message), code="not_leader" if role == Membership.Role.LEADER else "not_member")


@dataclass(frozen=True)
class MemberFacts:
    """What the user's active memberships say (the rule of ``active_memberships``), read at once:
    ``memberships`` as (service, role), by service name; ``reporting_kinds``, the kinds among them
    that may report concerns (org.ServiceKindSetting, read in the same query: the menu asks it on
    every page, and an administrator's change to a setting shows on the next request)."""

    memberships: tuple = ()
    reporting_kinds: frozenset = frozenset()
    # Registered service facts (service_fact_register): {name: the user's services for which it holds}.
    service_facts: dict = field(default_factory=dict)

    def services_where(self, fact: str) -> frozenset[int]:
        """The user's services of which the registered ``fact`` holds (read with the memberships)."""
        return self.service_facts.get(fact, frozenset())

    @property
    def service_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(service.pk for service, _role in self.memberships))

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(service.kind for service, _role in self.memberships)

    @property
    def group_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(s.group_id for s, _role in self.memberships if s.group_id is not None))

    @property
    def leader_service_ids(self) -> tuple[int, ...]:
        return tuple(service.pk for service, role in self.memberships if role == Membership.Role.LEADER)

    def first_service(self, among, *, leader: bool = False) -> Service | None:
        """The first service by name among the ids ``among`` the user is a member (a leader) of."""
        for service, role in self.memberships:
            if service.pk in among and (not leader or role == Membership.Role.LEADER):
                return service
        return None


REQUEST_MEMO = "_samhandling_request_memo"


def remember_for_request(user) -> None:
    """Let the membership facts of ``user``, the request's own user object, be read once per
    request. Called by the middleware for the logged-in user of each request: Django loads that
    object afresh for every request, so nothing outlives it. Any other user object (a service's
    argument, a task's, a test's persona) keeps asking the database each time."""
    if getattr(user, "is_authenticated", False):
        setattr(user, REQUEST_MEMO, {})


def request_memo(user) -> dict | None:
    """The per-request memo of the request's own user (see ``remember_for_request``); None for any
    other user object, which must ask the database every time."""
    return getattr(user, REQUEST_MEMO, None)


# Facts of a service that a page asks of the user's every service on every request (the menu's),
# registered by the apps above this one: name -> a function returning a boolean expression over the
# membership row (OuterRef("service_id")), read in the membership query itself (no query of its own).
_SERVICE_FACTS: dict[str, Callable] = {}


def service_fact_register(name: str, expression: Callable) -> None:
    """Read the boolean ``expression()`` (over a membership's ``OuterRef("service_id")``) with every
    user's memberships; MemberFacts.services_where(name) answers it. Called at start-up."""
    _SERVICE_FACTS[name] = expression


# The columns of a service as member_facts reads them (its model's own, in order).
_SERVICE_COLUMNS = tuple(f.attname for f in Service._meta.concrete_fields)


def _facts_query(fact_names: tuple[str, ...], *, user_id):
    """The memberships of ``member_facts``: the service's columns, the role, whether the kind may
    report concerns, and each registered fact (``fact_names``), by service name."""
    reports = ServiceKindSetting.objects.filter(kind=OuterRef("service__kind"), may_report_concerns=True)
    facts = {f"fact_{i}": _SERVICE_FACTS[name]() for i, name in enumerate(fact_names)}
    return (
        active_memberships_of_user(user_id).annotate(kind_reports=Exists(reports), **facts).order_by("service__name", "service_id")
        .values_list(*[f"service__{name}" for name in _SERVICE_COLUMNS], "role", "kind_reports", *facts)
    )


# Asked on every page (the menu's): compiled once per process, not per request (org.compiled).
_FACTS = CompiledQuery(_facts_query, "user_id")


def member_facts(user) -> MemberFacts:
    """The user's active memberships as facts (services, their kinds and groups, where they lead):
    one query, asked once per request for the request's user (see ``remember_for_request``)."""
    memo = request_memo(user)
    if memo is not None and "facts" in memo:
        return memo["facts"]
    names = tuple(_SERVICE_FACTS)
    rows = _FACTS.rows(shape=names, user_id=user.pk) if user.is_authenticated and user.is_active else []
    n = len(_SERVICE_COLUMNS)
    memberships = tuple((Service.from_db("default", _SERVICE_COLUMNS, row[:n]), row[n]) for row in rows)
    facts = MemberFacts(
        memberships=memberships,
        reporting_kinds=frozenset(service.kind for (service, _role), row in zip(memberships, rows) if row[n + 1]),
        service_facts={name: frozenset(service.pk for (service, _role), row in zip(memberships, rows) if row[n + 2 + i])
                       for i, name in enumerate(names)},
    )
    if memo is not None:
        memo["facts"] = facts
    return facts


def is_active_member(user) -> bool:
    """Whether the user is an active member of any active service."""
    return bool(member_facts(user).service_ids)


def leads_a_service(user) -> bool:
    """Whether the user is an active leader of an active service."""
    return bool(member_facts(user).leader_service_ids)


def member_service_kinds(user) -> set[str]:
    """The kinds of the services the user is an active member of (what the menu and landing read)."""
    return set(member_facts(user).kinds)


def member_group_ids(user) -> list[int]:
    """The permission groups of the active services the user is an active member of.

    Never the user's raw group list: a group added to a user by hand (an administrator adding
    themselves in the admin) or the group of a deactivated service opens nothing.
    """
    return list(member_facts(user).group_ids)


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
    return _permitted_expression(ContentType.objects.get_for_model(model).pk, codename, tuple(member_group_ids(user)))


@functools.lru_cache(maxsize=1024)
def _permitted_expression(content_type_id: int, codename: str, group_ids: tuple[int, ...]):
    """permitted_ids_subquery's expression, built once per (content type, codename, groups): building
    it took a millisecond, on every list. A query resolves a copy of it (Django's expressions are
    never changed by being used), so one built expression serves every query and every user of
    the same groups."""
    permission = Permission.objects.filter(content_type_id=content_type_id, codename=codename).order_by().values("id")[:1]
    granted = GroupObjectPermission.objects.filter(
        content_type_id=content_type_id,
        permission_id=Subquery(permission),
        group_id__in=group_ids,
        object_pk=Cast(OuterRef("pk"), CharField()),
    ).order_by().values("pk")[:1]
    return IsNull(Subquery(granted), False)


def held_codenames(user, model, ids, codenames) -> dict:
    """``{pk: {codename, …}}``: which of ``codenames`` the user's groups hold on each of the ``model``
    rows ``ids`` (a page of rows already read; rows holding none are missing). One query on guardian's
    (content type, object_pk) index, with no subquery to build for each role: a task list asked it
    of its 25 rows as two scalar subqueries per row, whose building cost more than the page's query."""
    ids, groups = [str(pk) for pk in ids], member_group_ids(user)
    if not ids or not groups:
        return {}
    rows = GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_pk__in=ids, group_id__in=groups,
        permission__codename__in=list(codenames),
    ).values_list("object_pk", "permission__codename")
    held = {}
    to_python = model._meta.pk.to_python
    for object_pk, name in rows:
        held.setdefault(to_python(object_pk), set()).add(name)
    return held


def held_roles(user, model, ids, roles: dict[str, str]) -> dict:
    """``{pk: role}``: for each of the ``model`` rows ``ids``, the first of ``roles`` (role → codename,
    in order of precedence) the user's groups hold on it (held_codenames); rows holding none are missing."""
    held = held_codenames(user, model, ids, roles.values())
    return {
        pk: role for pk, codenames in held.items()
        if (role := next((role for role, codename in roles.items() if codename in codenames), None)) is not None
    }


def user_services(user, *, role: str | None = None):
    """The active services the user is an active member of (with ``role``, only those in that role)."""
    return Service.objects.filter(pk__in=active_memberships(user, role=role).values("service_id")).order_by("name")


def user_is_privacy_function(user) -> bool:
    """Whether the user acts as the municipality's privacy function: an active member of an active
    service of kind "personvern". Superuser status does not make anyone the privacy function."""
    return Service.Kind.PERSONVERN in member_facts(user).kinds


def privacy_services(user):
    """The privacy-function services the user is an active member of."""
    return user_services(user).filter(kind=Service.Kind.PERSONVERN)


def user_is_leader_of(user, service: Service) -> bool:
    return is_member(user, service, role=Membership.Role.LEADER)


def service_get_for_user(user, code) -> Service:
    """A service the user is an active member of, or Http404."""
    service = user_services(user).filter(code=code_as_uuid(code)).first()
    if service is None:
        raise Http404
    return service


def member_service_ids(user) -> list[int]:
    """Ids of the active services the user is an active member of: the one rule every list uses.

    A list, not a subquery: with the service as a constant (usually just one) PostgreSQL walks a
    list's (service, sort key, id) index in order and stops after one page.
    """
    return list(member_facts(user).service_ids)
