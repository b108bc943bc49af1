"""Template helpers of the consent menu."""
from django import template

register = template.Library()


@register.filter
def leads_a_service(user) -> bool:
    """Whether the user is an active leader of an active service (the approvals menu item)."""
    if not getattr(user, "is_authenticated", False):
        return False
    from org.access import active_memberships
    from org.models import Membership

    return active_memberships(user, role=Membership.Role.LEADER).exists()


@register.filter
def approvals_waiting(user) -> int:
    """How many disclosures wait for the user's approval (the menu badge)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    from consent.selectors import disclosure_pending_count

    return disclosure_pending_count(user)
