"""Start-up checks of the people kernel."""
from django.core import checks

from people.holders import undeclared_person_keys


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
