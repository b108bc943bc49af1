"""Every model's ``get_<field>_display`` from a table made once, not from the field's choices
flattened into a new dict on every call.

Django's own (``Model._get_FIELD_display``) flattens the choices and hashes every value each time
it is asked; a list shows a status and a kind on each of its 25 rows, so a page asked it 50 times.
The table is made the first time a field is asked (after every app has loaded its choices) and
answers exactly as Django does: the label of the value in the request's language, else the value.
"""
from functools import partialmethod

from django.apps import apps
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def _display(field):
    table = None

    def get_display(self):
        nonlocal table
        if table is None:
            table = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        try:
            label = table.get(value, value)
        except TypeError:  # an unhashable value (a list in a JSON field): as Django does
            label = table.get(make_hashable(value), value)
        return force_str(label, strings_only=True)

    get_display.__name__ = f"get_{field.name}_display"
    return get_display


def choice_displays_install() -> None:
    """Give every model field with choices the table-backed display (called once, at start-up);
    a model that writes its own ``get_<field>_display`` keeps it."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            name = f"get_{field.name}_display"
            if field.choices is not None and isinstance(model.__dict__.get(name), partialmethod):
                setattr(model, name, _display(field))
