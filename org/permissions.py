"""The only place that grants or revokes object permissions (django-guardian).

Permissions are granted to a service's group, never to individuals and never at model level:
viewflow falls back to a model-level check when no object is given, which would open every
process to anyone holding it.

A permission on person data rests on one of two reasons, and ``grant_to_service`` refuses any
other: the service owns the object (it made it: the reporter of a concern, the sender of a
referral, the service that registered a contact or recorded a consent — ``OWNERSHIP``), or a live
row of the disclosure ledger gives it (``disclosure=``, passed only by
``consent.services.disclosure_record``). An object without a person (an anonymous consultation)
is no person data. ``manage.py access_grants_check`` finds any grant that has neither reason.
"""
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from org.batch import write_soon
from org.models import Membership, Service


def codename(perm: str) -> str:
    """The codename of an "app_label.codename" permission."""
    return perm.split(".", 1)[-1]


# Every object permission the code grants or checks, spelled once ("app_label.codename"; the
# models declare the codenames in their Meta.permissions). Guardian's grants and viewflow's task
# permissions take the full name; reads of a user's permissions on an object compare codenames.
HANDLE_TASKS_PERM = "org.handle_concerns"  # staff of a service may work its viewflow tasks
CONCERN_REPORTER = "referrals.view_concern_status"
CONCERN_HANDLER = "referrals.handle_concern"
REFERRAL_SENDER = "referrals.view_referral_status"
REFERRAL_HANDLER = "referrals.handle_referral"
REFERRAL_ROUTER = "referrals.route_referral"
CONTACT_HANDLER = "referrals.handle_contact"
CONSENT_MANAGER = "consent.manage_consent"
YOUTH_CONTRACT_HANDLER = "referrals.handle_youthcontract"
YOUTH_CONTRACT_STATUS = "referrals.view_youthcontract_status"
# A service taking part in an individual plan (its starter as owner, every other participant through
# the ledger, on the plan's consent). The plan's pages still ask the consent itself on every read.
INDIVIDUAL_PLAN_PARTICIPANT = "referrals.take_part_individualplan"
# The service that registered an offer of an individual plan, as its owner: it records the answer,
# and the offer's deadline reminds it (the sweep re-checks this grant at delivery).
INDIVIDUAL_PLAN_OFFER = "referrals.change_planoffer"
REVIEW_BREAK_GLASS = "referrals.review_break_glass"
# BrukerPlan: a participating service maps its users in a round (on its participation row), the
# coordinating service follows every service's progress (on each participation row: counts only),
# and the mapping service alone holds a person's mapping, as its owner.
BRUKERPLAN_MAPPER = "referrals.map_brukerplanparticipation"
BRUKERPLAN_FOLLOWER = "referrals.follow_brukerplanparticipation"
BRUKERPLAN_MAPPING = "referrals.handle_brukerplanmapping"
# An SLT forum (insights): a member service's staff read it and are reminded of its meetings; the
# owning SLT service runs it and is reminded of missing minutes. No person data: a forum holds none.
FORUM_MEMBER = "insights.take_part_forum"
FORUM_OWNER = "insights.run_forum"
# A substance-policy plan's measure (insights): its responsible service records the yearly evaluation
# (and is reminded of it), its co-responsible services follow it. No person data: the measure is its own reason.
POLICY_MEASURE_RESPONSIBLE = "insights.evaluate_policymeasure"
POLICY_MEASURE_CO_RESPONSIBLE = "insights.follow_policymeasure"


def service_group(service: Service) -> Group:
    """The group through which the service's staff hold permissions; created on first use."""
    if service.group_id:
        return service.group
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.group_id is None:
            locked.group = Group.objects.create(name=f"service:{service.code}")
            locked.save(update_fields=["group"])
        service.group = locked.group
    # Staff of a service may work that service's viewflow tasks.
    assign_perm(HANDLE_TASKS_PERM, service.group, service)
    return service.group


# (model label, permission codename) → the field naming the service that owns the object.
OWNERSHIP = {
    ("referrals.concern", codename(CONCERN_REPORTER)): "reporting_service_id",
    ("referrals.referral", codename(REFERRAL_SENDER)): "sender_service_id",
    ("referrals.contact", codename(CONTACT_HANDLER)): "service_id",
    ("consent.consent", codename(CONSENT_MANAGER)): "recorded_by_service_id",
    ("referrals.youthcontract", codename(YOUTH_CONTRACT_STATUS)): "initiating_service_id",
    ("referrals.individualplan", codename(INDIVIDUAL_PLAN_PARTICIPANT)): "registered_by_service_id",
    ("referrals.planoffer", codename(INDIVIDUAL_PLAN_OFFER)): "offered_by_service_id",
    ("referrals.brukerplanmapping", codename(BRUKERPLAN_MAPPING)): "service_id",
}
# Models whose rows are a person's data: every grant on them needs a reason (see above). A table
# that holds a person (people.holders) and has object permissions of its own must be listed here or
# below, with the reason; the system check people.E002 refuses to start otherwise.
PERSON_DATA_MODELS = ("referrals.concern", "referrals.referral", "referrals.contact", "consent.consent", "referrals.youthcontract",
                      "referrals.individualplan", "referrals.planoffer", "referrals.brukerplanmapping")
