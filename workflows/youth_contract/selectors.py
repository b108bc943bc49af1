"""Reads of youth contracts that encode policy: the access helpers, what the police may see, the lists.

The follow-up service sees everything. The police, and an initiating service that does not follow
the contract up, see only ``ContractStatusView``: the parties, the status, the dates, whether there
were breaches (yes or no) and the outcome — never a test, a conversation or a note, except that the
police party sees the tests' and conversations' dates and results when the contract's consent says
so (``police_sees_results``; the notes never). The young
person's and the guardians' names are shown only to the services that are parties to the contract
(``sees_identities``): an initiator that is not a party (barnevern starting a voluntary contract)
sees the status without them. Every other user gets 404 for every contract, missing and forbidden alike.
"""
from dataclasses import dataclass
import datetime

from django.db.models import Case, Exists, F, OuterRef, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from consent.models import Consent
from consent.selectors import consents_in_force_for
from org.access import held_roles, is_member, member_service_ids, object_perms, permitted_ids_subquery
from org.paging import PAGE_SIZE, KeysetPage, OpaqueCursors
from people.selectors import record_name, with_record_name
from org.permissions import YOUTH_CONTRACT_HANDLER, YOUTH_CONTRACT_STATUS, codename
from referrals.access import EMERGENCY, break_glass_active, case_get_for_user
from referrals.models import ContractAppointment, ContractParty, ContractResult, YouthContract
from workflows.list_persons import Naming

FOLLOWUP, STATUS = "followup", "status"
HANDLER_CODENAME = codename(YOUTH_CONTRACT_HANDLER)
STATUS_CODENAME = codename(YOUTH_CONTRACT_STATUS)


def contract_roles(user, contract: YouthContract) -> set[str]:
    """Which of "followup" (everything) and "status" (the police's fields) the user holds on the
    contract through a service group; {"emergency"} when neither but the glass is broken."""
    perms = object_perms(user, contract)
    roles = set()
    if HANDLER_CODENAME in perms:
        roles.add(FOLLOWUP)
    if STATUS_CODENAME in perms:
        roles.add(STATUS)
    if not roles and break_glass_active(user, contract):
        roles.add(EMERGENCY)
    return roles


def contract_get_for_user(user, code, *, role: str | None = None) -> tuple[YouthContract, set[str]]:
    """The contract with ``code`` and the user's roles on it; Http404 if missing or not permitted
    (or, with ``role``, if the user lacks that role)."""
    return case_get_for_user(_contracts(), code, lambda contract: contract_roles(user, contract), role)


def _contracts():
    return signing_read(YouthContract.objects.select_related("person", "template", "initiating_service", "followup_service", "police_service"))


def signing_read(contracts):
    """``contracts`` with whether a party has yet to sign (``unsigned_any``) and whether a party that
    must sign has (``unsigned_required``) in their own query: the page offers the sign and activate
    steps from them (has_unsigned) without asking again."""
    unsigned = ContractParty.objects.filter(contract_id=OuterRef("pk"), signature__isnull=True)
    return contracts.annotate(unsigned_any=Exists(unsigned), unsigned_required=Exists(unsigned.filter(required=True)))


def has_unsigned(contract: YouthContract, *, required_only: bool = False) -> bool:
    """Whether a party (``required_only``: one that must sign) has not signed ``contract``: from its
    query where signing_read read it, else asked (as the services do on their locked copy)."""
    known = getattr(contract, "unsigned_required" if required_only else "unsigned_any", None)
    if known is not None:
        return known
    parties = contract.parties.filter(signature__isnull=True)
    return (parties.filter(required=True) if required_only else parties).exists()


def sees_identities(user, contract: YouthContract, roles: set[str]) -> bool:
    """Whether the user may see the young person's and the guardians' names on ``contract``: the
    follow-up service and an emergency access do; with the status role only, a member of a service
    that is a party to the contract (the police party), never a non-party initiator. One query."""
    if FOLLOWUP in roles or EMERGENCY in roles:
        return True
    if STATUS not in roles:
        return False
    return ContractParty.objects.filter(contract=contract, service_id__in=member_service_ids(user)).exists()


