from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .second_factor import LOGIN_METHOD_SESSION_KEY, METHOD_OIDC, METHOD_PASSWORD


@receiver(user_logged_in, dispatch_uid="accounts_record_login_method")
def record_login_method(sender, request, user, **kwargs):
    """Record on the session how the user logged in; every login overwrites it."""
    if request is None or not hasattr(request, "session"):
        return
    from .oidc import OIDCBackend

    method = METHOD_PASSWORD
    backend_path = getattr(user, "backend", None)
    if backend_path:
        try:
            if issubclass(import_string(backend_path), OIDCBackend):
                method = METHOD_OIDC
        except ImportError:
            pass
    request.session[LOGIN_METHOD_SESSION_KEY] = method
