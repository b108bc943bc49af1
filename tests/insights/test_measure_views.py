"""The plan-measure pages (insights.measure_views) for each persona: the SLT coordinator keeps the
plan, the responsible service's staff evaluate, a co-responsible service reads, a leader of another
service reads the measure list only, and everyone else gets 404, as for a code that does not exist."""
import uuid

import pytest
from django.urls import reverse

from insights.models import MeasureEvaluation, PolicyMeasure, PolicyPlan
from tests.insights.measure_scenario import add_measure, frozen, plans  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
S = PolicyMeasure.Status


def get(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(f"insights:{name}", args=args))


def post(client, user, name, data, *args):
    client.force_login(user)
    return client.post(reverse(f"insights:{name}", args=args), data)


def measure_data(measure, **changes):
    data = {"version": measure.version, "number": measure.number, "theme": measure.theme, "text": measure.text,
            "responsible_service": measure.responsible_service_id, "co_responsible": [s.pk for s in measure.co_responsible.all()],
            "partners": measure.partners, "status": measure.status, "evaluation_day": measure.evaluation_day,
            "evaluation_month": measure.evaluation_month}
    data.update(changes)
    return data


def plan_pages(plans):
    code = plans.plan.code
    return [("policy_plan", code), ("policy_plan_csv", code), ("policy_plan_pdf", code)]


def measure_pages(plans):
    return [("measure", plans.measure.code), ("measure_edit", plans.measure.code), ("measure_evaluate", plans.measure.code)]


class PlanListTests:
    def test_it_lists_the_plan_for_the_coordinator_with_the_new_plan_button(self, plans, client):
        page = get(client, plans.coordinator, "measures").content.decode()
        assert plans.plan.title in page and 'data-testid="plan-new"' in page

    def test_it_lists_the_plan_for_a_leader_of_any_service_of_the_municipality(self, plans, client):
        page = get(client, plans.school_leader, "measures").content.decode()
        assert plans.plan.title in page and 'data-testid="plan-new"' not in page

    def test_it_lists_the_plan_for_a_co_responsible_service(self, plans, client):
        assert plans.plan.title in get(client, plans.kindergarten, "measures").content.decode()

    def test_it_answers_404_to_an_outsider(self, plans, client):
        assert get(client, plans.outsider, "measures").status_code == 404

    def test_it_does_not_list_the_plan_for_a_leader_of_another_municipality(self, plans, client):
        assert plans.plan.title not in get(client, plans.far_leader, "measures").content.decode()


class PlanPageTests:
    def test_it_shows_the_measures_in_the_plans_order_and_their_status_counts(self, plans, client):
        add_measure(plans, "10")
        add_measure(plans, "2a", status=S.ONGOING)
        page = get(client, plans.coordinator, "policy_plan", plans.plan.code).content.decode()
        assert page.index('data-number="2"') < page.index('data-number="2a"') < page.index('data-number="10"')
        assert 'data-testid="count-not_started"><th scope="row">' in page
        assert '<td data-testid="count-total">3</td>' in page and 'data-testid="measure-new"' in page

    def test_a_leader_reads_the_measure_list_but_opens_no_measure(self, plans, client):
        page = get(client, plans.school_leader, "policy_plan", plans.plan.code)
        assert page.status_code == 200 and reverse("insights:measure", args=[plans.measure.code]) not in page.content.decode()
        for name, code in measure_pages(plans):
            assert get(client, plans.school_leader, name, code).status_code == 404

    @pytest.mark.parametrize("persona", ["outsider", "far_leader"])
    def test_it_answers_404_on_every_plan_and_measure_url_to_someone_without_a_role(self, plans, client, persona):
        user = getattr(plans, persona)
        for name, code in plan_pages(plans) + measure_pages(plans) + [("policy_plan_edit", plans.plan.code),
                                                                      ("measure_new", plans.plan.code)]:
            assert get(client, user, name, code).status_code == 404, name

    def test_a_forged_or_unknown_code_answers_404_like_a_forbidden_one(self, plans, client):
        for code in ("not-a-code", str(uuid.uuid4())):
            for name in ("policy_plan", "policy_plan_csv", "measure", "measure_evaluate"):
                assert get(client, plans.coordinator, name, code).status_code == 404


class MeasurePageTests:
    def test_the_co_responsible_service_reads_the_measure_but_may_not_evaluate_or_change_it(self, plans, client):
        page = get(client, plans.kindergarten, "measure", plans.measure.code)
        assert page.status_code == 200 and 'data-testid="evaluate"' not in page.content.decode()
        assert get(client, plans.kindergarten, "measure_evaluate", plans.measure.code).status_code == 404
        assert get(client, plans.kindergarten, "measure_edit", plans.measure.code).status_code == 404

    def test_the_responsible_service_evaluates_but_may_not_change_the_measure(self, plans, client):
        page = get(client, plans.caseworker, "measure", plans.measure.code).content.decode()
        assert 'data-testid="evaluate"' in page and 'data-testid="measure-edit"' not in page
        assert get(client, plans.caseworker, "measure_edit", plans.measure.code).status_code == 404
        assert post(client, plans.caseworker, "measure_edit", measure_data(plans.measure, text="Endret."), plans.measure.code).status_code == 404


