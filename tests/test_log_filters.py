"""Query strings (a search for a surname) never reach the server's request log."""
import logging

from django.conf import settings

from config.log_filters import StripQueryStringFilter


def record(*args):
    return logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s', args, None)


class StripQueryStringFilterTests:
    def test_it_cuts_the_query_string_from_runservers_request_line(self):
        entry = record("GET /referrals/catalogue/?q=Hansen&page=2 HTTP/1.1", "200", "1234")
        StripQueryStringFilter().filter(entry)
        assert entry.getMessage() == '"GET /referrals/catalogue/ HTTP/1.1" 200 1234'

    def test_it_keeps_a_request_line_without_query_string(self):
        entry = record("GET /concerns/ HTTP/1.1", "200", "10")
        StripQueryStringFilter().filter(entry)
        assert entry.getMessage() == '"GET /concerns/ HTTP/1.1" 200 10'

    def test_it_is_on_the_django_server_logger(self):
        assert "strip_query_string" in settings.LOGGING["loggers"]["django.server"]["filters"]
        assert any(isinstance(f, StripQueryStringFilter) for f in logging.getLogger("django.server").filters)


class GunicornAccessLogTests:
    def test_it_logs_the_path_without_the_query_string(self):
        config = {}
        exec((settings.BASE_DIR / "config" / "gunicorn.conf.py").read_text(), config)
        access_format = config["access_log_format"]
        assert "%(U)s" in access_format
        for leaky in ("%(q)s", "%(r)s", "%(f)s", "%({"):
            assert leaky not in access_format
