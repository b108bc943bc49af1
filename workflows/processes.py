"""The one registry of processes: every list that spans processes reads it, none keeps its own.

A process is a package under ``workflows/<name>/`` (services, selectors, forms, views, urls, demo),
a flow module under ``workflows/flows/`` and one ``Process`` entry below. From the entry:

* ``config/urls.py`` mounts the process's pages (``app``) and viewflow's task pages for its flow;
* the workflow middleware checks viewflow's per-process pages with ``access``;
* the task lists load ``task_related`` with each task (no query per row);
* ``people.holders`` learns where the process holds persons (``persons``): the person's roles, the
  person merge and the access-log review read it; ``on_person_merge`` runs first in a merge, for
  rows both records hold where the process allows one (e.g. one contract party per person);
* withdrawing a consent runs ``on_consent_withdrawn`` of every process that ``rests_on_consent``;
* the access log's purposes the process writes (``audit_purposes``) are translated in the reports;
* the menu shows the process's sections by the flags ``menu`` returns, and after login a user lands
  on the first ``landing`` page that their kinds of service have: first of the processes that claim
  all the user's kinds of service as their own (``home_kinds``), then in registry order; a process's
  ``home`` (asked first) claims a user by what their services do (the BrukerPlan coordinator);
* emergency access finds a case by ``record``, asks ``roles`` and ``owner``, and links ``record_url``;
* ``seed_demo`` runs ``demo``;
* the reminder sweep asks ``delivery_gate`` at delivery whether a service may still be told of the record;
* the insights rollup (insights.services.rollup_refresh) counts the process's cases from ``insight_cases``.

Callables are named by dotted path and imported when used, so the registry imports no process
module at start-up. ``workflows.checks`` refuses to start when an entry lacks a required hook, a
dotted path does not import, or a flow module under ``workflows/flows/`` has no entry.
"""
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from people.holders import Holding


@dataclass(frozen=True)
class Process:
    name: str  # also the deadline policies' ``process`` and the step names' namespace
    label: Promise
    flow: str  # dotted path of the Flow class (viewflow stores it: never rename)
    app: str  # dotted path of the viewflow Application with the process's URLs and menu section
    flow_icon: str  # the icon of the flow's task pages in the menu
    access: str  # dotted path: (user, process_pk) -> the process's record, or Http404
    task_related: tuple[str, ...]  # select_related paths from a task to the process's record
    persons: tuple[Holding, ...]  # where the process holds persons
    rests_on_consent: bool  # whether a withdrawn consent can end a case of this process
    audit_purposes: tuple[str, ...]  # the access-log purposes its services and views write (gettext_noop)
    demo: str  # dotted path: seed(seeded: dict) -> None
    menu: str  # dotted path: (the user's org.access.MemberFacts) -> {flag: bool} for the menu templates
    landing: str  # dotted path: (kinds of the user's services) -> URL name of their start page, or None
    # The process's case record, for the pages every process shares (emergency access):
    record: str  # model label of the record ("referrals.Concern"), addressed by its ``code``
    record_url: str  # URL name of the record's page, taking its code
    roles: str  # dotted path: (user, record) -> the user's roles on it ({"emergency"} through an emergency access)
    owner: str  # dotted path: (record) -> the service that holds the case now
    # dotted path: (user, records) -> {record pk: workflows.list_persons.Naming} for the records whose
    # person the user may see named on a list not narrowed by a role (the task lists), in bulk
    list_namings: str
    # dotted path: () -> a values_list queryset of the process's cases (one tuple per case, never a
    # person's name, number or text): (municipality_id, service_id, service_kind, from_service_id,
    # area_id, opened_at, closed_at, birth_date, age_hint). The service is the one holding (receiving)
    # the case, and the municipality its; from_service where the case came from; area_id the
    # from_service's area, else the service's; opened_at when the case reached the service (cases not
    # yet sent are left out); closed_at None while open; birth_date the person's, or None; age_hint
    # an age in years when there is no birth date, else None. The rollup streams it in chunks.
    insight_cases: str
    # Required when rests_on_consent: (*, consent, user, revoked) -> list of the cases it ended;
    # and (consent) -> how many of its open cases rest on it (the consent page's warning).
    on_consent_withdrawn: str = ""
    cases_on_consent: str = ""
    # Why a process that does not rest on consent never does (the law it rests on instead).
    consent_note: str = ""
    # dotted path: (*, source, target) -> None, run by people.services.person_merge before the
    # ``persons`` rows are re-pointed from ``source`` to ``target``; empty when plain re-pointing is enough.
    on_person_merge: str = ""
    # Kinds of service (org.Service.Kind values) whose work is mainly this process: a user whose every
    # service is of these kinds is asked this process's ``landing`` before the registry's order.
    home_kinds: tuple[str, ...] = ()
    # dotted path: ((record pk, service pk) pairs) -> the pairs whose service may still be told of the
    # record, asked by the reminder sweep at delivery (notifications.gates) beyond the permission:
    # for a record whose access rests on a consent that can lapse without a grant being revoked.
    delivery_gate: str = ""
    # dotted path: (the user's org.access.MemberFacts) -> URL name of their start page, or None: a
    # start page claimed by what the user's services do rather than their kind (the BrukerPlan round's
    # coordinating service is of kind "other", like many services). Asked before every ``landing``.
    home: str = ""
    # {name: dotted path to a function returning a boolean expression over a membership's
    # OuterRef("service_id")}: facts of the user's services its ``menu`` asks on every page, read
    # with the memberships at no query of their own (org.access.service_fact_register).
    service_facts: dict = field(default_factory=dict)

    def flow_class(self):
        return import_string(self.flow)

    def app_class(self):
        return import_string(self.app)

    def access_check(self):
        return import_string(self.access)

    def withdrawal_hook(self):
        return import_string(self.on_consent_withdrawn)

    def landing_of(self):
        return import_string(self.landing)

    def menu_flags(self):
        return import_string(self.menu)

    def record_model(self):
        from django.apps import apps

        return apps.get_model(self.record)

    def roles_of(self):
        return import_string(self.roles)

    def owner_of(self):
        return import_string(self.owner)

    def demo_seeder(self):
        return import_string(self.demo)


