"""Small helpers shared by the apps' views."""
from django.core.exceptions import ValidationError


def apply_errors(form, error: ValidationError):
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, errs in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, error)
