import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language, gettext, ngettext


class DefaultLanguageLocaleMiddleware(LocaleMiddleware):
    """Bokmål unless the user chose another language (the language cookie set by set_language).

    The browser's Accept-Language is ignored on purpose: staff on an English-configured machine
    still get the municipality's language until they switch.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen and check_for_language(chosen) and chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class SecurityHeadersMiddleware:
    """Permissions-Policy on every page, and ``Cache-Control: no-store`` on every response that
    passes through Django.

    Static files never get here (whitenoise answers them above this middleware, with their own
    long cache headers); everything else may show person data — a list, a page, a PDF, a CSV — so
    no browser or shared cache may keep a copy. One rule for all is simpler to trust than a rule
    per view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response["Cache-Control"] = "no-store"
        return response


class IdleTimeoutMiddleware:
    """Ends a login after ``SESSION_IDLE_TIMEOUT_MINUTES`` without a request, and at the latest
    ``SESSION_COOKIE_AGE`` seconds after it began.

    The times of the first and the latest request are kept in the session (server side: a copied
    cookie does not outlive them). Saving the session on every request would otherwise also push
    Django's own expiry forward for ever. A request past either limit logs the user out before the
    view runs, so the view answers as to anyone not logged in (the login page), with a message
    saying why. The page's script (static/samhandling/idle.js) warns before the idle timeout and
    offers to stay logged in through ``session_keep_alive``, an ordinary request and so activity.
    """

    SESSION_KEY = "_samhandling_last_activity"
    STARTED_KEY = "_samhandling_login_started"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.SESSION_KEY)
            started = request.session.setdefault(self.STARTED_KEY, now)
            minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
            if last is not None and now - last > minutes * 60:
                logout(request)
                messages.info(
                    request,
                    ngettext(
                        "You were logged out after %(minutes)d minute without activity.",
                        "You were logged out after %(minutes)d minutes without activity.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
            elif now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
                messages.info(request, gettext("Your login has expired. Please log in again."))
            else:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)
