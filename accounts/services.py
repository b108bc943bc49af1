"""The TOTP second factor: enrolment and verification (django-otp)."""
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice


class SecondFactorError(Exception):
    """A refused code, with a translated message for the user."""


def totp_devices_confirmed(*, user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True)


@transaction.atomic
def totp_device_for_enrolment(*, user) -> TOTPDevice:
    """The user's unconfirmed authenticator-app device, created on first call.

    Raises SecondFactorError when the user already has a confirmed device: a password alone must
    never be enough to add another one (an administrator removes the old device first).
    """
    if totp_devices_confirmed(user=user).exists():
        raise SecondFactorError(_("You already have an authenticator app. Ask your administrator to reset it."))
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def _verify(device: TOTPDevice, token: str) -> None:
    allowed, data = device.verify_is_allowed()
    if not allowed:
        raise SecondFactorError(_("Too many wrong codes. Wait a little and try again."))
    # verify_token counts a failure towards django-otp's throttle (OTP_TOTP_THROTTLE_FACTOR) and
    # refuses a code that was already used.
    if not device.verify_token(token):
        raise SecondFactorError(_("The code is wrong or has expired. Try the code now shown in the app."))


# No transaction around verification: a wrong code's throttle count must be committed, not rolled
# back with the refusal.
def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm an enrolment with a code from the app and mark the session verified; raises SecondFactorError."""
    device = TOTPDevice.objects.get(pk=device.pk, user=request.user, confirmed=False)
    _verify(device, token)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _mark_verified(request, device)
    return device


def totp_verify(*, request, token: str) -> TOTPDevice:
    """Verify a code against the user's confirmed devices and mark the session verified; raises SecondFactorError."""
    devices = list(totp_devices_confirmed(user=request.user))
    error = None
    for device in devices:
        try:
            _verify(device, token)
        except SecondFactorError as exc:
            error = exc
            continue
        _mark_verified(request, device)
        return device
    raise error or SecondFactorError(_("You have no authenticator app yet."))


def _mark_verified(request, device: TOTPDevice) -> None:
    otp_login(request, device)
    # A new session key with the higher privilege, as Django does at login.
    request.session.cycle_key()


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (no external image, no inline style)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=16, border=3)
    return image.to_string(encoding="unicode")


def totp_key_for_display(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))
