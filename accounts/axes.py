def client_ip(request):
    """The client address axes locks on: REMOTE_ADDR only. A proxy's forwarded header is used only
    where the platform's proxy setting has already put it into REMOTE_ADDR (opt-in)."""
    return request.META.get("REMOTE_ADDR")
