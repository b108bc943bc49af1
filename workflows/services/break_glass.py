"""Emergency access ("break the glass"): the only way into a case without a role in it.

A user who holds no role in a concern or a referral — a technical administrator included — may read
it for a short, stated time after giving a justification. The service holding the case (its
leaders) and the privacy function are notified at once, every read through it is logged as
``via="break_glass"`` under the real user and no service, and a leader or the privacy function
reviews it afterwards. It is read-only: no step of the case can be taken through it.
"""
import datetime
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from guardian.models import GroupObjectPermission

from audit.services import access_log_write
from notifications.models import Reminder
from notifications.services import reminder_schedule, system_text
from org import permissions
from org.access import active_memberships, member_group_ids, user_is_privacy_function
from referrals.access import EMERGENCY
from org.models import Membership, Service
from referrals.models import BreakGlassAccess
from workflows.processes import process_for_record, processes

REVIEW_PERM = permissions.REVIEW_BREAK_GLASS
JUSTIFICATION_MIN = 30
JUSTIFICATION_MAX = 2000
UUID_IN_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _max_minutes() -> int:
    return settings.BREAK_GLASS_MAX_MINUTES


def case_kinds() -> list[tuple[str, str]]:
    """(process name, label) of every registered process: the kinds of case one may break into."""
    return [(process.name, process.label) for process in processes()]


def owner_service(obj) -> Service:
    """The service that holds the case now (its process's ``owner`` hook)."""
    return process_for_record(obj).owner_of()(obj)


def _find(kind: str, reference: str):
    match = UUID_IN_TEXT.search(reference or "")
    process = next((p for p in processes() if p.name == kind), None)
    if process is None or match is None:
        return None
    return process.record_model().objects.filter(code=match.group(0)).first()


def _holds_role(user, obj) -> bool:
    return bool(process_for_record(obj).roles_of()(user, obj) - {EMERGENCY})


@transaction.atomic
def break_glass_open(*, user, kind: str, reference: str, justification: str, minutes: int) -> BreakGlassAccess:
    """Open an emergency access for ``user`` to the case given by ``reference`` (its code or URL).

    Refused (translated ValidationError, nothing written) for a user without a membership or staff
    status, a short or missing justification, a duration outside 5 minutes to BREAK_GLASS_MAX_MINUTES,
    an unknown case, or a case the user already reaches through a role.
    """
    if not (user.is_authenticated and user.is_active) or not (
        user.is_staff or active_memberships(user).exists()
    ):
        raise ValidationError(_("Only staff of a service or a technical administrator can open an emergency access."))
    errors = {}
    text = (justification or "").strip()
    if len(text) < JUSTIFICATION_MIN:
        errors["justification"] = _("Explain why you need access now (at least %(n)s characters).") % {"n": JUSTIFICATION_MIN}
    elif len(text) > JUSTIFICATION_MAX:
        errors["justification"] = _("Keep the justification under %(n)s characters.") % {"n": JUSTIFICATION_MAX}
    if minutes is None or not (5 <= minutes <= _max_minutes()):
        errors["minutes"] = _("Choose between 5 and %(n)s minutes.") % {"n": _max_minutes()}
    obj = _find(kind, reference)
    if obj is None:
        errors["reference"] = _("No case of this kind has that reference. Paste the case's full code or its address.")
    if errors:
        raise ValidationError(errors)
    if _holds_role(user, obj):
        raise ValidationError({"reference": _("You already have access to this case through your service.")})
    now = timezone.now()
    owner = owner_service(obj)
    if not user.is_staff and not active_memberships(user).filter(service__municipality_id=owner.municipality_id).exists():
        # Staff break the glass only within their own municipality; a technical administrator anywhere.
        raise ValidationError({"reference": _("You can open an emergency access only to cases in your own municipality.")})
    access = BreakGlassAccess.objects.create(
        user=user, subject_type=ContentType.objects.get_for_model(obj), subject_id=obj.pk, person=obj.person,
        owner_service=owner, justification=text, expires_at=now + datetime.timedelta(minutes=minutes),
    )
    reviewers = [(owner, Reminder.Audience.LEADERS)]
    privacy = Service.objects.filter(kind=Service.Kind.PERSONVERN, active=True)
    local = privacy.filter(municipality_id=owner.municipality_id)
    reviewers += [(s, Reminder.Audience.STAFF) for s in (local if local.exists() else privacy)]
    url = reverse("break_glass:index")
    for service, audience in reviewers:
        permissions.grant_to_service(perm=REVIEW_PERM, obj=access, service=service)
        reminder_schedule(
            key=f"breakglass:{access.pk}:{service.pk}", obligation=f"breakglass:{access.pk}", kind=Reminder.Kind.INFO,
            message=system_text(gettext_noop("Emergency access %(ref)s was opened to a case of %(service)s; review it."),
                                ref=access.reference, service=owner.name),
            service=service, audience=audience, subject=access, required_perm=REVIEW_PERM, due_at=now, url=url,
            topic=gettext_noop("Review the emergency access"),
        )
    access_log_write(user=user, action="create", obj=access, person=obj.person, purpose="emergency access opened", via="break_glass")
    return access


def break_glass_subject(access: BreakGlassAccess):
    return access.subject_type.get_object_for_this_type(pk=access.subject_id)


def break_glass_reviewable(user):
    """Emergency accesses the user may review (a queryset, newest first): those to cases of services
    they lead, and those the user's services were notified of (the privacy function)."""
    led = active_memberships(user, role=Membership.Role.LEADER).values("service_id")
    ct = ContentType.objects.get_for_model(BreakGlassAccess)
    notified = GroupObjectPermission.objects.filter(
        content_type=ct, permission__codename=permissions.codename(REVIEW_PERM), group_id__in=member_group_ids(user),
        group__service__kind=Service.Kind.PERSONVERN,
    ).values_list("object_pk", flat=True)
    return (
        BreakGlassAccess.objects.filter(Q(owner_service__in=led) | Q(pk__in=[int(pk) for pk in notified]))
        .select_related("user", "owner_service", "subject_type", "reviewed_by")
        .order_by("-started_at", "-pk")
    )


@transaction.atomic
def break_glass_review(*, access: BreakGlassAccess, user, note: str) -> BreakGlassAccess:
    """Record the review of an emergency access (a leader of the case's service or the privacy function)."""
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    if not break_glass_reviewable(user).filter(pk=access.pk).exists():
        raise ValidationError(_("Only a leader of the case's service or the privacy function can review this."))
    if access.user_id == user.pk:
        raise ValidationError(_("You cannot review your own emergency access."))
    if access.reviewed_at is not None:
        raise ValidationError(_("This emergency access has already been reviewed."), code="out_of_order")
    if not (note or "").strip():
        raise ValidationError({"note": _("Write what the review found.")})
    access.reviewed_at = timezone.now()
    access.reviewed_by = user
    access.review_note = note.strip()[:JUSTIFICATION_MAX]
    if access.ended_at is None and access.expires_at > access.reviewed_at:
        access.ended_at = access.reviewed_at
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "ended_at"])
    reviewer_service = None if user_is_privacy_function(user) else access.owner_service
    access_log_write(user=user, action="update", obj=access, person=access.person, purpose="emergency access reviewed",
                     service=reviewer_service, via="privacy" if reviewer_service is None else "role")
    return access