def police_sees_results(user, contract: YouthContract, roles: set[str]) -> bool:
    """Whether the user sees the contract's tests and conversations as the police party: the
    consent recorded at initiation said so (``police_see_results``), the user is a member of the
    contract's police service holding the status role, the contract is not suspended, and its
    consent is in force for the police now (granted to them as a grantee, for a youth contract, not
    withdrawn, not expired: consent.selectors.consent_is_active). A withdrawn consent ends it at once.

    What they see is ``police_results``: each test's and conversation's date, kind and result.
    Never the follow-up service's free-text notes, who recorded them, or the breach assessments'
    reasons: the choice at the consent step covers "results and conversations", and notes may
    name others and hold what the young person said in confidence (the issue: "never test details
    or conversation notes unless the contract's consent says so"; the consent's text says "not the
    notes"). The follow-up service and an emergency access see everything anyway: False for them.
    """
    if FOLLOWUP in roles or EMERGENCY in roles or STATUS not in roles:
        return False
    if not contract.police_see_results or contract.police_service_id is None or contract.consent_id is None:
        return False
    if contract.status == YouthContract.Status.SUSPENDED:
        return False
    if not is_member(user, contract.police_service):
        return False
    granted = consents_in_force_for({contract.consent_id}, {contract.police_service_id}, purpose=Consent.Purpose.YOUTH_CONTRACT)
    return (contract.consent_id, contract.police_service_id) in granted


@dataclass(frozen=True)
class PoliceResultView:
    """One test or conversation as the police see it (police_sees_results): no note, no recorder."""

    kind: str
    kind_label: str
    taken_on: datetime.date
    outcome: str
    outcome_label: str


def police_results(contract: YouthContract) -> list[PoliceResultView]:
    """The contract's tests and conversations by date, reduced to what the police may see. One query;
    the caller logs the read (health data)."""
    rows = ContractResult.objects.filter(contract=contract).only("kind", "taken_on", "outcome").order_by("taken_on", "id")
    return [PoliceResultView(kind=r.kind, kind_label=str(r.get_kind_display()), taken_on=r.taken_on, outcome=r.outcome,
                             outcome_label=str(r.get_outcome_display())) for r in rows]


def contract_read_for_process(user, process_pk: int) -> tuple[YouthContract, set[str]]:
    """The contract of viewflow's task page and the user's roles on it (contract_get_for_user's
    related rows; the follow-up service only, as contract_get_for_process), else Http404. Two
    queries: the page does not read the contract again by its code."""
    contract = _contracts().filter(process__pk=process_pk).first()
    roles = contract_roles(user, contract) if contract is not None else set()
    if FOLLOWUP not in roles:
        raise Http404
    return contract, roles


def contract_get_for_process(user, process_pk: int) -> YouthContract:
    """viewflow's pages of a contract's process: the follow-up service only, else Http404 (the
    police see the contract page's status fields, never the process and its tasks)."""
    contract = YouthContract.objects.filter(process__pk=process_pk).first()
    if contract is None or FOLLOWUP not in contract_roles(user, contract):
        raise Http404
    return contract


@dataclass(frozen=True)
class PartyView:
    code: str
    role: str
    role_label: str
    name: str  # the person as the initiating service registered them, or the service's name
    service_name: str
    required: bool
    signed_on: datetime.date | None


@dataclass(frozen=True)
class ContractStatusView:
    """Everything the police (and a non-following initiator) may see of a contract."""

    reference: str
    code: str
    variant_label: str
    status: str
    status_label: str
    police_decision_on: datetime.date | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    had_breach: bool
    outcome: str
    outcome_reported_at: datetime.datetime | None
    parties: tuple[PartyView, ...]
    # Suspended because the consent was withdrawn: the police learn that it ended, nothing more.
    withdrawn: bool = False
    # Whether the viewer may see the young person's and the guardians' names (a party's service).
    identities: bool = True
    # The young person as the initiating service registered them (with ``identities``).
    person_name: str = ""


def contract_parties(contract: YouthContract, *, identities: bool = True) -> list[PartyView]:
    """The parties and their signatures; without ``identities`` a person party is named by its role
    only. One query whatever the number of parties (the persons named in it)."""
    rows = ContractParty.objects.filter(contract=contract).select_related("service", "signature").order_by("id")
    if identities:
        rows = with_record_name(rows, "person_id", contract.initiating_service_id)
    return [
        PartyView(code=str(p.code), role=p.role, role_label=str(p.get_role_display()),
                  name=p.service.name if p.service_id else (record_name(p) if identities else str(p.get_role_display())),
                  service_name=p.service.name if p.service_id else "", required=p.required,
                  signed_on=p.signature.signed_on if hasattr(p, "signature") else None)
        for p in rows
    ]


