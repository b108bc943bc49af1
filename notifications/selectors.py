from notifications.models import Notification

UNREAD_CAP = 99


def unread_count(user) -> int:
    """Unread notifications, capped (the badge shows 99+) so the count stays cheap."""
    return Notification.objects.filter(user=user, read_at__isnull=True).values("id")[: UNREAD_CAP + 1].count()


def notifications_for_user(user, *, limit=50):
    return Notification.objects.filter(user=user).select_related("reminder__subject_type").order_by("-created_at", "-id")[:limit]


def notification_get_for_user(user, pk: int) -> Notification:
    """The user's own notification, or Http404 for another user's and a missing one alike."""
    from django.http import Http404

    notification = Notification.objects.filter(pk=pk, user=user).first()
    if notification is None:
        raise Http404
    return notification
