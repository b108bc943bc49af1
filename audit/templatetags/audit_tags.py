from django import template

from audit.labels import purpose_label as _purpose_label

register = template.Library()


@register.filter
def purpose_label(purpose: str) -> str:
    """``{{ entry.purpose|purpose_label }}``: a stored purpose, translated (audit.labels.purpose_label)."""
    return _purpose_label(purpose)
