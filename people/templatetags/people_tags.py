"""How a page names a person: through the record of the service whose data it shows."""
from django import template

from people.selectors import person_name_for

register = template.Library()


@register.simple_tag
def person_name(person, service) -> str:
    """The person's name as ``service`` registered it; "–" when that service holds no name."""
    return person_name_for(person, service) or "–"


@register.simple_tag
def guardian_name(guardian, service, number) -> str:
    """A guardian named by ``service``'s record, else "Registered guardian n" (see guardian_label)."""
    from people.selectors import guardian_label

    return guardian_label(guardian, service, number)