def contract_status_view(contract: YouthContract, *, identities: bool = True, had_breach: bool | None = None) -> ContractStatusView:
    """The police's view of ``contract``. The outcome shows once the contract is over; of a contract
    suspended by a withdrawn consent, only that it ended (no parties, dates, breaches or outcome).
    Without ``identities`` (a viewer that is not a party) the young person and the guardians are
    named by their role only. ``had_breach``: whether the contract had a breach, if the caller has
    read its breaches already (else asked here)."""
    if contract.status == YouthContract.Status.SUSPENDED:
        return ContractStatusView(
            reference=contract.reference, code=str(contract.code), variant_label=str(contract.get_variant_display()),
            status=contract.status, status_label=str(contract.get_status_display()), police_decision_on=None,
            starts_on=None, ends_on=None, had_breach=False, outcome="", outcome_reported_at=None, parties=(), withdrawn=True,
        )
    over = contract.status not in YouthContract.OPEN_STATUSES
    parties = tuple(contract_parties(contract, identities=identities))
    return ContractStatusView(
        reference=contract.reference, code=str(contract.code), variant_label=str(contract.get_variant_display()),
        status=contract.status, status_label=str(contract.get_status_display()), police_decision_on=contract.police_decision_on,
        starts_on=contract.starts_on, ends_on=contract.ends_on,
        had_breach=contract.breaches.exists() if had_breach is None else had_breach,
        outcome=contract.outcome if over else "", outcome_reported_at=contract.outcome_reported_at,
        parties=parties, identities=identities,
        person_name=next((p.name for p in parties if p.role == ContractParty.Role.YOUNG_PERSON), "–") if identities else "",
    )


def contract_naming(*, as_role: str):
    """The Naming of a contract row on a list already narrowed to the user's role: the young person,
    named by the initiating service's record, for the user's service in that role."""
    def naming(contract):
        acting = contract.followup_service_id if as_role == FOLLOWUP else (contract.police_service_id or contract.initiating_service_id)
        return Naming(obj=contract, person_id=contract.person_id, named_by_id=contract.initiating_service_id, acting_service_id=acting)

    return naming


def contract_list_namings(user, contracts) -> dict:
    """For the task lists: ``{contract pk: Naming}`` for the contracts the user holds a role on now."""
    roles = held_roles(user, YouthContract, [c.pk for c in contracts], {FOLLOWUP: HANDLER_CODENAME, STATUS: STATUS_CODENAME})
    return {c.pk: contract_naming(as_role=roles[c.pk])(c) for c in contracts if c.pk in roles}


# The list's cursors: signed, so a user can neither read nor edit a position (a forged one shows the first page).
CURSORS = OpaqueCursors("workflows.youth_contract.paging")


def contracts_for_police(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """The contracts of the user's police services, newest start first: a keyset page on the
    (police_service, starts_on, id) index, then narrowed by the status permission. One query."""
    qs = (
        YouthContract.objects.filter(police_service_id__in=member_service_ids(user))
        .filter(permitted_ids_subquery(user, YouthContract, STATUS_CODENAME))
        .select_related("template")
    )
    return CURSORS.browse(qs, "starts_on", cursor, descending=True, page_size=page_size)


def contracts_followed(user, *, cursor: str | None = None, page_size: int = PAGE_SIZE) -> KeysetPage:
    """The open contracts the user's services follow up, by start: a keyset page on the
    (followup_service, status, starts_on, id) index. One query."""
    qs = (
        YouthContract.objects.filter(followup_service_id__in=member_service_ids(user), status__in=YouthContract.OPEN_STATUSES)
        .filter(permitted_ids_subquery(user, YouthContract, HANDLER_CODENAME))
        .select_related("template")
    )
    return CURSORS.browse(qs, "starts_on", cursor, descending=False, page_size=page_size)


def week_appointments(user, *, day: datetime.date | None = None, days: int = 7):
    """The follow-up worker's week: appointments without a result from the past 14 days (overdue)
    up to ``days`` ahead, on the open contracts the user's services follow up."""
    day = day or timezone.localdate()
    services = member_service_ids(user)
    return list(
        ContractAppointment.objects.filter(
            contract__followup_service_id__in=services, contract__status__in=YouthContract.OPEN_STATUSES,
            cancelled_at__isnull=True, result__isnull=True,
            on__gte=day - datetime.timedelta(days=14), on__lt=day + datetime.timedelta(days=days),
        )
        .select_related("contract")
        .order_by("on", "kind", "id")[:200]
    )


def open_contracts_on_consent(consent) -> int:
    """How many open contracts rest on ``consent`` (the consent page's warning before withdrawal)."""
    return YouthContract.objects.filter(consent=consent, status__in=YouthContract.OPEN_STATUSES).count()


def insight_cases():
    """The youth contracts for the insights rollup (workflows.processes.Process.insight_cases): held
    by the follow-up service from when the contract was initiated, from the initiating service."""
    return (
        YouthContract.objects.order_by()
        .values_list(
            "followup_service__municipality_id", "followup_service_id", "followup_service__kind", "initiating_service_id",
            Coalesce("initiating_service__area_id", "followup_service__area_id"), "created_at", "closed_at", "person__birth_date",
            Case(When(person__birth_date__isnull=True, then=F("person__approx_age")), default=None),
        )
    )
