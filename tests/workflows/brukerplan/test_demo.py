"""The BrukerPlan demo (issue 10, point 7): a round with three services, one of them behind schedule,
run by the demo user ``brukerplan`` (password ``demo``), who sees the counts and no person's mapping."""
import pytest
from django.http import Http404
from django.urls import reverse

from referrals.models import BrukerPlanMapping, BrukerPlanRound
from workflows.brukerplan import selectors

pytestmark = pytest.mark.django_db


class DemoRoundTests:
    def test_it_seeds_an_open_round_with_three_services_one_behind_schedule(self, client):
        from workflows.demo import seed_demo

        seeded = seed_demo()
        users, services = seeded["users"], seeded["services"]
        coordinator = users["brukerplan"]
        assert coordinator.check_password("demo")
        round_ = BrukerPlanRound.objects.get()
        assert round_.status == "open" and round_.coordinator_service == services["brukerplan"]
        rows = {row["service"]: row for row in selectors.completion_for_round(round_)}
        assert set(rows) == {services["rus"], services["nav"], services["tildeling"]}
        assert rows[services["rus"]]["completed_at"] is not None
        assert rows[services["tildeling"]]["mapped"] == 0 and rows[services["tildeling"]]["completed_at"] is None
        assert rows[services["nav"]]["mapped"] == 2
        # Ola is mapped by two services and counted once.
        assert len(list(selectors.mappings_for_report(round_))) == 3
        for mapping in BrukerPlanMapping.objects.all():
            with pytest.raises(Http404):
                selectors.mapping_get_for_user(coordinator, mapping.code)

        client.force_login(coordinator)
        assert reverse("brukerplan:round", args=[round_.code]) in client.get(reverse("brukerplan:index")).content.decode()
        page = client.get(reverse("brukerplan:round", args=[round_.code]))
        assert page.status_code == 200 and services["tildeling"].name in page.content.decode()
        client.force_login(users["barnehage"])
        assert client.get(reverse("brukerplan:round", args=[round_.code])).status_code == 404
