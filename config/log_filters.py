"""Logging filters that keep identifying data out of the server's logs."""
import logging
import re

from django.core.exceptions import PermissionDenied

# "?" up to the next blank or quote: the query string of a request line or a URL.
_QUERY = re.compile(r"\?[^\s\"']*")


def strip_query_string(text: str) -> str:
    return _QUERY.sub("", text)


class StripQueryStringFilter(logging.Filter):
    """Removes query strings from a record's message and arguments.

    A search (a catalogue search for a surname, a list filtered by name) carries what the user typed
    in the query string; the request line ``"GET /path/?q=Hansen HTTP/1.1"`` that runserver's
    ``django.server`` logger writes must not keep it. Paths carry only UUIDs and slugs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query_string(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(strip_query_string(a) if isinstance(a, str) else a for a in record.args)
        return True


class QuietPermissionDeniedFilter(logging.Filter):
    """A refused request is logged as one line, without the exception's traceback.

    Django logs a ``PermissionDenied`` on ``django.request`` as a warning with the full traceback
    (``exc_info``), which runserver's console prints like a crash although nothing failed: viewflow
    refuses a user outside its site before any view runs, and our handler answers with the uniform
    404. The line that stays (``Forbidden (Permission denied): /path``) carries the path only, and
    paths carry only UUIDs; the exception's own message is dropped with its traceback. Every other
    record, a real error above all, passes unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PermissionDenied):
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True

