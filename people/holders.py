"""Where persons are held: the one list the person's roles, the person merge and the reports read.

Every table with a foreign key to a person declares itself here (a ``Holding``), registered at
start-up by the app or process that owns it (``register``); people itself handles its own tables
(person records, guardianships). The system check in people.checks refuses to start while any
foreign key to ``people.Person`` in any installed model is undeclared, so a new table cannot be
forgotten by the merge or the roles query: a silent legal failure becomes a start-up error.
"""
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q


@dataclass(frozen=True)
class Holding:
    """One foreign key to a person.

    ``services``: fields on the row naming services that hold a role with the person through it
    (empty: the row gives no role, e.g. an emergency access). ``held``: the rows that give a role at
    all (a disclosure in force; a pending or refused one never did). ``live``: those that give it
    now (``held`` and not revoked). ``starts``/``ends``: time fields bounding the role, for
    asking who held a role at a past moment (the access-log review); empty when the role lasts as
    long as the row. ``merge``: whether a person merge re-points the row; a row that must stay as
    written (the append-only access log) says why in ``kept_because``.
    """

    model: str
    person_field: str = "person"
    services: tuple[str, ...] = ()
    held: Q = field(default_factory=Q)
    live: Q = field(default_factory=Q)
    starts: str = ""
    ends: str = ""
    merge: bool = True
    kept_because: str = ""

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def key(self) -> tuple[str, str]:
        return (self.model.lower(), self.person_field)


# Tables of the people app itself, handled by people.services.person_merge directly.
OWN = {("people.person", "merged_into"), ("people.personrecord", "person"), ("people.guardianship", "child"), ("people.guardianship", "guardian")}

_registry: dict[tuple[str, str], Holding] = {}
_merge_hooks: list = []


def register(*holdings: Holding) -> None:
    """Declare tables that hold persons (call from AppConfig.ready). Registering a key twice with a
    different declaration is a programming error."""
    for holding in holdings:
        if holding.merge is False and not holding.kept_because:
            raise ValueError(f"{holding.model}.{holding.person_field}: a holding kept on merge must say why")
        known = _registry.get(holding.key)
        if known is not None and known != holding:
            raise ValueError(f"{holding.model}.{holding.person_field} is declared twice, differently")
        _registry[holding.key] = holding


def holdings() -> list[Holding]:
    return list(_registry.values())


def register_merge_hook(hook) -> None:
    """Declare ``hook(*, source, target)``, run by people.services.person_merge before the declared
    tables are re-pointed: for rows whose own rules the plain re-pointing would break (a contract
    with both records of one guardian as parties holds one party per person). Call from
    AppConfig.ready; registering the same hook twice registers it once."""
    if hook not in _merge_hooks:
        _merge_hooks.append(hook)


def merge_hooks() -> list:
    return list(_merge_hooks)


def undeclared_person_keys() -> list[str]:
    """Every foreign key to people.Person in the installed models that no holding declares."""
    from people.models import Person

    missing = []
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.get_fields():
            if not (f.is_relation and f.concrete and (f.many_to_one or f.one_to_one)):
                continue
            if f.related_model is not Person:
                continue
            key = (model._meta.label_lower, f.name)
            if key not in OWN and key not in _registry:
                missing.append(f"{model._meta.label}.{f.name}")
    return sorted(missing)


def services_with_role(person) -> set[int]:
    """Ids of the services that hold a role with ``person`` through any declared table: one query
    (a UNION of every table's services), asked on every page that shows a person."""
    parts = []
    for holding in holdings():
        if not holding.services:
            continue
        rows = holding.model_class._default_manager.filter(holding.live, **{holding.person_field: person})
        for service_field in holding.services:
            parts.append(rows.exclude(**{f"{service_field}__isnull": True}).order_by().values_list(f"{service_field}_id", flat=True))
    if not parts:
        return set()
    return set(parts[0].union(*parts[1:]))


def role_held_at(*, person, service, at) -> Q:
    """A filter expression (on a row that names a person, a service and a time, e.g. an access-log
    row, passed as OuterRef expressions) that is true when the service held a role with the person
    at that time, through any declared table."""
    from functools import reduce
    from operator import or_

    from django.db.models import Exists

    conditions = []
    for holding in holdings():
        if not holding.services:
            continue
        rows = holding.model_class._default_manager.filter(holding.held, **{f"{holding.person_field}_id": person})
        if holding.starts:
            rows = rows.filter(**{f"{holding.starts}__lte": at})
        if holding.ends:
            rows = rows.filter(Q(**{f"{holding.ends}__isnull": True}) | Q(**{f"{holding.ends}__gt": at}))
        by_service = reduce(or_, [Q(**{f"{field}_id": service}) for field in holding.services])
        conditions.append(Exists(rows.filter(by_service)))
    return reduce(or_, conditions)
