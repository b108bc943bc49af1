"""The banners after barnevern and referral actions are in bokmål (issue 7, point 1).

They once sat behind an alias `makemessages` does not collect, and their translations went
obsolete: "Receipt confirmed.", "The review decision has been recorded.", … showed in English.
"""
import pytest
from django.utils import translation

from workflows.concern.views import ACTIONS as CONCERN_ACTIONS
from workflows.referral.views import ACTIONS as REFERRAL_ACTIONS

BANNERS = {
    **{f"concern:{name}": action.done for name, action in CONCERN_ACTIONS.items()},
    **{f"referral:{name}": action.done for name, action in REFERRAL_ACTIONS.items()},
}


class ActionBannerTests:
    @pytest.mark.parametrize("action", sorted(BANNERS))
    def test_it_has_a_bokmal_banner(self, action):
        with translation.override("en"):
            english = str(BANNERS[action])
        with translation.override("nb"):
            bokmal = str(BANNERS[action])
        assert english and bokmal != english, f"{action}: {english!r} has no bokmål translation"

    def test_it_names_the_banners_the_issue_saw(self):
        with translation.override("nb"):
            shown = {str(BANNERS[a]) for a in ("concern:receipt", "concern:review", "concern:conclude", "concern:answer")}
        assert shown == {
            "Mottaket er bekreftet.", "Beslutningen etter gjennomgangen er registrert.", "Undersøkelsen er avsluttet.", "Rådet ditt er sendt.",
        }
