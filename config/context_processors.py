from django.utils import timezone


def request_now(request):
    """One 'now' per request, so every deadline on a page is judged against the same instant."""
    return {"request_now": timezone.now()}


def navigation(request):
    """What the menu offers this user, from the kinds of the services they work in (one query, lazily)."""
    from django.utils.functional import SimpleLazyObject

    def compute():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return {}
        from referrals.models import Service

        kinds = set(user.memberships.filter(active=True, service__active=True).values_list("service__kind", flat=True))
        return {
            "reports_concerns": bool(kinds & {Service.Kind.BARNEHAGE, Service.Kind.SKOLE}),
            "receives_concerns": Service.Kind.BARNEVERN in kinds,
            "coordinator": Service.Kind.RUSTJENESTE in kinds,
            "privacy": Service.Kind.PERSONVERN in kinds,
        }

    return {"nav": SimpleLazyObject(compute)}
