"""Shared personas and helpers.

Personas (each a real user with a real membership and group, no mocked permission checks):
- ``reporter``: staff in Solsiden barnehage (municipal)
- ``reporter_leader``: leader in Solsiden barnehage
- ``teacher``: staff in Fjordvik skole
- ``caseworker``: staff in Barneverntjenesten
- ``bv_leader``: leader in Barneverntjenesten
- outsiders who must get 404: ``nav_staff``, ``slt_staff``, ``other_bh_staff`` (Eventyrskogen, private)
"""
import os

import pytest
from django.conf import settings

from tests.factories import Org, make_org


def pytest_collection_modifyitems(config, items):
    """Tests marked ``services`` need PostgreSQL and Redis. In CI a missing service is an error."""
    missing = []
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        missing.append("PostgreSQL (set DATABASE_URL)")
    if not os.environ.get("REDIS_URL"):
        missing.append("Redis (set REDIS_URL)")
    if not missing:
        return
    reason = "needs " + " and ".join(missing)
    for item in items:
        if "services" in item.keywords:
            if os.environ.get("CI"):
                item.add_marker(pytest.mark.xfail(reason=f"CI must provide {reason}", run=False, strict=True))
                raise pytest.UsageError(f"CI run without {reason}: the reliability tests cannot be skipped in CI")
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def org(db) -> Org:
    return make_org()
