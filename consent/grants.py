"""The check that every object permission on a person's data has a reason.

A grant on person data (``org.permissions.PERSON_DATA_MODELS``) is in order when the holding
service owns the object (``org.permissions.OWNERSHIP``), the object is anonymous, or a live row
of the disclosure ledger gives exactly that permission on that object to that service — live
meaning not revoked, and not resting on a withdrawn consent. Anything else is a finding: a grant
made around the ledger, one a withdrawal should have revoked, or a grant to a single user.
"""
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from consent.models import Disclosure
from org.permissions import PERSON_DATA_MODELS, grant_reason

BATCH = 2000


@dataclass(frozen=True)
class Finding:
    model: str
    object_id: str
    permission: str
    holder: str  # "service:<id>", "group:<id>" or "user:<id>" — never a name
    problem: str

    def __str__(self):
        return f"{self.model}:{self.object_id} {self.permission} held by {self.holder}: {self.problem}"


def _live_ledger(ct, object_ids):
    """{(object_id, service_id, codename)} given by live ledger rows for these objects: in force
    (a row awaiting a leader's approval grants nothing), not revoked, not on a withdrawn consent."""
    rows = Disclosure.objects.filter(
        subject_type=ct, subject_id__in=object_ids, revoked_at__isnull=True, status=Disclosure.Status.IN_FORCE,
    ).exclude(consent__withdrawn_at__isnull=False)
    return {(sid, to, perm.split(".", 1)[-1]) for sid, to, perm in rows.values_list("subject_id", "to_service_id", "permission")}


def grants_without_reason():
    """Yield a Finding for every object permission on person data that has no ownership reason and
    no live ledger row (batched; memory stays flat)."""
    for label in PERSON_DATA_MODELS:
        model = apps.get_model(label)
        ct = ContentType.objects.get_for_model(model)
        for uop in UserObjectPermission.objects.filter(content_type=ct).select_related("permission").iterator():
            yield Finding(label, uop.object_pk, uop.permission.codename, f"user:{uop.user_id}", "granted to a single user")
        last = 0
        while True:
            batch = list(
                GroupObjectPermission.objects.filter(content_type=ct, pk__gt=last)
                .select_related("permission", "group__service")
                .order_by("pk")[:BATCH]
            )
            if not batch:
                break
            last = batch[-1].pk
            ids = {int(g.object_pk) for g in batch if g.object_pk.isdigit()}
            objects = model.objects.in_bulk(ids)
            live = _live_ledger(ct, ids)
            for g in batch:
                codename = g.permission.codename
                service = getattr(g.group, "service", None)
                obj = objects.get(int(g.object_pk)) if g.object_pk.isdigit() else None
                if service is None:
                    yield Finding(label, g.object_pk, codename, f"group:{g.group_id}", "granted to a group that is no service")
                    continue
                if obj is None:
                    yield Finding(label, g.object_pk, codename, f"service:{service.pk}", "the object no longer exists")
                    continue
                if grant_reason(perm=codename, obj=obj, service=service) in ("owner", "anonymous"):
                    continue
                if (obj.pk, service.pk, codename) in live:
                    continue
                yield Finding(label, g.object_pk, codename, f"service:{service.pk}", "no ownership reason and no live ledger row")
