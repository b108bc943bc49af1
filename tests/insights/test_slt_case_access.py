"""Must show (issue 11): the SLT coordinator gets 404 on every case URL where they hold no role, in
every process.

For each process of the registry (workflows.processes; a process added there without a builder
below fails the test) one case is made through the real services, with a person whose name is
unlike anything else on a page. Then an SLT coordinator of the case's own municipality, whose SLT
service covers it for the insights too (insights.Coverage), requests:

* every URL of the process's app that takes exactly one ``code`` (a UUID), with the case's code.
  Which of them address the case itself, rather than another kind of object (a meeting, a mapping, a
  contact) that shares the shape, is decided by asking: a user who holds a role in the case (its
  handler) reaches the URL by GET with the case's code (any answer but 404 and 405). At least the
  record's own page (``record_url``) must be among them, which checks the builder and its handler.
  SLT is then sent every one of the app's one-code URLs, not only those: a URL addressing another
  kind of object must answer 404 to the case's code as well (no such object), so nothing is skipped
  and nothing depends on the guess;
* viewflow's pages of every process of the case (process detail, cancel, chart) and of every task
  of those processes (detail, execute, assign, …): every URL of the flow's namespace that takes the
  process's pk, or its pk and a task's;
* the same URLs with a forged code (a random UUID) and a forged process pk.

Each answer is 404: never 200, 302, 403 or 500, and never the person's name. A URL the handler
reaches only by POST (405 to GET) is sent to SLT as a POST (empty form): the access helper answers
before the form is read.
"""
import datetime
import uuid
from dataclasses import dataclass

import pytest
import time_machine
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import UUIDConverter
from django.utils import translation
from viewflow.workflow.models import Process, Task

from insights.models import Coverage
from org.models import Membership, Municipality, Service
from tests.factories import advance, make_child, make_melding, make_service, member, next_child_identity
from workflows.processes import processes

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    record: object
    names: tuple[str, ...]  # the person's names, as any service registered them
    handler: object  # a user who holds a role in the case
    slt: object  # an SLT coordinator of the case's municipality, with no role in it
    now: datetime.datetime


def slt_coordinator(municipality) -> object:
    """A member of the municipality's SLT service (made if it has none), which covers it explicitly too."""
    slt = Service.objects.filter(municipality=municipality, kind=Service.Kind.SLT).first()
    slt = slt or make_service(municipality, "SLT", Service.Kind.SLT)
    Coverage.objects.get_or_create(service=slt, municipality=municipality)
    return member(slt)


def build_concern(org):
    child = make_child(org, given="Zelmira", family="Quillfeather", **next_child_identity())
    melding = advance(make_melding(org, child=child), org, "received")  # the review task is open
    return Case(melding, ("Zelmira", "Quillfeather"), org.caseworker, slt_coordinator(org.municipality), None)


def build_referral(org):
    from tests.referral_factories import make_contact, make_referral, make_referral_org

    ro = make_referral_org("9991")
    contact = make_contact(ro, given="Zebedeus")
    referral = make_referral(ro, contact=contact, via_coordinator=True)  # the routing task is open
    return Case(referral, ("Zebedeus",), ro.coordinator, slt_coordinator(ro.org.municipality), None)


def build_youth_contract(org):
    from tests.workflows.youth_contract import scenario as yc_scenario

    muni = org.municipality
    police = make_service(muni, "Fjordvik politistasjon", Service.Kind.POLITI, Service.Owner.STATE)
    hfu = make_service(muni, "Helsestasjon for ungdom (HFU)", Service.Kind.HELSESTASJON)
    yc = yc_scenario.Youth(police=police, other_police=make_service(muni, "Nabodalen politistasjon", Service.Kind.POLITI),
                           hfu=hfu, officer=member(police), other_officer=None, nurse=member(hfu),
                           nurse_leader=member(hfu, role=Membership.Role.LEADER))
    person = make_child(org, birth=datetime.date(2010, 6, 15), given="Zakarias", family="Quillfeather", start=640, service=police)
    from tests.factories import make_guardian

    guardian = make_guardian(person, given="Zinnia", family="Quillfeather")
    contract = yc_scenario.initiate(org, yc, person=person, guardian=guardian)  # signatures awaited: the activation task is open
    return Case(contract, ("Zakarias", "Zinnia", "Quillfeather"), yc.nurse, slt_coordinator(muni), None)


