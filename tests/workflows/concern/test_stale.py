"""Every handling service refuses a stale form under the row lock, and changes nothing."""
import pytest
from django.core.exceptions import ValidationError

from referrals.models import Concern, ConcernFeedback
from tests.factories import advance, make_consultation, make_melding
from workflows.concern import services as svc

pytestmark = pytest.mark.django_db

STALE = "1.0"


def _calls(org):
    return {
        "received": ("submitted", lambda c: svc.concern_confirm_receipt(concern=c, user=org.caseworker, version=STALE)),
        "extend": ("investigating", lambda c: svc.concern_extend_investigation(concern=c, user=org.caseworker, reason="Trenger mer tid.", version=STALE)),
        "conclude": ("investigating", lambda c: svc.concern_conclude_investigation(concern=c, user=org.caseworker, outcome="closed", version=STALE)),
        "feedback": ("investigating", lambda c: svc.concern_send_feedback(concern=c, user=org.caseworker, kind="initial", version=STALE)),
    }


class StaleFormTests:
    @pytest.mark.parametrize("action", ["received", "extend", "conclude", "feedback"])
    def test_it_refuses_a_stale_version_and_changes_nothing(self, org, action):
        state, call = _calls(org)[action]
        concern = make_melding(org)
        if state != "submitted":
            concern = advance(concern, org, state)
        before = Concern.objects.filter(pk=concern.pk).values().get()
        with pytest.raises(ValidationError) as err:
            call(concern)
        assert err.value.code == "stale"
        assert Concern.objects.filter(pk=concern.pk).values().get() == before
        assert not ConcernFeedback.objects.filter(concern=concern).exists()

    def test_it_refuses_a_stale_advice_on_a_consultation(self, org):
        consultation = make_consultation(org)
        with pytest.raises(ValidationError):
            svc.consultation_answer(concern=consultation, user=org.caseworker, advice="Snakk med foreldrene.", version=STALE)
        consultation.refresh_from_db()
        assert (consultation.status, consultation.advice) == (Concern.Status.SUBMITTED, "")

    def test_it_accepts_the_current_version(self, org):
        concern = make_melding(org)
        svc.concern_confirm_receipt(concern=concern, user=org.caseworker, version=svc.concern_version(concern))
        concern.refresh_from_db()
        assert concern.status == Concern.Status.RECEIVED