class PlanCreateViewTests:
    def test_the_coordinator_sets_up_a_plan(self, plans, client):
        response = post(client, plans.coordinator, "policy_plan_new", {
            "title": "Alkoholpolitisk handlingsplan", "from_year": 2025, "to_year": 2028, "owner_service": plans.org.slt.pk,
            "municipality": plans.org.municipality.pk}, )
        plan = PolicyPlan.objects.get(title="Alkoholpolitisk handlingsplan")
        assert response.status_code == 302 and response["Location"] == reverse("insights:policy_plan", args=[plan.code])

    def test_a_period_out_of_order_is_shown_on_the_form_and_nothing_is_saved(self, plans, client):
        response = post(client, plans.coordinator, "policy_plan_new", {
            "title": "Baklengs", "from_year": 2030, "to_year": 2025, "owner_service": plans.org.slt.pk,
            "municipality": plans.org.municipality.pk})
        assert response.status_code == 422 and 'data-testid="form-errors"' in response.content.decode()
        assert not PolicyPlan.objects.filter(title="Baklengs").exists()

    def test_staff_of_another_service_get_404(self, plans, client):
        assert get(client, plans.caseworker, "policy_plan_new").status_code == 404


class MeasureFormViewTests:
    def test_the_coordinator_adds_a_measure(self, plans, client):
        data = measure_data(plans.measure, number="11", text="Bidra til å trygge russetiden.", version="")
        response = post(client, plans.coordinator, "measure_new", data, plans.plan.code)
        assert response.status_code == 302 and PolicyMeasure.objects.filter(plan=plans.plan, number="11").exists()

    def test_a_duplicate_number_is_refused_on_the_form(self, plans, client):
        response = post(client, plans.coordinator, "measure_new", measure_data(plans.measure, text="Et annet tiltak."), plans.plan.code)
        assert response.status_code == 422 and PolicyMeasure.objects.filter(plan=plans.plan).count() == 1

    def test_the_coordinator_changes_a_measure(self, plans, client):
        response = post(client, plans.coordinator, "measure_edit", measure_data(plans.measure, status=S.IN_PROGRESS), plans.measure.code)
        plans.measure.refresh_from_db()
        assert response.status_code == 302 and (plans.measure.status, plans.measure.version) == (S.IN_PROGRESS, 2)

    def test_a_stale_form_is_refused_and_the_newer_change_kept(self, plans, client):
        stale = measure_data(plans.measure, text="Den gamle skjemaets tekst.")
        post(client, plans.coordinator, "measure_edit", measure_data(plans.measure, status=S.ONGOING), plans.measure.code)
        response = post(client, plans.coordinator, "measure_edit", stale, plans.measure.code)
        plans.measure.refresh_from_db()
        assert response.status_code == 422 and 'data-testid="form-errors"' in response.content.decode()
        assert (plans.measure.status, plans.measure.text.startswith("Styrke")) == (S.ONGOING, True)


class EvaluateViewTests:
    def data(self, plans, **changes):
        data = {"version": plans.measure.version, "year": 2025, "status": S.IN_PROGRESS, "text": "Samarbeidsmøte holdt i oktober."}
        data.update(changes)
        return data

    def test_the_responsible_service_records_the_evaluation(self, plans, client):
        response = post(client, plans.caseworker, "measure_evaluate", self.data(plans), plans.measure.code)
        assert response.status_code == 302 and MeasureEvaluation.objects.get().service == plans.org.barnevern

    def test_a_year_evaluated_twice_is_refused_on_the_form(self, plans, client):
        post(client, plans.caseworker, "measure_evaluate", self.data(plans), plans.measure.code)
        plans.measure.refresh_from_db()
        response = post(client, plans.caseworker, "measure_evaluate", self.data(plans, text="Igjen."), plans.measure.code)
        assert response.status_code == 422 and MeasureEvaluation.objects.count() == 1

    def test_the_evaluation_shows_on_the_measure_page_with_the_service_not_the_person(self, plans, client):
        post(client, plans.caseworker, "measure_evaluate", self.data(plans), plans.measure.code)
        page = get(client, plans.kindergarten, "measure", plans.measure.code).content.decode()
        assert "Samarbeidsmøte holdt i oktober." in page and "Barneverntjenesten" in page
        assert plans.caseworker.username not in page
