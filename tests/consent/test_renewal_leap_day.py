"""Regression: the daily re-consent job must not crash on 29 February."""
import datetime

import pytest

from consent.selectors import consents_needing_renewal

pytestmark = pytest.mark.django_db


class RenewalOnLeapDayTests:
    def test_it_runs_on_29_february(self):
        assert consents_needing_renewal(on=datetime.date(2024, 2, 29)) == []
