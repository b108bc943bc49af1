"""Logging of reads and edits of person data in the Django admin.

The admin is a place where person data is read and changed too, by technical administrators who
hold no role in any case: every page that shows one object, and every save or delete, writes an
access-log row with ``via="admin"`` and the real user.
"""
from django.contrib import admin
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext_lazy as _

from audit.labels import purpose_label
from audit.models import AccessLog
from audit.services import access_log_write

ADMIN_PURPOSE = "admin"


class PurposeShownMixin:
    """``purpose_shown``: a row's stored purpose key (the access log's, the disclosure ledger's),
    translated, for list_display and readonly_fields."""

    @admin.display(description=_("purpose"), ordering="purpose")
    def purpose_shown(self, obj):
        return purpose_label(obj.purpose)


def _value(value):
    """A field's value as it may stand in the log (related objects by primary key)."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple, set)) or hasattr(value, "model"):
        return sorted(getattr(v, "pk", v) for v in value)
    return value


def form_changes(form, *, loggable_values=()) -> dict:
    """What a saved admin form changed: ``{field: [old, new]}`` for the fields in
    ``loggable_values`` (values that are not person data), ``{field: None}`` for the rest, whose
    values stay out of the log."""
    changes = {}
    for name in form.changed_data:
        if name in loggable_values:
            changes[name] = [_value(form.initial.get(name)), _value(form.cleaned_data.get(name))]
        else:
            changes[name] = None
    return changes


class ReadOnlyCaseRecordMixin:
    """For a ModelAdmin of a case record that changes only through its own pages (which grant and
    revoke access and keep the deadlines): no adding, no deleting, and the record's short reference
    as a column. The fields are read-only by the admin's own ``readonly_fields``."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("reference"))
    def reference(self, obj):
        return obj.reference


class PersonDataAdminMixin:
    """For a ModelAdmin (and its inlines) of a model that holds person data.

    Logs ``view`` when the change page, the delete confirmation or the history of one object is
    shown; ``create``/``update`` (with the changed field names) when it is saved, and ``delete``
    before it is deleted, for the object and for each inline row changed with it.

    ``audit_person(obj)`` gives the person the row is about: the object itself for a Person, else
    its ``person`` attribute. ``audit_loggable_values`` names the fields whose old and new values
    may be copied into the log (never names, identity numbers, dates of birth or free text).
    """

    audit_loggable_values: tuple = ()
    # The same for inline rows, by model label: {"people.guardianship": ("kind",)}.
    audit_inline_loggable_values: dict = {}

    def audit_person(self, obj):
        if obj is None:
            return None
        if obj._meta.label_lower == "people.person":
            return obj
        return getattr(obj, "person", None)

    def audit_log(self, request, obj, action, *, changes=None, person=None):
        if obj is None or obj.pk is None:
            return None
        return access_log_write(
            user=request.user, action=action, obj=obj, person=person if person is not None else self.audit_person(obj),
            purpose=ADMIN_PURPOSE, via=AccessLog.Via.ADMIN, changes=changes,
        )

    # Django's own admin history (LogEntry) keeps str(obj) — a person's name — and shows it on the
    # admin index under "Recent actions": keep the object's type and number there instead.
    def _neutral_repr(self, entries):
        from django.contrib.admin.models import LogEntry

        entries = entries if isinstance(entries, (list, tuple)) else [entries]
        for entry in entries:
            if entry is not None and entry.pk is not None:
                label = f"{self.model._meta.verbose_name} {entry.object_id}"
                LogEntry.objects.filter(pk=entry.pk).update(object_repr=label)
                entry.object_repr = label
        return entries

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._neutral_repr(entry)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._neutral_repr(entry)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        self._neutral_repr(list(entries) if entries is not None else [])
        return entries

    # The admin's success messages name the object with str(obj) and show on the next page (the
    # list): they say the type and number instead. Kept on the request, never on the shared admin.
    def _label(self, obj_id):
        return f"{self.model._meta.verbose_name} {obj_id}"

    def response_add(self, request, obj, post_url_continue=None):
        request._audit_repr = (str(obj), self._label(obj.pk))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request._audit_repr = (str(obj), self._label(obj.pk))
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        request._audit_repr = (str(obj_display), self._label(obj_id))
        return super().response_delete(request, obj_display, obj_id)

    def message_user(self, request, message, *args, **kwargs):
        shown, label = getattr(request, "_audit_repr", (None, None))
        if shown:
            if isinstance(message, SafeData):  # format_html escaped the name: replace it escaped
                message = mark_safe(str(message).replace(str(escape(shown)), str(escape(label))))
            else:
                message = str(message).replace(shown, label)
        return super().message_user(request, message, *args, **kwargs)

    # Reads: every page that renders one object.
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            self.audit_log(request, obj, AccessLog.Action.VIEW)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "GET":
            self.audit_log(request, self.get_object(request, object_id), AccessLog.Action.VIEW)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self.audit_log(request, self.get_object(request, object_id), AccessLog.Action.VIEW)
        return super().history_view(request, object_id, extra_context)

    # Writes.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            changes = form_changes(form, loggable_values=self.audit_loggable_values)
            if changes:
                self.audit_log(request, obj, AccessLog.Action.UPDATE, changes=changes)
        else:
            self.audit_log(request, obj, AccessLog.Action.CREATE, changes={name: None for name in form.changed_data})

    def delete_model(self, request, obj):
        self.audit_log(request, obj, AccessLog.Action.DELETE)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.audit_log(request, obj, AccessLog.Action.DELETE)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        """Inline rows (a person's guardianships …) are logged under the parent's person."""
        person = self.audit_person(form.instance)
        loggable = self.audit_inline_loggable_values.get(formset.model._meta.label_lower, ())
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk is not None:
                self.audit_log(request, inline_form.instance, AccessLog.Action.DELETE, person=person)
        changed = [
            (f, f.instance.pk is not None) for f in formset.forms if f not in formset.deleted_forms and f.has_changed()
        ]
        super().save_formset(request, form, formset, change)
        for inline_form, existed in changed:
            action = AccessLog.Action.UPDATE if existed else AccessLog.Action.CREATE
            changes = form_changes(inline_form, loggable_values=loggable)
            self.audit_log(request, inline_form.instance, action, changes=changes, person=person)
