from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.models import Email, Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "service", "audience", "due_at", "sent_at", "cancelled_at", "attempts")
    list_filter = ("kind", "audience")
    # The stored topic is a msgid (or a deadline policy's title): shown translated, as the notice shows it.
    fields = [("topic_shown" if f.name == "topic" else f.name) for f in Reminder._meta.fields]
    readonly_fields = fields

    @admin.display(description=_("topic"), ordering="topic")
    def topic_shown(self, obj):
        return gettext(obj.topic) if obj.topic else "–"


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was sent, what waits, what was dropped and why."""

    list_display = ("message_id", "state", "reason", "attempts", "created_at", "sent_at")
    list_filter = ("state", "reason")
    readonly_fields = [f.name for f in Email._meta.fields]

    def has_add_permission(self, request):
        return False
