"""The plan-measure pages in real Chromium with axe-core (issue 11, "Must show": axe-core clean on
every measure page): the SLT coordinator's plan list, plan, new plan, new and changed measure (one
refused, its errors shown), the measure page and its evaluation form, and the responsible service's
evaluation refused for a year evaluated already."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from insights import measures as svc
from insights.models import PolicyMeasure
from tests.e2e.support import settled
from tests.factories import make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_every_measure_page_passes_axe(new_page, login, axe_scan):
    org = make_org()
    plan = svc.policy_plan_create(user=org.slt_staff, municipality=org.municipality, owner_service=org.slt,
                                  title="Rusmiddelpolitisk handlingsplan 2025–2030", from_year=2025, to_year=2030)
    measure = svc.measure_create(user=org.slt_staff, plan=plan, number="2", theme="Barn og unge",
                                 text="Styrke samarbeidet mellom barnevernet og barnehagene.", responsible_service=org.barnevern,
                                 co_responsible=[org.barnehage], partners="KoRus")
    svc.measure_evaluate(user=org.caseworker, measure=measure, version=1, year=2025, status=PolicyMeasure.Status.IN_PROGRESS,
                         text="Første samarbeidsmøte holdt.")
    c = login(new_page(), org.slt_staff.username)
    pages = [
        ("insights:measures", ()), ("insights:policy_plan", (plan.code,)), ("insights:policy_plan_new", ()),
        ("insights:policy_plan_edit", (plan.code,)), ("insights:measure_new", (plan.code,)), ("insights:measure", (measure.code,)),
        ("insights:measure_edit", (measure.code,)), ("insights:measure_evaluate", (measure.code,)),
    ]
    for name, args in pages:
        c.goto(reverse(name, args=args))
        axe_scan(settled(c), name)
    c.goto(reverse("insights:measure_new", args=[plan.code]))
    c.locator("input[name=number]").fill("2")
    c.locator("textarea[name=text]").fill("Et tiltak med et nummer planen har.")
    c.get_by_test_id("measure-form").get_by_role("button").click()
    expect(c.get_by_test_id("form-errors")).to_be_visible()
    axe_scan(settled(c), "the refused measure form")
    r = login(new_page(), org.caseworker.username)
    r.goto(reverse("insights:measure_evaluate", args=[measure.code]))
    r.locator("select[name=year]").select_option("2025")
    r.locator("textarea[name=text]").fill("Igjen.")
    r.get_by_test_id("evaluation-form").get_by_role("button").click()
    expect(r.get_by_test_id("form-errors")).to_be_visible()
    axe_scan(settled(r), "the refused evaluation form")
