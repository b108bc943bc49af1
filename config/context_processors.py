from django.utils import timezone


def request_now(request):
    """One 'now' per request, so every deadline on a page is judged against the same instant."""
    return {"request_now": timezone.now()}


def navigation(request):
    """What the menu offers this user, from the kinds of the services they work in (one query, lazily);
    each registered process says which of its sections a kind of service sees."""
    from django.utils.functional import SimpleLazyObject

    def compute():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        from org.access import member_service_kinds
        from org.models import Service
        from workflows.processes import processes

        kinds = member_service_kinds(user)
        flags = {"member": bool(kinds), "privacy": Service.Kind.PERSONVERN in kinds}
        for process in processes():
            flags.update(process.menu_flags()(kinds))
        return flags

    return {"nav": SimpleLazyObject(compute)}