def build_individual_plan(org):
    from tests.workflows.individual_plan import scenario as ip_scenario
    from workflows.individual_plan import services as ipsvc

    ip = ip_scenario.make_plans(org)
    person = ip_scenario.adult(org, ip, given="Zelmira")
    plan = ip_scenario.plan_with_participants(org, ip, person)
    ipsvc.handover_propose(user=ip.rus_staff, plan=plan, to_service=ip.nav)  # a hand-over process with its open task
    plan.refresh_from_db()
    return Case(plan, ("Zelmira", "Nordmann"), ip.rus_staff, slt_coordinator(org.municipality), None)


def build_brukerplan(org):
    from tests.workflows.brukerplan import scenario as bp_scenario

    muni = org.municipality
    rus = make_service(muni, "Psykisk helse og rus", Service.Kind.RUSTJENESTE)
    coordination = make_service(muni, "BrukerPlan-koordinering", Service.Kind.OTHER)
    bp = bp_scenario.BP(org=org, rus=rus, nav=org.nav, coordination=coordination, rus_worker=member(rus), nav_worker=org.nav_staff,
                        coordinator=member(coordination, role=Membership.Role.LEADER))
    round_ = bp_scenario.make_round(bp)
    person = bp_scenario.person(bp, datetime.date(1990, 1, 1), given="Zebedeus")
    bp_scenario.map_person(bp, round_, bp.rus, person)  # a person on the round's worklist, mapped
    return Case(round_, ("Zebedeus",), bp.coordinator, slt_coordinator(muni), None)


# (builder, the frozen time it runs at: the scenario's own, so its ages and dates hold)
BUILDERS = {
    "concern": (build_concern, datetime.datetime(2026, 9, 1, 8, 0, tzinfo=datetime.timezone.utc)),
    "referral": (build_referral, datetime.datetime(2026, 9, 1, 8, 0, tzinfo=datetime.timezone.utc)),
    "youth_contract": (build_youth_contract, datetime.datetime(2026, 9, 1, 8, 0, tzinfo=datetime.timezone.utc)),
    "individual_plan": (build_individual_plan, datetime.datetime(2026, 9, 1, 8, 0, tzinfo=datetime.timezone.utc)),
    "brukerplan": (build_brukerplan, datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.timezone.utc)),
}


# --- the URLs ------------------------------------------------------------------------------------


def namespace_patterns(namespace: str):
    """(URL name, {argument: converter}) of every named pattern under ``namespace``, nested ones included."""
    resolver = get_resolver()
    for part in namespace.split(":"):
        _prefix, resolver = resolver.namespace_dict[part]
    yield from _walk(resolver, namespace, dict(resolver.pattern.converters))


def _walk(resolver, namespace, converters):
    for pattern in resolver.url_patterns:
        found = {**converters, **pattern.pattern.converters}
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace, found)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}", found


def app_code_urls(process, code) -> dict[str, str]:
    """Every URL of the process's app that takes exactly one ``code`` UUID, with ``code``."""
    namespace = process.record_url.split(":")[0]
    return {
        name: reverse(name, kwargs={"code": code})
        for name, converters in namespace_patterns(namespace)
        if set(converters) == {"code"} and isinstance(converters["code"], UUIDConverter)
    }


def record_tasks(process, record):
    """The tasks of every viewflow process of ``record`` (through the registry's task path to it)."""
    path = next(p for p in process.task_related if not p.endswith("__person"))
    return Task.objects.filter(**{path: record}).select_related("process")


