"""Where a user lands after logging in: their own work, from the registry's ``landing`` hooks."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.module_loading import import_string

from org.models import Service
from org.access import active_memberships, member_facts, member_service_kinds, user_is_privacy_function
from workflows.processes import processes


@login_required
def home(request):
    """The reporter on their concerns, barnevern on its intake list, the coordinator on the routing
    queue, the police on their youth contracts, a service on its incoming referrals; the privacy function on its access requests; a
    technical administrator (staff without a membership, who reads no case) on the admin; any other
    member on the task inbox, and a user without a membership on their notifications."""
    # A start page claimed by what the user's services do (the BrukerPlan coordinator) comes first.
    for process in processes():
        target = import_string(process.home)(member_facts(request.user)) if process.home else None
        if target:
            return redirect(target)
    kinds = member_service_kinds(request.user)
    # The SLT coordinator works at system level: on the insights (the insights app, by URL name).
    if Service.Kind.SLT in kinds:
        return redirect("insights:index")
    # The processes that claim all the user's kinds of service come first (the police: their
    # contracts); then the registry's order.
    ordered = sorted(processes(), key=lambda process: not (kinds and set(kinds) <= set(process.home_kinds)))
    for process in ordered:
        target = process.landing_of()(kinds)
        if target:
            return redirect(target)
    if user_is_privacy_function(request.user):
        return redirect("consent:access_requests")
    if not active_memberships(request.user).exists():
        return redirect("admin:index" if request.user.is_staff else "notifications:index")
    return redirect("workflow:inbox")
