from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications.selectors import notification_get_for_user, notifications_for_user
from notifications.services import notification_mark_read


@login_required
def notification_list(request):
    rows, next_cursor = notifications_for_user(request.user, cursor=request.GET.get("etter"))
    return render(request, "notifications/list.html", {"notifications": rows, "next_cursor": next_cursor})


@login_required
@require_POST
def notification_read(request, pk=None):
    if pk is not None:
        pk = notification_get_for_user(request.user, pk).pk
    notification_mark_read(user=request.user, notification_id=pk)
    return redirect("notifications:index")


@login_required
@require_POST
def notification_open(request, pk):
    """Open a notification: mark it read and go to the case it is about (its page checks access
    again). Only the notification's number is in the URL; another user's is 404."""
    notification = notification_get_for_user(request.user, pk)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    # Only a path on this site: a stored URL never sends the user elsewhere.
    if notification.url.startswith("/") and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notifications:index")
