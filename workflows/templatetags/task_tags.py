"""Template helpers of the task menu."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def task_badges(context) -> dict:
    """``{"inbox": n, "queue": n}`` for the menu's task badges (each counted up to 100, one query),
    for the flows of the task pages' app (``app``, the menu's current section). The same statement
    counts the unread notifications the menu shows further down (kept on the request for
    notifications' context processor), unless the page counted them already."""
    request = context.get("request")
    user = getattr(request, "user", None)
    app = context.get("app")
    if user is None or not user.is_authenticated or app is None:
        return {"inbox": 0, "queue": 0}
    from notifications.context_processors import unread_is_known, unread_known
    from workflows.task_lists import task_badge_counts

    unread = not unread_is_known(request)
    counts = task_badge_counts(user, getattr(app, "flow_classes", None), unread=unread)
    if unread:
        unread_known(request, counts["unread"])
    return counts
