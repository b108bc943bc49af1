from django.utils import timezone


def request_now(request):
    """One 'now' per request, so every deadline on a page is judged against the same instant."""
    return {"request_now": timezone.now()}


def navigation(request):
    """What the menu offers this user, from the kinds of the services they work in (the request's
    membership facts, org.access.member_facts), lazily and once per request however many templates
    render with it; each registered process says which of its sections a kind of service sees."""
    from django.utils.functional import SimpleLazyObject

    def compute():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        flags = getattr(request, "_samhandling_nav", None)
        if flags is not None:
            return flags
        from insights.access import menu_flags as insights_menu_flags
        from org.access import member_facts
        from org.models import Service
        from workflows.processes import processes

        facts = member_facts(user)
        kinds = set(facts.kinds)
        flags = {"member": bool(kinds), "privacy": Service.Kind.PERSONVERN in kinds, "leader": bool(facts.leader_service_ids)}
        for process in processes():
            flags.update(process.menu_flags()(facts))
        flags.update(insights_menu_flags(facts))
        request._samhandling_nav = flags
        return flags

    return {"nav": SimpleLazyObject(compute)}
