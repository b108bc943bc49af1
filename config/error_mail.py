"""Server errors mailed to ADMINS without the request's data.

Django's own AdminEmailHandler mails the whole technical report: the form's POST data, the query
string, cookies and every frame's local variables — in this product a child's name and
fødselsnummer. This handler mails what an operator needs to find the error in the log and in the
code, and nothing a person could be identified by.
"""
import logging
import traceback

from django.conf import settings
from django.core import mail

from config.log_filters import strip_query_string


class AdminSummaryEmailHandler(logging.Handler):
    """Mails each record to ``settings.ADMINS`` (nothing when ADMINS is empty).

    Subject: the level and the log line (Django's "Internal Server Error: /path": paths carry only
    UUIDs; any query string cut). Body: the log line, the exception's class and the traceback's
    code locations (file, line, function, source line) — never the exception's message, which may
    quote a value (an IntegrityError names the duplicate key), nor the request or local variables.
    A failure to send is reported on stderr by logging's handleError and never reaches the user.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if not settings.ADMINS:
            return
        try:
            message = record.getMessage()
            line = strip_query_string(message).splitlines()[0][:200] if message else record.name
            body = [f"{record.levelname} {record.name}: {line}"]
            if record.exc_info and record.exc_info[0] is not None:
                exc_type, _exc, tb = record.exc_info
                body.append(f"\n{exc_type.__module__}.{exc_type.__qualname__} (message left out: it may quote data)")
                body.append("Traceback (code locations only):")
                body.extend(traceback.format_list(traceback.extract_tb(tb)))
            mail.mail_admins(f"{record.levelname}: {line}", "\n".join(body), fail_silently=True)
        except Exception:
            self.handleError(record)
