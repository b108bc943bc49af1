from django.contrib import admin

from notifications.models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "service", "audience", "due_at", "sent_at", "cancelled_at", "attempts")
    list_filter = ("kind", "audience")
    readonly_fields = [f.name for f in Reminder._meta.fields]