NOT_PERSON_DATA = {
    "referrals.breakglassaccess": "an emergency access names whose case was read, not what it holds; its review "
                                  "permission goes to the case's service and to the privacy function",
}


class GrantRefused(Exception):
    """A grant on person data without an ownership reason or a ledger row: a programming error."""


def grant_reason(*, perm: str, obj, service: Service, disclosure=None) -> str | None:
    """Why ``service`` may hold ``perm`` on ``obj``: "owner", "ledger", "anonymous", "not person data",
    or None when nothing justifies it."""
    label = obj._meta.label_lower
    if label not in PERSON_DATA_MODELS:
        return "not person data"
    wanted = codename(perm)
    owner_field = OWNERSHIP.get((label, wanted))
    if owner_field is not None and getattr(obj, owner_field) == service.pk:
        return "owner"
    if disclosure is not None:
        from django.contrib.contenttypes.models import ContentType

        if (
            disclosure.pk is not None and disclosure.revoked_at is None and getattr(disclosure, "granted", True)
            and disclosure.to_service_id == service.pk and codename(disclosure.permission) == wanted
            and disclosure.subject_type_id == ContentType.objects.get_for_model(obj).pk and disclosure.subject_id == obj.pk
        ):
            return "ledger"
        return None
    if label == "referrals.concern" and obj.person_id is None:
        return "anonymous"
    return None


def grant_to_service(*, perm: str, obj, service: Service, disclosure=None) -> None:
    """Grant ``perm`` on ``obj`` to the service's group, for an ownership reason or a ledger row.

    Raises GrantRefused (and grants nothing) when neither holds: a service never gets access to a
    person's data that the ledger does not show.
    """
    if grant_reason(perm=perm, obj=obj, service=service, disclosure=disclosure) is None:
        raise GrantRefused(f"no ownership reason or ledger row for {perm} on {obj._meta.label_lower}:{obj.pk} to service {service.pk}")
    _group_grant(perm, service.group_id or service_group(service).pk, obj)


def _group_grant(perm: str, group_id: int, obj) -> None:
    """guardian's ``assign_perm(perm, group, obj)`` in one statement (it reads the permission, reads
    the grant, and inserts it in a savepoint of its own: six round trips on every hand-off): the
    permission of ``obj``'s model by its codename, inserted unless the group holds it already. Its
    result is not read, so inside a step it goes with the step's next statement (org.batch).
    Raises Permission.DoesNotExist, as guardian does, for a permission ``obj``'s model lacks."""
    ctype = ContentType.objects.get_for_model(obj)
    app_label, _, name = perm.rpartition(".")
    if app_label and app_label != ctype.app_label or name not in _model_permissions(type(obj)):
        raise Permission.DoesNotExist(f"{perm} is not a permission of {obj._meta.label_lower}")
    table = connection.ops.quote_name(GroupObjectPermission._meta.db_table)
    write_soon(
        f"INSERT INTO {table} (permission_id, content_type_id, object_pk, group_id)"
        f" SELECT p.id, %s, %s, %s FROM {connection.ops.quote_name(Permission._meta.db_table)} p"
        " WHERE p.content_type_id = %s AND p.codename = %s"
        " ON CONFLICT (group_id, permission_id, object_pk) DO NOTHING",
        [ctype.pk, str(obj.pk), group_id, ctype.pk, name],
        using=connection.alias,
    )


def _model_permissions(model) -> set[str]:
    """The codenames of ``model``'s permissions, as migrate creates them (its default ones and its Meta's)."""
    opts = model._meta.concrete_model._meta
    return {f"{action}_{opts.model_name}" for action in opts.default_permissions} | {codename for codename, _ in opts.permissions}


def revoke_from_service(*, perm: str, obj, service: Service) -> None:
    remove_perm(perm, service_group(service), obj)


def revoke_all_on_object(*, obj) -> int:
    """Drop every group permission on ``obj`` (used when an object is deleted or purged)."""
    ct = ContentType.objects.get_for_model(obj)
    deleted, _ = GroupObjectPermission.objects.filter(content_type=ct, object_pk=str(obj.pk)).delete()
    return deleted


def membership_sync(membership: Membership) -> None:
    """Make the user's group membership match an (in)active membership row."""
    group = service_group(membership.service)
    if membership.active:
        membership.user.groups.add(group)
    else:
        membership.user.groups.remove(group)
