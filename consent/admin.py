from django.contrib import admin

from consent.models import Disclosure


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    list_display = ("disclosed_at", "from_service", "to_service", "basis", "legal_reference", "purpose", "revoked_at")
    list_filter = ("basis",)
    readonly_fields = [f.name for f in Disclosure._meta.fields]

    def has_add_permission(self, request):
        return False
