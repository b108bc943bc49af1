"""The plan's change history page: every version, newest first, who and for which service, the
fields changed but never their values; for whoever may read the plan (logged), 404 for anyone else.

Personas: ``rus_staff`` of Psykisk helse og rus holds Ola's plan; ``nav_staff`` of NAV takes part;
an outsider of a service outside the plan gets 404.
"""
import re

import pytest
from django.urls import reverse

from audit.models import AccessLog
from referrals.models import PlanVersion
from tests.factories import make_user
from tests.workflows.individual_plan.scenario import plan_with_participants
from workflows.individual_plan import selectors
from workflows.individual_plan import services as svc
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
NEW_GOALS = "Jeg vil bo for meg selv innen sommeren."


@pytest.fixture
def plan(org, ip):
    plan = plan_with_participants(org, ip)
    return svc.plan_update(user=ip.rus_staff, plan=plan, goals=NEW_GOALS)


def rows(response):
    return [int(n) for n in re.findall(r'data-testid="version-row" data-number="(\d+)"', response.content.decode())]


class PlanHistoryPageTests:
    def test_it_lists_every_version_newest_first_for_a_participant(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        response = client.get(reverse("individual_plans:history", args=[plan.code]))
        assert response.status_code == 200
        assert rows(response) == sorted(PlanVersion.objects.filter(plan=plan).values_list("number", flat=True), reverse=True)
        assert rows(response)[0] == plan.version

    def test_it_names_the_fields_changed_never_their_values(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        page = client.get(reverse("individual_plans:history", args=[plan.code])).content.decode()
        assert "Personens egne mål, med egne ord" in page  # the field, by its bokmål label
        assert NEW_GOALS not in page and "Ola" not in page

    def test_it_logs_the_read_under_the_readers_service(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        client.get(reverse("individual_plans:history", args=[plan.code]))
        row = AccessLog.objects.filter(purpose=selectors.READ_HISTORY).get()
        assert (row.user_id, row.service_id, row.person_id) == (ip.nav_staff.pk, ip.nav.pk, plan.person_id)

    def test_it_pages_by_keyset(self, ip, plan, monkeypatch):
        monkeypatch.setattr(selectors, "HISTORY_PAGE_SIZE", 2)
        first, cursor = selectors.plan_history(plan)
        second, _ = selectors.plan_history(plan, cursor=cursor)
        numbers = [v.number for v in first + second]
        assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers) == min(4, plan.version)

    def test_the_plan_page_links_it(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert reverse("individual_plans:history", args=[plan.code]) in page

    def test_an_outsider_a_superuser_and_everyone_after_withdrawal_get_404(self, client, org, ip, plan):
        url = reverse("individual_plans:history", args=[plan.code])
        client.force_login(org.reporter)
        assert client.get(url).status_code == 404
        client.force_login(make_user("root-history", is_superuser=True, is_staff=True))
        assert client.get(url).status_code == 404
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Trakk samtykket.")
        client.force_login(ip.nav_staff)
        assert client.get(url).status_code == 404
        assert not AccessLog.objects.filter(purpose=selectors.READ_HISTORY).exists()
