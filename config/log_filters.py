"""Logging filters that keep identifying data out of the server's logs."""
import logging
import re

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
