"""Template helpers of the referral pages."""
from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def consent_detail_url(consent) -> str:
    """The consent's own page, or "" while the consent pages are not installed."""
    try:
        return reverse("consent:detail", args=[consent.code])
    except NoReverseMatch:
        return ""


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
