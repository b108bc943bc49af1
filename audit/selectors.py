from audit.models import AccessLog


def access_log_for_object(obj, *, limit=500):
    return (
        AccessLog.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
        .select_related("user", "service")
        .order_by("-at", "-id")[:limit]
    )
