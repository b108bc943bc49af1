from django.utils.functional import SimpleLazyObject


def unread_notifications(request):
    """The menu's unread count (up to ``UNREAD_CAP`` + 1; the menu shows "99+"): asked only when a
    page shows it, and once per request however many templates render with the request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        if not hasattr(request, "_samhandling_unread"):
            from notifications.selectors import unread_count

            request._samhandling_unread = unread_count(user)
        return request._samhandling_unread

    return {"unread_notifications": SimpleLazyObject(count)}