def flow_urls(process, tasks, *, forged_pk=None) -> dict[str, str]:
    """Every URL of the flow's namespace for the processes and tasks given (or a forged process pk)."""
    # viewflow names a flow's namespace after its class, less "Flow", in lower case (ConcernFlow: concern).
    namespace = f"workflow:flows:{process.flow_class().__name__.removesuffix('Flow').lower()}"
    urls = {}
    process_pks = {task.process_id for task in tasks} if forged_pk is None else {forged_pk}
    for name, converters in namespace_patterns(namespace):
        if set(converters) == {"process_pk"}:
            for pk in process_pks:
                urls[f"{name}[{pk}]"] = reverse(name, kwargs={"process_pk": pk})
        elif set(converters) == {"process_pk", "task_pk"} and forged_pk is None:
            node = name[len(namespace) + 1:].split(":")[0]
            for task in tasks:
                if task.flow_task.name == node:
                    urls[f"{name}[{task.pk}]"] = reverse(name, kwargs={"process_pk": task.process_id, "task_pk": task.pk})
    return urls


def answer(client, url, *, post: bool):
    return client.post(url, {}) if post else client.get(url)


# --- the test ------------------------------------------------------------------------------------


class SltCaseAccessTests:
    @pytest.mark.parametrize("name", [process.name for process in processes()])
    def test_it_answers_404_to_slt_on_every_url_of_a_case_it_holds_no_role_in(self, client, org, name):
        if name not in BUILDERS:
            pytest.fail(f"No case builder for the process {name!r}: add one to BUILDERS in {__name__}")
        process = next(p for p in processes() if p.name == name)
        build, now = BUILDERS[name]
        with time_machine.travel(now, tick=False), translation.override("en"):
            case = build(org)
            assert isinstance(case.record, process.record_model())
            assert Service.objects.filter(memberships__user=case.slt, kind=Service.Kind.SLT,
                                          municipality=_municipality_of(case)).exists()
            urls = app_code_urls(process, case.record.code)
            record_page = reverse(process.record_url, kwargs={"code": case.record.code})
            tasks = list(record_tasks(process, case.record))
            assert tasks, "the builder's case has no viewflow task"
            assert not process.roles_of()(case.slt, case.record)  # no role: the premise

            # Which URLs address the case: the handler reaches them by GET. (Those only POST reaches are
            # sent to SLT as POSTs below, whatever they address.)
            client.force_login(case.handler)
            post_only, addressing = set(), set()
            for key, url in urls.items():
                status = client.get(url).status_code
                assert status != 500, (key, url)
                if status == 405:
                    post_only.add(key)  # require_POST answers before any lookup: this says nothing of what it addresses
                elif status != 404:
                    addressing.add(key)
            assert record_page in {urls[key] for key in addressing}, (record_page, sorted(addressing))
            detail = next(url for key, url in flow_urls(process, tasks).items() if ":process_detail[" in key)
            assert client.get(detail).status_code == 200  # the handler reaches viewflow's page: SLT's 404 is about SLT

            client.force_login(case.slt)
            forged_code = uuid.uuid4()
            forged_urls = app_code_urls(process, forged_code)
            forged_pk = (Process.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
            checked = {
                **{key: (url, key in post_only) for key, url in urls.items()},
                **{f"{key} (forged code)": (url, key in post_only) for key, url in forged_urls.items()},
                **{key: (url, False) for key, url in flow_urls(process, tasks).items()},
                **{f"{key} (forged process)": (url, False) for key, url in flow_urls(process, tasks, forged_pk=forged_pk).items()},
            }
            assert any(":process_detail[" in key for key in checked) and any(":detail[" in key for key in checked)
            wrong = {}
            for key, (url, post) in checked.items():
                response = answer(client, url, post=post)
                body = response.content.decode(errors="replace")
                if response.status_code != 404 or any(n in body for n in case.names):
                    wrong[key] = (url, response.status_code, [n for n in case.names if n in body])
            assert wrong == {}
            assert len(checked) >= 6 and len(addressing) >= 1


def _municipality_of(case) -> Municipality:
    record = case.record
    for attr in ("municipality", "receiving_service", "sender_service", "followup_service", "registered_by_service"):
        value = getattr(record, attr, None)
        if isinstance(value, Municipality):
            return value
        if isinstance(value, Service):
            return value.municipality
    raise AssertionError(f"no municipality on {record!r}")
