"""One-time tokens for create forms: a second send of the same form answers with the first one's result.

A double click on "Send", a browser that posts again after a slow answer, or Back and Send again
would otherwise create a second concern (and a second disclosure to barnevern), or fail on a key
the first send has just registered. So every create form carries a token (``SubmissionFormMixin``),
issued when the form is rendered and signed for its user, and its view wraps the service call in
``claim``, which writes the token's row (accounts.models.SubmissionToken) in the same transaction as
what the form creates, before it. The row's unique key serialises two sends of one form: on
PostgreSQL the second waits for the first to commit, then finds the token used, and the ``once``
decorator answers it with a redirect to the first result and a calm message. A first send that
failed rolled its row back with everything else, so a second one proceeds as if it were the first.

A view::

    @login_required
    @submission.once
    def thing_create(request):
        form = ThingForm(request.POST or None, submitted_by=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                with submission.claim(form) as sent:
                    thing = svc.thing_create(...)
                    sent.leads_to(reverse("things:detail", args=[thing.code]))
            except ValidationError as e:
                apply_errors(form, e)
            else:
                return redirect("things:detail", thing.code)
        ...

Create forms carry no prefix: the token is always posted as ``submission``.
"""
import datetime
import uuid
from contextlib import contextmanager
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SubmissionToken

FIELD = "submission"

NOT_VERIFIED = _("This form could not be verified, so nothing was sent. Check your answers and send it again.")
TOO_OLD = _("This form was opened too long ago, so nothing was sent. Check your answers and send it again.")
ALREADY_SENT = _("This form had already been sent, so it was not sent again. Here is what you sent.")


def token_max_age() -> datetime.timedelta:
    """How long a token is accepted. Longer than a session lives (SESSION_COOKIE_AGE), so a form is
    never refused as too old while its user is still logged in; rows older than this answer nothing
    (their token is refused before the table is read) and are deleted."""
    return max(datetime.timedelta(days=1), datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE))


def _signer(user) -> signing.TimestampSigner:
    # The user's key in the salt: a token signed for one user does not verify for another.
    return signing.TimestampSigner(salt=f"accounts.submission:{user.pk}")


def token_issue(user) -> str:
    """A new token for a form rendered for ``user`` (a random UUID, timestamped and signed)."""
    return _signer(user).sign(uuid.uuid4().hex)


def token_read(value, *, user) -> uuid.UUID:
    """The UUID of a token ``user`` was issued. Raises a translated ValidationError for a missing,
    forged, another user's or too old token."""
    if not value or user is None or not user.is_authenticated:
        raise ValidationError(NOT_VERIFIED, code="submission_invalid")
    try:
        return uuid.UUID(hex=_signer(user).unsign(value, max_age=token_max_age()))
    except signing.SignatureExpired:
        raise ValidationError(TOO_OLD, code="submission_expired") from None
    except (signing.BadSignature, ValueError):
        raise ValidationError(NOT_VERIFIED, code="submission_invalid") from None


class SubmissionFormMixin(forms.Form):
    """A create form's one-time token, as a hidden field (render it: ``{{ form.submission }}``).

    Takes ``submitted_by``, the user the form is rendered for and sent by (a form built without one
    cannot be sent). A missing, forged, another user's or too old token is an error on top of the
    form, and nothing is sent; the form shown again carries a fresh token, so sending it again works.
    A valid token is ``submission_token`` after ``is_valid()``, for ``claim``.
    """

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def __init__(self, *args, submitted_by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitted_by = submitted_by
        self.submission_token = None
        if not self.is_bound and submitted_by is not None:
            self.initial[FIELD] = token_issue(submitted_by)

    def clean(self):
        cleaned = super().clean()
        try:
            self.submission_token = token_read(cleaned.get(FIELD), user=self.submitted_by)
        except ValidationError as e:
            self.add_error(None, e)
            if self.submitted_by is not None and self.submitted_by.is_authenticated:
                self.data = self.data.copy()
                self.data[self.add_prefix(FIELD)] = token_issue(self.submitted_by)
        return cleaned


class AlreadySent(Exception):
    """The form's token was used by a send that committed; ``path`` is where that send led."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


class Sent:
    """The send under way in ``claim``: the view names where it leads (``leads_to``)."""

    def __init__(self):
        self.path = None

    def leads_to(self, path: str) -> None:
        """``path``: the page the send redirects to, a path of ours with codes only (it is stored,
        so never a name, an identity number or a query string)."""
        if not path.startswith("/") or path.startswith("//") or "?" in path or len(path) > 200:
            raise ValueError("a submission leads to a plain path of ours")
        self.path = path


def _earlier_path(token: uuid.UUID, user) -> str | None:
    return SubmissionToken.objects.filter(token=token, user=user).values_list("result_path", flat=True).first()


@contextmanager
def claim(form: SubmissionFormMixin):
    """Run the body (the service's create) in one transaction with the form's token row.

    The row is inserted first, so a second send of the same token blocks on its unique key until the
    first commits or rolls back; if the first committed, AlreadySent (with the first result's path)
    is raised and the body does not run. An exception from the body rolls back the row with
    everything else. The body must call ``leads_to`` on the yielded Sent. Call only after the form
    is valid.
    """
    token, user = form.submission_token, form.submitted_by
    if token is None:
        raise ValueError("claim() needs a form whose token is valid (call is_valid() first)")
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = SubmissionToken.objects.create(token=token, user=user)
        except IntegrityError:
            # Read committed: this statement sees the first send's row, committed while we waited.
            raise AlreadySent(_earlier_path(token, user) or "") from None
        sent = Sent()
        yield sent
        if sent.path is None:
            raise ValueError("the body of claim() must call leads_to()")
        row.result_path = sent.path
        row.save(update_fields=["result_path"])
        # The user's rows whose tokens are refused anyway, after the commit and outside it (so no
        # send waits on the cleanup; a failed cleanup is logged and retried at the next send).
        transaction.on_commit(lambda: expired_delete(user=user), robust=True)


def expired_delete(*, user) -> int:
    """Delete ``user``'s rows older than a token is accepted; returns how many went."""
    deleted, _by_model = SubmissionToken.objects.filter(
        user=user, created_at__lt=timezone.now() - token_max_age(),
    ).delete()
    return deleted


def _answer_again(request, path):
    messages.info(request, ALREADY_SENT)
    return redirect(path or "home")


def once(view):
    """A create view whose form's second send is answered with the first one's result: a redirect to
    where the first send led, with a calm message, whatever the view would do with the post now
    (the case it created may no longer be editable, say). Put it under ``login_required``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            try:
                token = token_read(request.POST.get(FIELD), user=request.user)
            except ValidationError:
                token = None  # the form says why
            path = _earlier_path(token, request.user) if token is not None else None
            if path is not None:
                return _answer_again(request, path)
        try:
            return view(request, *args, **kwargs)
        except AlreadySent as sent:
            return _answer_again(request, sent.path)

    return wrapper
