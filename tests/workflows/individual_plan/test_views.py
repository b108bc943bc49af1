"""The individual plan's pages (issue 9): the plan's page to its participants (the person's goals
first, every read logged), 404 for everyone else on every plan URL, viewflow's included; the
hand-over proposed on the plan's page and answered on its task page; bad input refused with a
translated error and nothing saved.

Personas and dates: see scenario.py (the pages speak bokmål).
"""
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AccessLog
from referrals.models import PlanHandOver, PlanHolder
from tests.workflows.individual_plan.scenario import TODAY, plan_with_participants
from workflows.individual_plan import services as svc
from workflows.models import IndividualPlanProcess
from workflows.withdrawal import consent_withdraw_cascade

pytestmark = pytest.mark.django_db
GOALS = "Jeg vil ha egen leilighet og komme i jobb."


def bokmal(msgid: str) -> str:
    with translation.override("nb"):
        text = translation.gettext(msgid)
    assert text != msgid, f"no bokmål for {msgid!r}"
    return escape(text)


@pytest.fixture
def plan(org, ip):
    """Ola's plan held by Psykisk helse og rus, NAV and Hjemmetjenesten taking part, one measure, and
    a hand-over to NAV waiting for its answer."""
    plan = plan_with_participants(org, ip)
    svc.measure_add(user=ip.rus_staff, plan=plan, description="Arbeidstrening tre dager i uka.", responsible_service=ip.nav,
                    starts_on=TODAY, evaluate_on=TODAY.replace(month=12))
    plan.handover = svc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav, note="Arbeid er nå det viktigste.")
    plan.refresh_from_db()
    return plan


def task_kwargs(handover) -> dict:
    process = IndividualPlanProcess.objects.get(handover=handover)
    task = Task.objects.get(process_id=process.pk, flow_task_type="HUMAN")
    return {"process_pk": process.pk, "task_pk": task.pk}


def plan_urls(plan) -> list[str]:
    kwargs = task_kwargs(plan.handover)
    return [
        reverse("individual_plans:detail", args=[plan.code]),
        reverse("workflow:flows:individualplan:process_detail", kwargs={"process_pk": kwargs["process_pk"]}),
        reverse("workflow:flows:individualplan:decide:index", kwargs=kwargs),
        reverse("workflow:flows:individualplan:decide:execute", kwargs=kwargs),
    ]


def page_reads(plan):
    return list(AccessLog.objects.filter(object_type="referrals.individualplan", object_id=plan.pk, purpose="individual plan page")
                .values_list("user_id", "service_id"))


