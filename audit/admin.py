from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import PurposeShownMixin
from audit.models import AccessLog
from audit.services import access_log_read_record


@admin.register(AccessLog)
class AccessLogAdmin(PurposeShownMixin, admin.ModelAdmin):
    """The log, read only. Reading it is itself logged (via "admin"); names of persons are not
    shown, only the person's code."""

    list_display = ("id", "at", "user", "service", "action", "via", "object_type", "object_id", "purpose_shown")
    list_filter = ("action", "via", "object_type")
    fields = (
        "id", "at", "user", "service", "action", "via", "object_type", "object_id", "person_code", "purpose_shown", "changes",
        "prev_hash", "row_hash",
    )
    readonly_fields = fields
    show_full_result_count = False  # no count(*) of a table of millions

    @admin.display(description=_("person"))
    def person_code(self, obj):
        return obj.person.code if obj.person_id else "–"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "service", "person")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and self.has_view_permission(request):
            # The list shows many persons' rows: one row records that the log itself was read.
            access_log_read_record(user=request.user, subject=None, via=AccessLog.Via.ADMIN)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        row = self.get_object(request, object_id) if self.has_view_permission(request) else None
        if row is not None:
            access_log_read_record(user=request.user, subject=row, person=row.person, via=AccessLog.Via.ADMIN)
        return super().change_view(request, object_id, form_url, extra_context)
