"""The referral scenario shared by the ledger and the referral-service tests.

Today is frozen at Tuesday 1 September 2026, 10:00 (English active, so messages read as source).
Import the fixtures into a test module: ``from tests.referral_scenario import frozen_now, sara, svc``.
"""
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from tests.factories import make_child, make_referral_services

NOW = datetime.datetime(2026, 9, 1, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        with translation.override("en"):
            yield


@pytest.fixture
def svc(org):
    """The health and substance services with their named staff (tests.factories.make_referral_services)."""
    return make_referral_services(org)


@pytest.fixture
def sara(org):
    """Sara, 17 on the frozen day."""
    return make_child(org, birth=datetime.date(2009, 3, 10), given="Sara")
