from notifications.models import Notification

UNREAD_CAP = 99


def unread_capped(user):
    """The user's unread notifications' ids, at most ``UNREAD_CAP`` + 1 entries of the (user, read)
    index: counted, they are the badge (99+). Without an order: the model's (newest first) would
    walk the user's every notification on the newest-first index to find unread ones. The menu's
    task badges count this in their own statement (workflows.task_lists.task_badge_counts)."""
    return unread_capped_of(user.pk)


def unread_capped_of(user_id):
    """``unread_capped`` for a user's id (the menu's badges compile it once, with the id a parameter)."""
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).order_by().values("id")[: UNREAD_CAP + 1]


def unread_count(user) -> int:
    """Unread notifications, capped (the badge shows 99+) so the count stays cheap."""
    return unread_capped(user).count()


PAGE_SIZE = 50


def notifications_for_user(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE):
    """One page of the user's notifications, newest first, after ``cursor`` (org.paging's keyset;
    a forged cursor gives the first page). Returns ``(rows, next_cursor)``.

    One query on the (user, created, id) index, whatever the user's number of notifications: no
    count of them all, no OFFSET."""
    from org.paging import keyset_page

    qs = Notification.objects.filter(user=user).select_related("reminder__subject_type")
    return keyset_page(qs, "created_at", cursor, descending=True, page_size=page_size)


def notification_get_for_user(user, pk: int) -> Notification:
    """The user's own notification, or Http404 for another user's and a missing one alike."""
    from django.http import Http404

    notification = Notification.objects.filter(pk=pk, user=user).first()
    if notification is None:
        raise Http404
    return notification
