"""Start-up checks of the people kernel."""
from django.core import checks

from org.permissions import NOT_PERSON_DATA, PERSON_DATA_MODELS
from people.holders import holdings, undeclared_person_keys


@checks.register()
def every_person_key_declared(app_configs, **kwargs):
    return [
        checks.Error(
            f"{key} points at a person but is not declared in people.holders.",
            hint="Register a people.holders.Holding for it (in the owning app's ready() or its process entry in "
                 "workflows/processes.py), so the person's roles and the person merge include it.",
            id="people.E001",
        )
        for key in undeclared_person_keys()
    ]


@checks.register()
def person_data_grants_need_a_reason(app_configs, **kwargs):
    """A table that holds a person and has object permissions of its own is person data: every grant
    on it must rest on ownership or the disclosure ledger (org.permissions.grant_to_service), unless
    it is listed, with its reason, as not person data."""
    errors = []
    for holding in holdings():
        model = holding.model_class
        label = model._meta.label_lower
        if model._meta.permissions and label not in PERSON_DATA_MODELS and label not in NOT_PERSON_DATA:
            errors.append(checks.Error(
                f"{model._meta.label} holds a person and has object permissions, but org.permissions lists it neither in "
                "PERSON_DATA_MODELS nor in NOT_PERSON_DATA.",
                hint="Add it to PERSON_DATA_MODELS (and OWNERSHIP, for the service that makes it) so grants on it need a reason.",
                id="people.E002",
            ))
    return errors
