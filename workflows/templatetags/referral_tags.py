"""Template helpers of the referral pages."""
from django import template

register = template.Library()


@register.filter
def is_coordinator(user) -> bool:
    """Whether the user works in a service that runs a routing queue (for the menu)."""
    if not getattr(user, "is_authenticated", False):
        return False
    from workflows.referral.selectors import coordinating_services

    return coordinating_services(user).exists()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
