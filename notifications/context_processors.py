from django.utils.functional import SimpleLazyObject

# The request's unread count, once known (a page's other badges may count it in their statement).
_UNREAD_ATTR = "samhandling_unread"


def unread_known(request, count: int) -> None:
    """Keep ``count`` as the request's unread count: the menu's task badges count it in the same
    statement as the tasks (workflows.task_lists.task_badge_counts), so the page asks no more."""
    setattr(request, _UNREAD_ATTR, count)


def unread_is_known(request) -> bool:
    return hasattr(request, _UNREAD_ATTR)


def unread_notifications(request):
    """The menu's unread count (up to ``UNREAD_CAP`` + 1; the menu shows "99+"): asked only when a
    page shows it, and once per request however many templates render with the request (none when
    the task badges, rendered before it, counted it already)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        if not unread_is_known(request):
            from notifications.selectors import unread_count

            unread_known(request, unread_count(user))
        return getattr(request, _UNREAD_ATTR)

    return {"unread_notifications": SimpleLazyObject(count)}