REGISTRY: list[Process] = [
    Process(
        name="concern",
        label=_("Concern about a child"),
        flow="workflows.flows.concern.ConcernFlow",
        app="workflows.concern.urls.ConcernsApp",
        flow_icon="report",
        access="referrals.access.concern_process_check",
        task_related=("process__concernprocess__concern",),
        persons=(
            # The reporting service holds a role with the child; barnevern's comes from the ledger.
            Holding("referrals.Concern", services=("reporting_service",)),
        ),
        rests_on_consent=False,
        consent_note="A melding rests on the duty to report (barnevernsloven § 13-2), never on consent.",
        audit_purposes=(
            gettext_noop("concern page"), gettext_noop("concern draft"), gettext_noop("concern draft deleted"), gettext_noop("concern sent"),
            gettext_noop("receipt confirmed"), gettext_noop("review decision"), gettext_noop("investigation extended"),
            gettext_noop("investigation concluded"), gettext_noop("feedback to reporter"),
            gettext_noop("consultation answered"), gettext_noop("consultation upgraded"),
            # A list naming the child (one row per child shown); the task lists name them too.
            gettext_noop("concern list"), gettext_noop("task list"),
        ),
        demo="workflows.concern.demo.seed",
        menu="workflows.concern.urls.menu_flags",
        landing="workflows.concern.urls.landing",
        record="referrals.Concern",
        record_url="concerns:detail",
        roles="referrals.access.concern_roles",
        owner="workflows.concern.services.case_owner",
        list_namings="workflows.concern.selectors.concern_list_namings",
        insight_cases="workflows.concern.selectors.insight_cases",
    ),
    Process(
        name="referral",
        label=_("Referral"),
        flow="workflows.flows.referral.ReferralFlow",
        app="workflows.referral.urls.ReferralsApp",
        flow_icon="alt_route",
        access="referrals.access.referral_get_for_process",
        task_related=("process__referralprocess__referral",),
        persons=(
            Holding("referrals.Referral", services=("sender_service",)),
            Holding("referrals.Contact", services=("service",)),
        ),
        rests_on_consent=True,
        on_consent_withdrawn="workflows.referral.services.referrals_end_on_withdrawal",
        cases_on_consent="workflows.referral.selectors.open_referrals_on_consent",
        audit_purposes=(
            gettext_noop("contact registered"), gettext_noop("contact page"), gettext_noop("catalogue search for a contact"),
            gettext_noop("identified"), gettext_noop("identified (merged contact)"),
            gettext_noop("referral form"), gettext_noop("referral page"), gettext_noop("referral sent"), gettext_noop("referral routed"),
            gettext_noop("referral received"), gettext_noop("referral accepted"), gettext_noop("referral declined"),
            gettext_noop("referral notes"), gettext_noop("referral cancelled"), gettext_noop("referral forwarded"),
            gettext_noop("referral in progress"), gettext_noop("referral on hold"), gettext_noop("referral completed"),
            gettext_noop("referral failed"), gettext_noop("referral sent (awaiting approval)"),
            gettext_noop("referral forwarded (awaiting approval)"), gettext_noop("referral sent (approved)"),
            gettext_noop("referral basis not approved"), gettext_noop("referral cancelled (consent withdrawn)"),
            # A list naming the person (one row per person shown); the task lists name them too.
            gettext_noop("referral list"), gettext_noop("contact list"), gettext_noop("task list"),
        ),
        demo="workflows.referral.demo.seed",
        menu="workflows.referral.urls.menu_flags",
        landing="workflows.referral.urls.landing",
        record="referrals.Referral",
        record_url="referrals:detail",
        roles="referrals.access.referral_roles",
        owner="workflows.referral.services.case_owner",
        list_namings="workflows.referral.selectors.referral_list_namings",
        insight_cases="workflows.referral.selectors.insight_cases",
    ),
    Process(
        name="youth_contract",
        label=_("Youth contract"),
        flow="workflows.flows.youth_contract.YouthContractFlow",
        app="workflows.youth_contract.urls.YouthContractsApp",
        flow_icon="handshake",
        access="workflows.youth_contract.selectors.contract_get_for_process",
        task_related=("process__youthcontractprocess__contract",),
        persons=(
            # The initiating service holds a role as the contract's owner; the follow-up service and
            # the police come from the ledger. A guardian party is held by the contract, no service.
            Holding("referrals.YouthContract", services=("initiating_service",)),
            Holding("referrals.ContractParty"),
        ),
        # Both records of one guardian (or the young person and a guardian record of theirs) as parties
        # to one contract become one party, keeping a signature: see contract_parties_merge.
        on_person_merge="workflows.youth_contract.services.contract_parties_merge",
        rests_on_consent=True,
        on_consent_withdrawn="workflows.youth_contract.services.contracts_end_on_withdrawal",
        cases_on_consent="workflows.youth_contract.selectors.open_contracts_on_consent",
        audit_purposes=(
            gettext_noop("youth contract initiated"), gettext_noop("youth contract"), gettext_noop("youth contract (status and outcome)"),
            gettext_noop("youth contract signature"), gettext_noop("youth contract activated"), gettext_noop("youth contract result"),
            gettext_noop("youth contract measure"), gettext_noop("breach opened"), gettext_noop("breach assessed"), gettext_noop("youth contract completed"),
            gettext_noop("youth contract ended"), gettext_noop("outcome reported to the police"),
            gettext_noop("youth contract outcome to the police"), gettext_noop("youth contract suspended (consent withdrawn)"),
            gettext_noop("youth contract page"), gettext_noop("youth contract status page"), gettext_noop("youth contract test results"),
            # A list naming the young person (one row per person shown); the task lists name them too.
            gettext_noop("youth contract list"), gettext_noop("task list"),
        ),
        demo="workflows.youth_contract.demo.seed",
        menu="workflows.youth_contract.urls.menu_flags",
        landing="workflows.youth_contract.urls.landing",
        home_kinds=("politi",),  # the police's work here is their contracts (Service.Kind.POLITI)
        record="referrals.YouthContract",
        record_url="youth_contracts:detail",
        roles="workflows.youth_contract.selectors.contract_roles",
        owner="workflows.youth_contract.services.case_owner",
        list_namings="workflows.youth_contract.selectors.contract_list_namings",
        insight_cases="workflows.youth_contract.selectors.insight_cases",
    ),
    Process(
        name="individual_plan",
        label=_("Individual plan"),
        flow="workflows.flows.individual_plan.IndividualPlanFlow",
        app="workflows.individual_plan.urls.IndividualPlansApp",
        flow_icon="diversity_3",
        # The flow's processes are the hand-overs; the record they are about (and that every shared
        # page asks for) is the plan.
        access="workflows.individual_plan.selectors.plan_get_for_process",
        task_related=("process__individualplanprocess__handover__plan",),
        persons=(
            # The service that registered the offer, and the one that started the plan, hold a role with
            # the person; the other participating services come from the ledger.
            Holding("referrals.PlanOffer", services=("offered_by_service",)),
            Holding("referrals.IndividualPlan", services=("registered_by_service",)),
            # The guardians who answered an offer on a child's behalf, and the next of kin in a plan: no service role.
            Holding("referrals.PlanOffer_answered_by_guardians"),
            Holding("referrals.PlanParticipant"),
        ),
        # Both records of one next of kin taking part in one plan become one participant: see plan_participants_merge.
        on_person_merge="workflows.individual_plan.services.plan_participants_merge",
        # The plan exists only with the person's consent: withdrawing it pauses the plan and cancels
        # its open hand-overs (and their tasks).
        rests_on_consent=True,
        on_consent_withdrawn="workflows.individual_plan.services.plans_pause_on_withdrawal",
        cases_on_consent="workflows.individual_plan.selectors.open_plans_on_consent",
        audit_purposes=(
            gettext_noop("individual plan offered"), gettext_noop("individual plan offer answered"), gettext_noop("individual plan created"),
            gettext_noop("individual plan changed"), gettext_noop("individual plan shared"), gettext_noop("individual plan participant added"),
            gettext_noop("individual plan participant removed"), gettext_noop("individual plan measure"),
            gettext_noop("individual plan koordinator"), gettext_noop("main responsibility hand-over proposed"),
            gettext_noop("main responsibility hand-over accepted"), gettext_noop("main responsibility hand-over declined"),
            gettext_noop("main responsibility hand-over cancelled"), gettext_noop("individual plan paused (consent withdrawn)"),
            gettext_noop("individual plan resumed (new consent)"),
            # The ansvarsgruppe's meetings (workflows.individual_plan.meetings).
            gettext_noop("ansvarsgruppe meeting scheduled"), gettext_noop("ansvarsgruppe meeting cancelled"),
            gettext_noop("ansvarsgruppe minutes written"), gettext_noop("ansvarsgruppe meeting page"),
            gettext_noop("ansvarsgruppe meeting invitation"),
            # The reads of a plan's content: its page, its document (the PDF), the hand-over's task page.
            gettext_noop("individual plan page"), gettext_noop("individual plan document"), gettext_noop("individual plan hand-over task"),
            gettext_noop("individual plan history"),
            gettext_noop("individual plan offer page"),
            # A list naming the person (one row per person shown); the task lists name them too.
            gettext_noop("individual plan list"), gettext_noop("individual plan offer list"), gettext_noop("task list"),
        ),
        demo="workflows.individual_plan.demo.seed",
        menu="workflows.individual_plan.urls.menu_flags",
        landing="workflows.individual_plan.urls.landing",
        record="referrals.IndividualPlan",
        record_url="individual_plans:detail",
        roles="workflows.individual_plan.selectors.plan_registry_roles",
        owner="workflows.individual_plan.services.case_owner",
        list_namings="workflows.individual_plan.selectors.plan_list_namings",
        insight_cases="workflows.individual_plan.selectors.insight_cases",
        # A participant sees the plan only while the consent is in force for it (selectors), and a
        # consent can lapse (its period, the person's age) with every grant still in place.
        delivery_gate="workflows.individual_plan.selectors.plan_delivery_gate",
    ),
    Process(
        name="brukerplan",
        label=_("BrukerPlan round"),
        flow="workflows.flows.brukerplan.BrukerPlanFlow",
        app="workflows.brukerplan.urls.BrukerPlanApp",
        flow_icon="query_stats",
        # The flow's process is the round; every shared page asks for the round (no person on it).
        access="workflows.brukerplan.selectors.round_get_for_process",
        task_related=("process__brukerplanprocess__round",),
        persons=(
            # The register the cohorts are drawn from: the service gave the person a service.
            Holding("people.ServicePeriod", services=("service",)),
            # A mapping is held by the mapping service alone (never the coordinator).
            Holding("referrals.BrukerPlanMapping", services=("service",)),
        ),
        # Both records of one person mapped by one service in one round become one mapping.
        on_person_merge="workflows.brukerplan.services.mappings_merge",
        rests_on_consent=False,
        consent_note="BrukerPlan maps each service's own users for the municipality's planning of its services "
                     "(helse- og omsorgstjenesteloven § 3-1, folkehelseloven § 5) and shares only a de-identified "
                     "report; no person's data leaves the mapping service, so nothing rests on consent.",
        audit_purposes=(
            gettext_noop("service period recorded"), gettext_noop("brukerplan scope marked"), gettext_noop("brukerplan mapping saved"),
            gettext_noop("brukerplan children followed up"), gettext_noop("brukerplan mapping page"), gettext_noop("brukerplan worklist"),
            # The task lists span the processes (a round has no human task, but the lists declare it alike).
            gettext_noop("task list"),
        ),
        demo="workflows.brukerplan.demo.seed",
        menu="workflows.brukerplan.urls.menu_flags",
        service_facts={"brukerplan_rounds": "workflows.brukerplan.selectors.rounds_in_menu_fact"},
        landing="workflows.brukerplan.urls.landing",
        home="workflows.brukerplan.urls.home",
        record="referrals.BrukerPlanRound",
        record_url="brukerplan:round",
        roles="workflows.brukerplan.selectors.round_registry_roles",
        owner="workflows.brukerplan.services.case_owner",
        list_namings="workflows.brukerplan.selectors.round_list_namings",
        insight_cases="workflows.brukerplan.selectors.insight_cases",
    ),
]


