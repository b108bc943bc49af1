from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from insights.access import insight_scope_or_404


@login_required
def measure_list(request):
    insight_scope_or_404(request.user)
    return HttpResponse("")  # stub, replaced by the issue 11 work
