"""Reminders: schedule, cancel, sweep, deliver; e-mail delivery of notifications.

The database is the truth. A sweep claims due rows for a while (SKIP LOCKED on PostgreSQL), and
each row is then delivered in its own transaction: re-checked (still open? may the recipient still
see the subject?), one notification per recipient written under a unique key, the row marked sent.
A worker killed anywhere in between leaves the claim to expire, and a later sweep delivers it;
the unique key makes a second delivery write nothing.
"""
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from notifications.models import Notification, Reminder
from org.access import active_members
from org.models import Membership

log = logging.getLogger(__name__)


def system_text(msgid: str, **params) -> str:
    """A notification text in the site's default language, whoever's request created it.

    Mark ``msgid`` with gettext_noop at the call site so makemessages finds it.
    """
    with override(settings.LANGUAGE_CODE):
        return _(msgid) % params


def reminder_schedule(
    *,
    key: str,
    obligation: str,
    kind: str,
    message: str,
    service,
    audience: str,
    subject,
    required_perm: str,
    due_at,
    url: str = "",
    topic: str = "",
    deadline_at=None,
) -> Reminder:
    """Create (or keep) the reminder under ``key``. Call inside the transaction that creates the obligation.

    ``topic`` is the step the notice is about (a msgid marked with gettext_noop, shown translated,
    or a deadline policy's title) and ``deadline_at`` its deadline; with the subject's short
    ``reference`` (never a name) they make the notice's heading: “Concern 3F2A9C1B: Confirm
    receipt – deadline …”.
    """
    reminder, _created = Reminder.objects.get_or_create(
        key=key,
        defaults=dict(
            obligation=obligation,
            kind=kind,
            message=message,
            service=service,
            audience=audience,
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=subject.pk,
            required_perm=required_perm,
            due_at=due_at,
            url=url,
            reference=str(getattr(subject, "reference", "") or "")[:20],
            topic=str(topic)[:200],
            deadline_at=deadline_at,
        ),
    )
    return reminder


def staff_reminder_schedule(*, obligation: str, message: str, service, subject, required_perm: str, url: str = "", topic: str = "") -> Reminder:
    """A reminder due now to ``service``'s staff, one per ``obligation`` (its key): the scheduler the
    consent app's reminders hook calls (consent.reminders)."""
    return reminder_schedule(
        key=obligation, obligation=obligation, kind=Reminder.Kind.REMINDER, message=message, service=service,
        audience=Reminder.Audience.STAFF, subject=subject, required_perm=required_perm, due_at=timezone.now(), url=url, topic=topic,
    )


def reminder_cancel(*, obligation: str) -> int:
    """Cancel every unsent reminder of an obligation; returns how many. Call in the fulfilling transaction."""
    return Reminder.objects.filter(obligation=obligation, sent_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )


def reminder_reschedule(*, obligation: str, kind: str, due_at) -> int:
    return Reminder.objects.filter(obligation=obligation, kind=kind, sent_at__isnull=True, cancelled_at__isnull=True).update(
        due_at=due_at, claimed_until=None
    )


def reminders_claim(*, limit: int | None = None) -> list[int]:
    """Claim up to ``limit`` due reminders for this sweep; returns their ids.

    Rows locked by a concurrent sweep are skipped, not waited for, so racing sweeps split the work.
    """
    now = timezone.now()
    limit = limit or settings.REMINDER_SWEEP_BATCH
    with transaction.atomic():
        qs = Reminder.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            sent_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__lte=now,
        ).order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            Reminder.objects.filter(id__in=ids).update(
                claimed_until=now + timedelta(seconds=settings.REMINDER_CLAIM_SECONDS),
                attempts=F("attempts") + 1,
            )
    return ids


def _recipients(reminder: Reminder):
    role = Membership.Role.LEADER if reminder.audience == Reminder.Audience.LEADERS else None
    memberships = active_members(reminder.service, role=role)
    User = get_user_model()
    return User.objects.filter(pk__in=memberships.values("user_id")).order_by("pk")