class PlanPageTests:
    def test_it_shows_the_participant_the_persons_goals_first_and_logs_the_read(self, client, ip, plan):
        client.force_login(ip.home_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()

        assert page.index(GOALS) < page.index("Arbeidstrening tre dager i uka.") < page.index('data-testid="participants"')
        assert 'data-testid="handover"' in page and "Psykisk helse og rus" in page
        assert page_reads(plan) == [(ip.home_staff.pk, ip.home.pk)]
        assert 'data-testid="propose"' not in page  # only the holder proposes

    def test_it_offers_the_holder_a_hand_over_and_the_receiver_a_link_to_its_task(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        assert 'data-testid="propose"' in client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:detail", args=[plan.code])).content.decode()
        assert reverse("workflow:flows:individualplan:decide:index", kwargs=task_kwargs(plan.handover)) in page

    def test_every_outsider_gets_404_on_every_plan_url_and_nothing_is_logged(self, client, org, ip, plan):
        for outsider in (ip.dps_staff, org.caseworker, org.slt_staff):
            client.force_login(outsider)
            for url in plan_urls(plan):
                assert client.get(url).status_code == 404, (outsider, url)
            assert client.post(reverse("individual_plans:handover_propose", args=[plan.code]), {}).status_code == 404
        assert page_reads(plan) == []

    def test_a_participant_that_is_not_the_receiver_gets_404_on_the_hand_overs_process(self, client, ip, plan):
        client.force_login(ip.home_staff)
        for url in plan_urls(plan)[1:]:
            assert client.get(url).status_code == 404, url

    def test_a_forged_code_gets_404(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        near = str(plan.code)[:-1] + ("1" if str(plan.code).endswith("0") else "0")  # one digit off, never the code itself
        for code in ("00000000-0000-0000-0000-000000000000", near):
            assert client.get(reverse("individual_plans:detail", args=[code])).status_code == 404

    def test_after_the_withdrawal_every_participants_next_request_gets_404(self, client, ip, plan):
        consent_withdraw_cascade(consent=plan.consent, user=ip.rus_staff, note="Ola trekker samtykket.")
        for user in (ip.rus_staff, ip.nav_staff, ip.home_staff):
            client.force_login(user)
            for url in plan_urls(plan):
                assert client.get(url).status_code == 404, (user, url)

    def test_it_lists_the_plan_to_its_participants_with_the_person_named(self, client, ip, plan):
        client.force_login(ip.nav_staff)
        page = client.get(reverse("individual_plans:index")).content.decode()
        assert reverse("individual_plans:detail", args=[plan.code]) in page and "Ola Nordmann" in page
        assert AccessLog.objects.filter(user=ip.nav_staff, purpose="individual plan list", object_id=plan.pk).exists()
        client.force_login(ip.dps_staff)
        page = client.get(reverse("individual_plans:index")).content.decode()
        assert reverse("individual_plans:detail", args=[plan.code]) not in page and "Ola" not in page


class HandOverPageTests:
    def test_the_holder_proposes_a_hand_over_from_the_plans_page(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        response = client.post(reverse("individual_plans:handover_propose", args=[plan.code]),
                               {"handover-to_service": ip.home.pk, "handover-note": "Hjemmetjenesten ser Ola hver dag."})
        assert response.status_code == 302
        handover = PlanHandOver.objects.get(plan=plan, to_service=ip.home)
        assert (handover.status, handover.note) == ("proposed", "Hjemmetjenesten ser Ola hver dag.")
        assert Task.objects.get(process_id=task_kwargs(handover)["process_pk"], flow_task_type="HUMAN").status == STATUS.NEW

    def test_a_hand_over_to_a_service_outside_the_plan_is_refused_and_nothing_saved(self, client, ip, plan):
        client.force_login(ip.rus_staff)
        before = (PlanHandOver.objects.count(), Task.objects.count())
        response = client.post(reverse("individual_plans:handover_propose", args=[plan.code]), {"handover-to_service": ip.dps.pk})
        assert response.status_code == 422
        assert (PlanHandOver.objects.count(), Task.objects.count()) == before

    def test_the_receiver_accepts_on_viewflows_task_page_and_names_its_koordinator(self, client, ip, plan):
        kwargs = task_kwargs(plan.handover)
        client.force_login(ip.nav_staff)
        client.post(reverse("workflow:flows:individualplan:decide:assign", kwargs=kwargs), {})
        page = client.get(reverse("workflow:flows:individualplan:decide:execute", kwargs=kwargs))
        assert page.status_code == 200 and GOALS in page.content.decode()
        response = client.post(reverse("workflow:flows:individualplan:decide:execute", kwargs=kwargs),
                               {"decision": "accept", "koordinator": ip.nav_staff.pk})
        assert response.status_code == 302 and response.url == reverse("individual_plans:detail", args=[plan.code])
        holder = PlanHolder.objects.get(plan=plan, ended_at__isnull=True)
        assert (holder.service, holder.koordinator, holder.handover_id) == (ip.nav, ip.nav_staff, plan.handover.pk)
        assert Task.objects.get(pk=kwargs["task_pk"]).status == STATUS.DONE

    def test_a_decline_without_a_reason_is_refused_on_the_task_page_and_nothing_saved(self, client, ip, plan):
        kwargs = task_kwargs(plan.handover)
        client.force_login(ip.nav_staff)
        client.post(reverse("workflow:flows:individualplan:decide:assign", kwargs=kwargs), {})
        response = client.post(reverse("workflow:flows:individualplan:decide:execute", kwargs=kwargs), {"decision": "decline", "reason": " "})
        assert response.status_code == 422
        assert bokmal("Say why the hand-over is declined.") in response.content.decode()
        assert PlanHandOver.objects.get(pk=plan.handover.pk).status == "proposed"
        assert PlanHolder.objects.get(plan=plan, ended_at__isnull=True).service == ip.rus
        assert Task.objects.get(pk=kwargs["task_pk"]).status == STATUS.ASSIGNED

    def test_a_koordinator_from_another_service_is_refused_on_the_task_page(self, client, ip, plan):
        kwargs = task_kwargs(plan.handover)
        client.force_login(ip.nav_staff)
        client.post(reverse("workflow:flows:individualplan:decide:assign", kwargs=kwargs), {})
        response = client.post(reverse("workflow:flows:individualplan:decide:execute", kwargs=kwargs),
                               {"decision": "accept", "koordinator": ip.rus_koordinator.pk})
        assert response.status_code == 422
        assert PlanHolder.objects.get(plan=plan, ended_at__isnull=True).service == ip.rus


class EmergencyAccessTests:
    def test_it_lets_a_user_without_a_role_read_the_plan_after_breaking_the_glass_and_logs_it(self, client, org, ip, plan):
        from workflows.services.break_glass import break_glass_open

        client.force_login(org.slt_staff)
        url = reverse("individual_plans:detail", args=[plan.code])
        assert client.get(url).status_code == 404
        break_glass_open(user=org.slt_staff, kind="individual_plan", reference=str(plan.code),
                         justification="Akutt: Ola er innlagt og vakthavende lege trenger planen nå.", minutes=30)

        page = client.get(url).content.decode()

        assert 'data-testid="emergency-banner"' in page and 'data-testid="propose"' not in page
        assert AccessLog.objects.filter(user=org.slt_staff, object_id=plan.pk, purpose="emergency access", via="break_glass").exists()
        assert client.post(reverse("individual_plans:handover_propose", args=[plan.code]), {}).status_code == 404
