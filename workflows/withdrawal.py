"""Withdrawing a consent ends every case that rested on it, in every process.

``consent.services.consent_withdraw`` revokes the grants that rested on the consent; this adds what
the processes must do (cancel a referral, its tasks and deadlines, ...). Which processes rest on
consents, and how each ends its cases, comes from the registry (``rests_on_consent`` and
``on_consent_withdrawn``): a new process that rests on consent is included by its entry alone.
"""
from django.db import transaction

from consent.models import Consent
from consent.services import consent_withdraw
from workflows.processes import processes


@transaction.atomic
def consent_withdraw_cascade(*, consent: Consent, user, note: str = "") -> list:
    """Withdraw ``consent`` (revoking every grant that rested on it) and end the open cases of every
    process resting on it, in one transaction. Returns the cases ended (any process's records)."""
    revoked = consent_withdraw(consent=consent, user=user, note=note)
    ended = []
    for process in processes():
        if process.rests_on_consent:
            ended += process.withdrawal_hook()(consent=consent, user=user, revoked=revoked)
    return ended
