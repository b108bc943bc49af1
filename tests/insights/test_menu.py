"""The insights section of the menu: the figures to SLT and service leaders, the forums also to a
member service's staff, the plan measures also to a responsible or co-responsible service's staff;
nothing to a caseworker with none of these. Read with the memberships (no query of its own).

Personas: the forum scenario's SLT coordinator, police officer (a member service) and barnevern
caseworker (no member); the measure scenario's kindergarten staff (co-responsible for a measure).
"""
from django.urls import reverse

from tests.insights.forum_scenario import fo, frozen  # noqa: F401 (fixtures)
from tests.insights.measure_scenario import plans  # noqa: F401 (fixture)


def menu(client, user):
    client.force_login(user)
    html = client.get(reverse("notifications:index")).content.decode()
    return {name for name in ("menu-insights", "menu-forums", "menu-measures") if f'data-testid="{name}"' in html}


class InsightsMenuTests:
    def test_it_offers_the_slt_coordinator_the_whole_section(self, client, fo):
        assert menu(client, fo.slt) == {"menu-insights", "menu-forums", "menu-measures"}

    def test_it_offers_a_member_services_staff_the_forums_only(self, client, fo):
        assert menu(client, fo.police) == {"menu-forums"}

    def test_it_offers_a_caseworker_of_no_member_service_nothing(self, client, fo):
        assert menu(client, fo.org.caseworker) == set()

    def test_it_offers_a_removed_members_staff_nothing(self, client, fo):
        from insights import forums as svc

        svc.forum_member_remove(user=fo.slt, forum=fo.forum, service=fo.police_service)
        assert menu(client, fo.police) == set()

    def test_it_offers_a_co_responsible_services_staff_the_measures_only(self, client, plans):
        assert menu(client, plans.kindergarten) == {"menu-measures"}
        assert client.get(reverse("insights:measures")).status_code == 200

    def test_it_offers_a_service_leader_the_figures_and_the_measures(self, client, plans):
        assert menu(client, plans.school_leader) == {"menu-insights", "menu-measures"}
