"""Where a user lands after logging in: their own work, from the registry's ``landing`` hooks."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from org.access import member_service_kinds, user_is_privacy_function
from workflows.processes import processes


@login_required
def home(request):
    """The reporter on their concerns, barnevern on its intake list, the coordinator on the routing
    queue, a service on its incoming referrals; the privacy function on its access requests; anyone
    else (an administrator) on the task inbox."""
    kinds = member_service_kinds(request.user)
    for process in processes():
        target = process.landing_of()(kinds)
        if target:
            return redirect(target)
    if user_is_privacy_function(request.user):
        return redirect("consent:access_requests")
    return redirect("workflow:inbox")
