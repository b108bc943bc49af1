from django.contrib import admin

from workflows.models import Deadline, DeadlinePolicy


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("process", "step", "title", "amount", "unit", "counted_from", "legal_reference", "remind_before_hours", "escalate")
    list_filter = ("process",)
    list_editable = ("amount", "unit", "remind_before_hours", "escalate")


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ("policy", "responsible_service", "due_at", "met_at", "cancelled_at")
    list_filter = ("policy", "responsible_service")
    readonly_fields = [f.name for f in Deadline._meta.fields]

    def has_add_permission(self, request):
        return False
