"""Writes to the access log. Every row is appended to the hash chain by AccessLog.save."""
from audit.models import AccessLog


def access_log_write(
    *, user, action: str, obj, person=None, purpose: str = "", service=None, via: str = AccessLog.Via.ROLE,
    changes: dict | None = None,
) -> AccessLog:
    """Append one row to the access log. Call it inside the transaction of the change it records
    (the chain's head stays locked until that transaction ends).

    ``via`` says how the user reached the object (AccessLog.Via); ``changes`` lists what an edit
    changed, ``{field: [old, new]}``, or ``{field: None}`` where the values are person data.
    """
    return AccessLog.objects.create(
        user=user if (user is not None and user.is_authenticated) else None,
        service=service,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        person=person,
        purpose=purpose,
        via=via,
        changes=changes or {},
    )


LOG_READ_PURPOSE = "access log read"


def access_log_read_record(
    *, user, subject=None, person=None, service=None, via: str = AccessLog.Via.ROLE, purpose: str = LOG_READ_PURPOSE,
) -> AccessLog:
    """Record that ``user`` read access-log rows (reading a log is itself logged): the rows of
    ``subject`` (the object whose log was shown, or one log row); ``subject=None`` records a read
    of the log as a whole (object "audit.accesslog" with id 0)."""
    obj = subject if subject is not None else AccessLog(id=0)
    return access_log_write(user=user, action=AccessLog.Action.VIEW, obj=obj, person=person, purpose=purpose, service=service, via=via)
