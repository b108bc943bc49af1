"""Reads of individual plans that encode policy: the access helpers and the consent gate.

A plan's content reaches a user only as a member of a service that takes part in the plan now (a
participant not removed, or the current holder of the main responsibility) **and** only while the
plan's consent is in force for that service (consent.selectors.consent_is_active: granted to it, for
an individual plan, not withdrawn, not expired, given by someone entitled at the person's age).
Everything else answers Http404, missing and forbidden alike: an outsider, a service removed from
the plan, every participant the moment the consent is withdrawn (the plan is then paused too).
An offer is seen by the service that registered it; a hand-over by the plan's participants.
"""
from django.http import Http404

from audit.services import access_log_write
from consent.models import Consent
from consent.selectors import consent_is_active
from org.access import code_as_uuid, member_service_ids
from org.models import Service
from referrals.models import IndividualPlan, PlanHandOver, PlanHolder, PlanMeasure, PlanOffer, PlanParticipant

HOLDER, PARTICIPANT = "holder", "participant"
PURPOSE = Consent.Purpose.INDIVIDUAL_PLAN


def current_holder(plan: IndividualPlan) -> PlanHolder:
    """The plan's current holder of the main responsibility (the row without an end)."""
    return PlanHolder.objects.select_related("service", "koordinator").get(plan=plan, ended_at__isnull=True)


def participant_service_ids(plan: IndividualPlan) -> set[int]:
    """The services taking part in the plan now (participants not removed)."""
    return set(PlanParticipant.objects.filter(plan=plan, service__isnull=False, removed_at__isnull=True).values_list("service_id", flat=True))


def plan_roles(user, plan: IndividualPlan) -> dict[str, Service]:
    """The user's roles on ``plan`` through the services they are an active member of, each with the
    service it is held through: {"holder": service} for the current holder's staff, {"participant":
    service} for a participating service's (the holder is a participant too). A role counts only
    while the plan's consent is in force for that service. Empty for everyone else."""
    mine = set(member_service_ids(user))
    if not mine:
        return {}
    holder_id = PlanHolder.objects.filter(plan=plan, ended_at__isnull=True).values_list("service_id", flat=True).first()
    candidates = (participant_service_ids(plan) | {holder_id}) & mine
    roles: dict[str, Service] = {}
    for service in Service.objects.filter(pk__in=candidates).order_by("name", "pk"):
        if not consent_is_active(plan.consent, service=service, purpose=PURPOSE):
            continue
        if service.pk == holder_id:
            roles[HOLDER] = service
        roles.setdefault(PARTICIPANT, service)
    return roles


def plan_get_for_user(user, code, *, role: str | None = None) -> tuple[IndividualPlan, dict[str, Service]]:
    """The plan with ``code`` and the user's roles on it (plan_roles); Http404 if the code is
    malformed or unknown, the user holds no role, or, with ``role``, lacks that one."""
    plan = (
        IndividualPlan.objects.select_related("person", "consent", "registered_by_service")
        .filter(code=code_as_uuid(code)).first()
    )
    if plan is None:
        raise Http404
    roles = plan_roles(user, plan)
    if not roles or (role is not None and role not in roles):
        raise Http404
    return plan, roles


def plan_read(user, code) -> tuple[IndividualPlan, dict[str, Service]]:
    """plan_get_for_user for a page that shows the plan's content: the read is written to the
    access log (purpose "individual plan page") under the service the role is held through."""
    plan, roles = plan_get_for_user(user, code)
    access_log_write(user=user, action="view", obj=plan, person=plan.person, purpose="individual plan page",
                     service=roles.get(HOLDER) or roles[PARTICIPANT])
    return plan, roles


def measure_get_for_user(user, code) -> tuple[PlanMeasure, dict[str, Service]]:
    """A measure of a plan the user may see (plan_get_for_user's rule), with the roles; else Http404."""
    measure = PlanMeasure.objects.select_related("plan", "plan__person", "plan__consent", "responsible_service").filter(
        code=code_as_uuid(code)).first()
    if measure is None:
        raise Http404
    roles = plan_roles(user, measure.plan)
    if not roles:
        raise Http404
    return measure, roles


def handover_get_for_user(user, code) -> PlanHandOver:
    """A hand-over the user may see: as a member of its receiving service or of a service with a role
    on its plan (plan_roles), the consent in force for it; else Http404."""
    handover = PlanHandOver.objects.select_related("plan", "plan__person", "plan__consent", "from_service", "to_service").filter(
        code=code_as_uuid(code)).first()
    if handover is None:
        raise Http404
    if handover.to_service_id in set(member_service_ids(user)) and consent_is_active(
            handover.plan.consent, service=handover.to_service, purpose=PURPOSE):
        return handover
    if not plan_roles(user, handover.plan):
        raise Http404
    return handover


def offer_get_for_user(user, code) -> PlanOffer:
    """An offer, for a member of the service that registered it; else Http404."""
    offer = PlanOffer.objects.select_related("person", "offered_by_service").filter(code=code_as_uuid(code)).first()
    if offer is None or offer.offered_by_service_id not in set(member_service_ids(user)):
        raise Http404
    return offer


def open_plans_on_consent(consent: Consent) -> int:
    """How many active plans rest on ``consent`` (the consent page's warning before a withdrawal)."""
    return IndividualPlan.objects.filter(consent=consent, status=IndividualPlan.Status.ACTIVE).count()
