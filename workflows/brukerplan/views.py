"""The BrukerPlan pages: thin (access helper → selector or service → render or redirect)."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from workflows.brukerplan import selectors


@login_required
def round_list(request):
    """The rounds the user's services coordinate or take part in."""
    return render(request, "brukerplan/round_list.html", {"rounds": selectors.rounds_for_user(request.user)[:50]})


@login_required
def round_detail(request, code):
    """A round: its settings, and for the coordinating service the completion per service (counts
    only, never a person). Http404 for everyone without a role on it."""
    round_, roles = selectors.round_get_for_user(request.user, code)
    completion = selectors.completion_for_round(round_) if selectors.COORDINATOR in roles else None
    return render(request, "brukerplan/round_detail.html", {"round": round_, "roles": roles, "completion": completion})
