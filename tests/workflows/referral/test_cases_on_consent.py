"""How many open referrals rest on a consent (the consent page's warning before a withdrawal): the
ones recorded on it and the ones disclosed on it and not revoked, each once, open ones only."""
import pytest
from django.utils import timezone

from consent.models import Disclosure
from referrals.models import Referral
from tests.referral_factories import make_consent, make_contact, make_referral, make_referral_org
from workflows.referral.selectors import open_referrals_on_consent

pytestmark = pytest.mark.django_db


class OpenReferralsOnConsentTests:
    def test_it_counts_each_open_referral_once_by_either_link_until_neither_holds(self):
        ro = make_referral_org("9931")
        contact = make_contact(ro)
        consent = make_consent(ro, contact.person)
        first = make_referral(ro, contact=contact, consent=consent)
        second = make_referral(ro, contact=contact, consent=consent, to=ro.rask)
        make_referral(ro, contact=contact)  # on a consent of its own
        # Both recorded on it and disclosed on it: counted once each.
        assert Disclosure.objects.filter(consent=consent, subject_id=first.pk).exists()
        assert open_referrals_on_consent(consent) == 2

        Referral.objects.filter(pk=second.pk).update(status="completed")
        assert open_referrals_on_consent(consent) == 1

        # Disclosed on it only: still resting on it.
        Referral.objects.filter(pk=first.pk).update(consent=None)
        assert open_referrals_on_consent(consent) == 1

        Disclosure.objects.filter(consent=consent, subject_id=first.pk).update(revoked_at=timezone.now())
        assert open_referrals_on_consent(consent) == 0
