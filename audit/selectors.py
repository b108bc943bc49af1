from audit.models import AccessLog


def access_log_for_object(obj, *, services=None, limit=500):
    """The newest ``limit`` log rows of ``obj``; with ``services``, only what those services did."""
    qs = AccessLog.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
    if services is not None:
        qs = qs.filter(service__in=services)
    return qs.select_related("user", "service").order_by("-at", "-id")[:limit]
