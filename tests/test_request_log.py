"""A refused request is one quiet log line (issue 7, point 14); a real error keeps its traceback."""
import io
import logging

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """What the console handler of settings.LOGGING prints for django.request, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


class RefusedRequestLogTests:
    def test_it_logs_a_refused_request_as_one_line_without_traceback(self, client, console):
        # viewflow refuses a user outside every service before any view runs (PermissionDenied).
        outsider = get_user_model().objects.create_user("ola.nordmann", first_name="Ola", last_name="Nordmann")
        client.force_login(outsider)
        response = client.get(reverse("workflow:inbox"))
        assert response.status_code == 404  # the uniform "not there" answer

        lines = console.getvalue().splitlines()
        assert len(lines) == 1, lines
        assert " WARNING django.request Forbidden (Permission denied): /workflow/inbox/" in lines[0]
        assert "Traceback" not in console.getvalue()
        for identifying in ("ola.nordmann", "Ola", "Nordmann"):
            assert identifying not in console.getvalue()

    def test_it_keeps_the_traceback_of_a_real_error(self, console):
        logger = logging.getLogger("django.request")
        try:
            raise RuntimeError("the database went away")
        except RuntimeError:
            logger.error("Internal Server Error: %s", "/concerns/", exc_info=True, extra={"status_code": 500})
        output = console.getvalue()
        assert "ERROR django.request Internal Server Error: /concerns/" in output
        assert "Traceback (most recent call last)" in output
        assert "RuntimeError: the database went away" in output

    def test_it_is_configured_on_the_request_logger(self):
        assert "quiet_permission_denied" in settings.LOGGING["loggers"]["django.request"]["filters"]


class PrintedOnceTests:
    def test_a_request_warning_reaches_one_console_also_with_debug_on(self, settings):
        # With DEBUG on (make run), Django's default "django" handlers printed every record a second time.
        settings.DEBUG = True
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden (Permission denied): %s", ("/x/",), None)
        handlers, logger = [], logging.getLogger("django.request")
        while logger:
            handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
            logger = logger.parent if logger.propagate else None
        printing = [h for h in handlers if record.levelno >= h.level and h.filter(record)]
        assert len(printing) == 1, printing
        assert printing[0].formatter._fmt == settings.LOGGING["formatters"]["plain"]["format"]
