"""The idle timeout's page side: what the warning script needs to know, and the keep-alive request.

The timeout itself is enforced by config.middleware.IdleTimeoutMiddleware; these only let the page
warn in time and let the user stay logged in without losing what they are typing.
"""
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_POST


def idle_timeout(request):
    """Template context: the timeout and warning in seconds (0 when nobody is logged in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"idle_timeout_seconds": 0}
    timeout = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    # The seconds left by the server's clock: it records activity at most once a minute.
    left = max(1, min(timeout, getattr(request, "idle_seconds_left", timeout)))
    return {"idle_timeout_seconds": left, "idle_warning_seconds": min(settings.SESSION_IDLE_WARNING_SECONDS, left)}


@require_POST
def session_keep_alive(request):
    """204 and a fresh idle clock for a logged-in user (the request itself is the activity);
    401 when the login has already ended."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    # Always recorded (the middleware writes the time only once it has moved by a minute).
    from config.middleware import IdleTimeoutMiddleware

    request.session[IdleTimeoutMiddleware.SESSION_KEY] = int(time.time())
    return HttpResponse(status=204)
