"""Names of apps, models and permissions for the admin's lists and choices, in the active language.

Django prints a permission as "app | model | name" with the name Django stored, in English, when it
created the permission, and a content type as "app | model"; django-guardian and django-otp name
their apps and models in English only. The default permissions are named here again from the
model's name; every other name is looked up in the catalogue, where our own permissions (marked
with gettext_noop in the models' Meta) and those packages' names (config/i18n_vendor.py) are.
"""
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext, gettext_lazy as _

DEFAULT_PERMISSION_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
    # viewflow adds "manage" to a process model's default permissions when its flow class is built.
    "manage": _("Can manage %(model)s"),
}


def _translated(name) -> str:
    # A lazy name is translated by str(); a vendor's plain string through the catalogue.
    return gettext(str(name))


def content_type_label(content_type: ContentType) -> str:
    """"App | model", in the active language; a content type whose model is gone keeps its stored names."""
    model = content_type.model_class()
    if model is None:
        return str(content_type)
    return f"{_translated(model._meta.app_config.verbose_name)} | {_translated(model._meta.verbose_name)}"


def permission_label(permission: Permission) -> str:
    """"App | model | what it allows", in the active language (a permission's str() is English)."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    if action in DEFAULT_PERMISSION_NAMES and model_name == model._meta.model_name:
        name = DEFAULT_PERMISSION_NAMES[action] % {"model": _translated(model._meta.verbose_name)}
    else:
        name = gettext(permission.name)
    return f"{content_type_label(permission.content_type)} | {name}"
