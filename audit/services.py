from audit.models import AccessLog


def access_log_write(*, user, action: str, obj, person=None, purpose: str = "", service=None) -> AccessLog:
    """Append one row to the access log. Call it inside the transaction of the change it records."""
    return AccessLog.objects.create(
        user=user if (user is not None and user.is_authenticated) else None,
        service=service,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        person=person,
        purpose=purpose,
    )
