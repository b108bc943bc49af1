from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice


class ExternalIdentity(models.Model):
    """An identity at an OpenID Connect provider that an administrator has tied to an existing user.

    A login through the provider succeeds only when its issuer, the configured claim
    (settings.OIDC_USER_CLAIM) and that claim's value match a row here; a login never creates a
    user, a row here or a service membership.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities", verbose_name=_("user")
    )
    issuer = models.CharField(
        _("issuer"), max_length=255,
        help_text=_("The provider's issuer identifier (the id token's iss), e.g. https://idporten.no"),
    )
    claim = models.CharField(
        _("claim"), max_length=64, default="sub",
        help_text=_("The claim that identifies the person (OIDC_USER_CLAIM), e.g. pid, oid or sub."),
    )
    value = models.CharField(_("value"), max_length=255)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "claim", "value"], name="accounts_externalidentity_unique"),
        ]

    def __str__(self):
        # The value may be a national identity number: never shown whole.
        return f"{self.user} ({self.claim} @ {self.issuer})"


class AuthenticatorDevice(TOTPDevice):
    """django-otp's TOTP device under names in the user's language, for the admin.

    django-otp marks none of its model's names for translation, and naming them on its own model
    would need a migration in django-otp; this proxy (no table) carries translated names instead.
    """

    class Meta:
        proxy = True
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")


class SubmissionToken(models.Model):
    """A create form that has been sent (accounts.submission): its one-time token, who sent it and
    where it led, so a second send of the same form answers with the first one's result.

    The row is written in the same transaction as what the form creates: a send that failed leaves
    no row, and its form can be sent again. ``result_path`` is a path of ours with codes (UUIDs)
    only, never a name or an identity number. A row older than a token is accepted
    (accounts.submission.token_max_age) answers nothing and is deleted after its user's next send.
    """

    token = models.UUIDField(_("token"), unique=True, editable=False)
    # No index of its own: the (user, created_at) index below serves every lookup by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"), db_index=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    result_path = models.CharField(_("result"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sent form")
        verbose_name_plural = _("sent forms")
        indexes = [models.Index(fields=["user", "created_at"], name="accounts_submission_user_age")]

    def __str__(self):
        return str(self.token)
