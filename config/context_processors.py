from django.utils import timezone


def request_now(request):
    """One 'now' per request, so every deadline on a page is judged against the same instant."""
    return {"request_now": timezone.now()}
