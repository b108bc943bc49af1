from django.urls import path

from . import oidc, views

app_name = "accounts"

urlpatterns = [
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/ny/", views.otp_setup, name="otp_setup"),
    path("oidc/start/", oidc.OIDCAuthenticateView.as_view(), name="oidc_authenticate"),
    path("oidc/callback/", oidc.OIDCCallbackView.as_view(), name="oidc_callback"),
]
