"""Access requests (GDPR art. 15): registered, answered and read by the privacy function only.

The privacy function is the one place where an identity number leads to a person: a person who
asks for access identifies themselves, and the request (with its reference) is the legitimate
need. Every step is logged with ``via="privacy"``.
"""
import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log_write
from consent.models import AccessRequest
from org.access import code_as_uuid, privacy_services
from org.models import Service
from people.models import Person
from people.validators import parse_national_id

# GDPR art. 12(3): answered without undue delay and at the latest within one month of receipt.
ANSWER_WITHIN = relativedelta(months=1)


def access_request_due(received_on: datetime.date) -> datetime.date:
    """The last day to answer a request received on ``received_on`` (one calendar month later)."""
    return received_on + ANSWER_WITHIN


def _privacy_service_of(user, service: Service | None) -> Service:
    services = privacy_services(user)
    if service is not None:
        services = services.filter(pk=service.pk)
    found = services.first()
    if found is None:
        raise ValidationError(_("Only the privacy function can register and answer access requests."))
    return found


@transaction.atomic
def access_request_register(
    *, user, national_id: str, reference: str, received_on: datetime.date, requested_by: str = AccessRequest.RequestedBy.PERSON,
    service: Service | None = None,
) -> AccessRequest:
    """Register a person's access request. The person is found by the identity number they gave
    (none found: the answer is that nothing is registered). Refused for anyone but the privacy
    function, and for a receipt date in the future or a missing reference."""
    service = _privacy_service_of(user, service)
    errors = {}
    number = None
    try:
        number, _kind, _birth = parse_national_id(national_id)
    except ValidationError as e:
        errors["national_id"] = e.messages
    if not (reference or "").strip():
        errors["reference"] = _("Give the case reference from the archive.")
    if received_on is None:
        errors["received_on"] = _("Give the date the request was received.")
    elif received_on > timezone.localdate():
        errors["received_on"] = _("The date received cannot be in the future.")
    if requested_by not in AccessRequest.RequestedBy.values:
        errors["requested_by"] = _("Say who made the request.")
    if errors:
        raise ValidationError(errors)
    person = Person.objects.filter(national_id=number, merged_into__isnull=True).first()
    request = AccessRequest.objects.create(
        reference=reference.strip(), person=person, requested_by=requested_by, received_on=received_on,
        due_on=access_request_due(received_on), registered_by=user, registered_by_service=service,
    )
    access_log_write(
        user=user, action="create", obj=request, person=person, purpose="access request registered", service=service, via="privacy",
    )
    return request


@transaction.atomic
def access_request_answer(*, request: AccessRequest, user) -> AccessRequest:
    """Mark the request answered (the report has been sent to the person)."""
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    service = _privacy_service_of(user, request.registered_by_service)
    if request.status != AccessRequest.Status.OPEN:
        raise ValidationError(_("This access request has already been answered."), code="out_of_order")
    request.status = AccessRequest.Status.ANSWERED
    request.answered_at = timezone.now()
    request.answered_by = user
    request.save(update_fields=["status", "answered_at", "answered_by"])
    access_log_write(
        user=user, action="update", obj=request, person=request.person, purpose="access request answered", service=service, via="privacy",
    )
    return request


def access_request_get_for_user(user, code) -> AccessRequest:
    """A request registered by one of the user's privacy-function services, or Http404."""
    request = (
        AccessRequest.objects.select_related("person", "registered_by_service")
        .filter(code=code_as_uuid(code), registered_by_service__in=privacy_services(user))
        .first()
    )
    if request is None:
        raise Http404
    return request


def access_requests_list(user, *, show_answered: bool = False):
    """The requests of the user's privacy-function services: open ones by due date, or the answered."""
    qs = AccessRequest.objects.filter(registered_by_service__in=privacy_services(user)).select_related("registered_by_service")
    if show_answered:
        return qs.filter(status=AccessRequest.Status.ANSWERED).order_by("-answered_at", "-pk")[:200]
    return qs.filter(status=AccessRequest.Status.OPEN).order_by("due_on", "pk")[:200]
