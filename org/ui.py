"""Small helpers shared by the apps' views."""
from django.core.exceptions import ValidationError


def apply_errors(form, error: ValidationError):
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, errs in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, error)


def form_apply(request, form, action, *, success) -> bool:
    """A page's one service call for a bound ``form``: when the form is valid, call ``action()``; a
    refusal (the service's translated ValidationError) lands on the form (apply_errors), else the
    message ``success`` is shown. Returns whether the action was done (then the view redirects;
    otherwise it shows the form again with its errors)."""
    from django.contrib import messages

    if not form.is_valid():
        return False
    try:
        action()
    except ValidationError as e:
        apply_errors(form, e)
        return False
    messages.success(request, success)
    return True