def processes() -> list[Process]:
    return list(REGISTRY)


def process_named(name: str) -> Process:
    for process in REGISTRY:
        if process.name == name:
            return process
    raise LookupError(name)


def process_for_flow(flow_path: str | None) -> Process | None:
    """The entry whose flow is stored as ``flow_path`` (viewflow's ``Process.flow_class``), or None."""
    for process in REGISTRY:
        if process.flow == flow_path:
            return process
    return None


def process_for_record(record) -> Process | None:
    """The entry whose case record ``record`` is (an instance of its model), or None."""
    label = record._meta.label_lower
    for process in REGISTRY:
        if process.record.lower() == label:
            return process
    return None


def register_consent_hooks() -> None:
    """Tell consent how to count each process's open cases resting on a consent (WorkflowsConfig.ready)."""
    from consent.resting import register_cases_on_consent

    for process in REGISTRY:
        if process.rests_on_consent:
            register_cases_on_consent(process.name, import_string(process.cases_on_consent))


def register_delivery_gates() -> None:
    """Tell the reminder sweep which records it must ask their process about at delivery
    (notifications.gates; called from WorkflowsConfig.ready)."""
    from notifications.gates import register_delivery_gate

    for process in REGISTRY:
        if process.delivery_gate:
            register_delivery_gate(process.record, import_string(process.delivery_gate))


def register_service_facts() -> None:
    """Tell org.access the service facts each process's menu reads (called from WorkflowsConfig.ready)."""
    from org.access import service_fact_register

    for process in REGISTRY:
        for name, path in process.service_facts.items():
            service_fact_register(name, import_string(path))


def register_persons() -> None:
    """Tell people.holders where each process holds persons, and the merge hooks of those that
    need one (called from WorkflowsConfig.ready)."""
    from people.holders import register, register_merge_hook

    for process in REGISTRY:
        register(*process.persons)
        if process.on_person_merge:
            register_merge_hook(import_string(process.on_person_merge))
