import datetime

import pytest
import time_machine
from django.utils import timezone

# Figures are by calendar year: the tests run in a fixed one.
NOW = datetime.datetime(2025, 6, 15, 10, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def year():
    return timezone.localdate().year
