import logging
import sys
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import check_for_language, gettext, ngettext

outage_log = logging.getLogger("samhandling.outage")


def chosen_language(request) -> str:
    """The language of a request's pages: the language cookie set by set_language when it names one
    of LANGUAGES, else bokmål. Reads only the cookie, never the session or the user (no database)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen and check_for_language(chosen) and chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class DefaultLanguageLocaleMiddleware(LocaleMiddleware):
    """Bokmål unless the user chose another language (the language cookie set by set_language).

    The browser's Accept-Language is ignored on purpose: staff on an English-configured machine
    still get the municipality's language until they switch.
    """

    def process_request(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()


def database_outage_of(exc: BaseException | None) -> BaseException | None:
    """The database error behind ``exc`` — ``exc`` itself, or what it was raised from or while
    handling — when it says the database cannot be used now (django.db's OperationalError:
    connection refused or lost, too many clients, the server shutting down, a lock or statement
    timeout; InterfaceError: a connection already closed). None for any other error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


class DatabaseOutageMiddleware:
    """Answers a request that failed because the database could not be used with a static 503 page
    and ``Retry-After``, in every mode, DEBUG included: no traceback, no settings, no technical
    detail.

    It must sit above every middleware that may touch the database (sessions, authentication, the
    second factor, the idle timeout, axes …). Django turns an exception into a 500 response in the
    wrapper of the middleware or view that raised it, before it could reach this one, so the error
    is noted on the request by ``note_database_outage`` (Django's ``got_request_exception`` signal,
    sent while the exception is being handled) and the 500 is replaced here on the way out. The
    500 handler (config.urls.server_error) already answers a noted outage with this page instead of
    rendering the 500 page, whose static files and layout could fail too.

    The page is rendered without the database: a plain template, no context processors (they read
    the user and the menu), no request in its context, the language from the cookie alone. A 5xx
    response is never a session save (SessionMiddleware saves only below 500). One log line per
    request on ``samhandling.outage``: the error's class and first line, the method and the path
    (paths carry only UUIDs; never the query string, the body or a cookie). Django's own
    "Internal Server Error" record of the same exception is dropped by ``QuietDatabaseOutageFilter``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._database_outage_guarded = True
        response = self.get_response(request)
        outage = getattr(request, "_database_outage", None)
        if outage is None:
            return response
        first_line = (str(outage).strip().splitlines() or [""])[0][:200]
        outage_log.error(
            "Database unavailable, answered 503: %s %s (%s: %s)",
            request.method, request.path, type(outage).__name__, first_line,
        )
        return database_outage_response(request)


TURBO_STREAM = "text/vnd.turbo-stream.html"


def database_outage_response(request) -> HttpResponse:
    """The 503 answer in the request's cookie language (the template's only value), with
    ``Retry-After: 60``: it asks the user to try again in a minute.

    A form sent by Hotwire Turbo (viewflow's pages send every form that way; Turbo asks for a Turbo
    stream) gets a stream that keeps the form and what was typed in it and shows the message above
    it; the page would replace the form, and Back would then leave it (seen in a browser). Anything
    else gets the page, and Back returns to the form the browser kept.
    """
    language = chosen_language(request)
    stream = request.method != "GET" and TURBO_STREAM in request.headers.get("Accept", "")
    with translation.override(language):
        content = render_to_string("503_turbo_stream.html" if stream else "503.html", {"LANGUAGE_CODE": language})
    response = HttpResponse(content, status=503, content_type=f"{TURBO_STREAM}; charset=utf-8" if stream else None)
    response["Retry-After"] = "60"
    response["Content-Language"] = language
    # Logged once by DatabaseOutageMiddleware; Django would add an error line of its own for any 5xx.
    response._has_been_logged = True
    return response


def note_database_outage(sender, request=None, **kwargs):
    """got_request_exception receiver: marks a request guarded by DatabaseOutageMiddleware whose
    exception is a database outage. Django sends the signal inside its ``except`` block, so the
    exception is ``sys.exc_info()``."""
    outage = database_outage_of(sys.exc_info()[1])
    if outage is not None and getattr(request, "_database_outage_guarded", False):
        request._database_outage = outage


got_request_exception.connect(note_database_outage, dispatch_uid="samhandling.database_outage")


class QuietDatabaseOutageFilter(logging.Filter):
    """Drops Django's "Internal Server Error" record (with its traceback) for a request that
    DatabaseOutageMiddleware answers with the 503 and logs in one line of its own. Every other
    record passes unchanged; an outage outside the middleware's guard keeps Django's record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        outage = getattr(request, "_database_outage", None) if request is not None else None
        return outage is None or database_outage_of(record.exc_info[1] if record.exc_info else None) is None


class HealthCheckMiddleware:
    """``GET /healthz/``: 200 "ok" when the database answers ``SELECT 1``, else 503 with Retry-After.

    First in MIDDLEWARE, before the host check and the HTTPS redirect, so a container's own probe
    over plain http://127.0.0.1 reaches it; it reads no session, no user and no person data, and says
    nothing but whether the database answers.
    """

    PATH = "/healthz/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != self.PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except (OperationalError, InterfaceError) as exc:
            outage_log.warning("health check: the database does not answer (%s)", type(exc).__name__)
            response = HttpResponse("database unavailable\n", status=503, content_type="text/plain")
            response["Retry-After"] = "60"
        else:
            response = HttpResponse("ok\n", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response


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

    The latest request's time is written only when it has moved by ``ACTIVITY_STEP`` seconds or
    more (a session write is a database statement; pages are opened many times a minute), so the
    recorded time may be up to that much older than the latest request: the timeout is then
    reached that much sooner, never later. The page learns the seconds actually left
    (``request.idle_seconds_left``, config.idle) so its warning comes in time; the keep-alive
    request always writes.

    It also marks the request's user so its membership facts are read once per request
    (org.access.remember_for_request).
    """

    SESSION_KEY = "_samhandling_last_activity"
    STARTED_KEY = "_samhandling_login_started"
    ACTIVITY_STEP = 60

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
                if last is None or now - last >= self.ACTIVITY_STEP:
                    request.session[self.SESSION_KEY] = last = now
                request.idle_seconds_left = minutes * 60 - (now - last)
                from org.access import remember_for_request  # not at import: the logging setup imports this module

                remember_for_request(request.user)
        return self.get_response(request)
