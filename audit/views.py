"""The privacy function's review of unusual access to person data."""
import datetime

from django.conf import settings
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from audit import selectors
from audit.forms import ReviewPeriodForm
from audit.labels import current_label
from audit.models import AccessLog
from audit.services import access_log_read_record
from org.access import member_facts, user_is_privacy_function
from org.models import Service

DEFAULT_DAYS = 30


def _period(form) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    date_to = data.get("date_to") or today
    date_from = data.get("date_from") or date_to - datetime.timedelta(days=DEFAULT_DAYS)
    return date_from, date_to


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _object_labels(rows):
    for row in rows:
        try:
            row.object_label = apps.get_model(current_label(row.object_type))._meta.verbose_name
        except (LookupError, ValueError):
            row.object_label = row.object_type
    return rows


def _privacy_service(user):
    """The first (by name) privacy-function service the user is a member of: privacy_services(user).first()
    from the memberships the page has read already (no query of its own)."""
    return next((service for service, _role in member_facts(user).memberships if service.kind == Service.Kind.PERSONVERN), None)


@login_required
def access_review(request):
    """Break-the-glass reads, reads without a role, and bursts of reads over a period (default
    the last 30 days), each list keyset-paginated. Only the privacy function; 404 for anyone else.
    Opening the page is itself logged."""
    if not user_is_privacy_function(request.user):
        raise Http404
    form = ReviewPeriodForm(request.GET or None)
    date_from, date_to = _period(form)
    since, until = _start_of(date_from), _start_of(date_to + datetime.timedelta(days=1))
    break_glass, break_glass_next = selectors.review_break_glass(since=since, until=until, cursor=request.GET.get("bg"))
    no_case, no_case_next = selectors.review_reads_without_case(since=since, until=until, cursor=request.GET.get("nc"))
    bursts, bursts_next = selectors.review_bursts(since=since, until=until, after=request.GET.get("bu") or None)
    access_log_read_record(
        user=request.user, subject=None, service=_privacy_service(request.user), via=AccessLog.Via.PRIVACY,
        purpose="access review",
    )
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    return render(request, "audit/review.html", {
        "form": form, "date_from": date_from, "date_to": date_to, "params": params,
        "break_glass": _object_labels(break_glass), "break_glass_next": break_glass_next,
        "no_case": _object_labels(no_case), "no_case_next": no_case_next,
        "bursts": bursts, "bursts_next": bursts_next,
        "burst_reads": settings.AUDIT_BURST_READS, "burst_minutes": settings.AUDIT_BURST_MINUTES,
    })
