"""Template helpers of the consent pages and menu."""
from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def consent_status(status: str, label) -> str:
    """A consent's status as a badge (a tag, not an include: lists show one per row)."""
    return format_html('<span class="sh-status sh-status--{}" data-testid="consent-status" data-status="{}">{}</span>', status, status, label)


@register.filter
def leads_a_service(user) -> bool:
    """Whether the user is an active leader of an active service (the approvals menu item)."""
    if not getattr(user, "is_authenticated", False):
        return False
    from org.access import leads_a_service as leads  # the request's membership facts, read once

    return leads(user)


@register.filter
def approvals_waiting(user) -> int:
    """How many disclosures wait for the user's approval (the menu badge)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    from consent.selectors import disclosure_pending_count

    return disclosure_pending_count(user)


@register.inclusion_tag("consent/_report_link.html", takes_context=True)
def transparency_report_link(context, person):
    """A link to the person's transparency report (GDPR art. 15), for exactly the users the report
    page lets in: a leader of a service that holds a role with the person (that service's own
    handling; the privacy function's full report is reached from its registered access request).
    Nothing for anyone else, nor for a page without a person (an anonymous consultation)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if person is None or user is None or not user.is_authenticated:
        return {"person": None}
    from people.access import person_acting_service

    return {"person": person if person_acting_service(user, person, leader=True) is not None else None}
