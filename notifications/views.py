from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications.selectors import notification_get_for_user, notifications_for_user
from notifications.services import notification_mark_read


@login_required
def notification_list(request):
    return render(request, "notifications/list.html", {"notifications": notifications_for_user(request.user)})


@login_required
@require_POST
def notification_read(request, pk=None):
    if pk is not None:
        pk = notification_get_for_user(request.user, pk).pk
    notification_mark_read(user=request.user, notification_id=pk)
    return redirect("notifications:index")
