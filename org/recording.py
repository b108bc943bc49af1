"""The access log, as the kernel apps see it: a writer the audit app plugs in at start-up.

``org`` and ``people`` sit below ``audit`` (the log's rows point at services and persons), so they
cannot import it; yet every change they make to a membership or a person must be logged. The audit
app registers its writer here in ``AuditConfig.ready``; a system check (org.checks) refuses to start
without one, and ``record`` raises rather than let a change pass unlogged.
"""
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_writers: list[Callable] = []


def register_access_log_writer(writer: Callable) -> None:
    """Install ``writer(*, user, action, obj, person=None, purpose="", service=None, via=..., changes=None)``."""
    _writers[:] = [writer]


def has_access_log_writer() -> bool:
    return bool(_writers)


def record(**entry) -> None:
    """Append one access-log row (see audit.services.access_log_write for the keywords)."""
    if not _writers:
        raise ImproperlyConfigured("No access-log writer is registered: add 'audit' to INSTALLED_APPS.")
    _writers[0](**entry)