def _service_holds(reminder: Reminder, subject) -> bool:
    """Whether the reminder's service (its group) still holds the required permission on the subject."""
    from guardian.models import GroupObjectPermission

    if reminder.service.group_id is None:
        return False
    return GroupObjectPermission.objects.filter(
        group_id=reminder.service.group_id, content_type=reminder.subject_type, object_pk=str(subject.pk),
        permission__codename=reminder.required_perm.split(".", 1)[-1],
        permission__content_type__app_label=reminder.required_perm.split(".", 1)[0],
    ).exists()


def reminder_deliver_one(*, reminder_id: int) -> bool:
    """Deliver one claimed reminder. Returns True when it was delivered now, False when nothing was due.

    Locks the row, so a slower sweep that claimed the same row after an expired claim waits, then
    finds it sent and writes nothing.
    """
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(pk=reminder_id).first()
        if reminder is None or reminder.sent_at or reminder.cancelled_at:
            return False
        if settings.REMINDER_DELIVERY_PAUSE_SECONDS:
            time.sleep(settings.REMINDER_DELIVERY_PAUSE_SECONDS)
        subject = reminder.subject_type.model_class().objects.filter(pk=reminder.subject_id).first()
        if subject is None:
            reminder.cancelled_at = timezone.now()
            reminder.save(update_fields=["cancelled_at"])
            return False
        created_ids = []
        # Permissions and consent may have changed since scheduling: check them now, as the
        # service's own grant (never user.has_perm, which is true for any superuser).
        recipients = _recipients(reminder) if _service_holds(reminder, subject) else []
        for user in recipients:
            notification, created = Notification.objects.get_or_create(
                reminder=reminder,
                user=user,
                defaults={"kind": reminder.kind, "message": reminder.message, "url": reminder.url, "reference": reminder.reference,
                          "topic": reminder.topic, "deadline_at": reminder.deadline_at},
            )
            if created and user.email:
                created_ids.append(notification.pk)
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
        from notifications.tasks import send_notification_email

        for notification_id in created_ids:
            transaction.on_commit(lambda nid=notification_id: send_notification_email.delay(nid))
    return True


def notifications_requeue_unsent(*, older_than_seconds: int = 120, limit: int = 200) -> int:
    """Re-enqueue e-mails whose send was lost (queue flushed, worker killed). Returns how many."""
    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now),
            emailed_at__isnull=True,
            created_at__lt=now - timedelta(seconds=older_than_seconds),
        )
        .exclude(user__email="")
        .values_list("id", flat=True)[:limit]
    )
    from notifications.tasks import send_notification_email

    for nid in ids:
        send_notification_email.delay(nid)
    return len(ids)


def reminders_sweep(*, limit: int | None = None) -> int:
    """One sweep: claim due reminders and deliver each. Returns the number delivered."""
    delivered = 0
    for reminder_id in reminders_claim(limit=limit):
        try:
            if reminder_deliver_one(reminder_id=reminder_id):
                delivered += 1
        except Exception:
            # One bad row must not stop the others; its claim expires and it is retried.
            log.exception("reminder delivery failed id=%s", reminder_id)
    return delivered


def notification_send_email(*, notification_id: int) -> bool:
    """Send the e-mail of one notification at most once (claim, send, mark). Returns True if sent now."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now),
        pk=notification_id,
        emailed_at__isnull=True,
    ).update(email_claimed_until=now + timedelta(seconds=settings.REMINDER_CLAIM_SECONDS))
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.email:
        return False
    with override(settings.LANGUAGE_CODE):
        # The subject never carries identifying data; the body only a reference and a link.
        subject = _("Samhandling: you have a new notification")
        body = "\n\n".join(
            [notification.message, settings.SITE_URL.rstrip("/") + (notification.url or "/varsler/")]
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
