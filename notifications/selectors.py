from notifications.models import Notification

UNREAD_CAP = 99


def unread_count(user) -> int:
    """Unread notifications, capped (the badge shows 99+) so the count stays cheap."""
    return Notification.objects.filter(user=user, read_at__isnull=True).values("id")[: UNREAD_CAP + 1].count()


def notifications_for_user(user, *, limit=50):
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
