from django.contrib import admin

from org.models import ServiceKindSetting


@admin.register(ServiceKindSetting)
class ServiceKindSettingAdmin(admin.ModelAdmin):
    """What each kind of service does on the platform (who may report concerns, where its staff
    start), kept by a technical administrator. The municipalities, services and memberships are in
    referrals/admin.py."""

    list_display = ("kind", "may_report_concerns", "starts_on_concerns", "concern_legal_basis")
    list_editable = ("may_report_concerns", "starts_on_concerns")
    list_filter = ("may_report_concerns",)

    def get_readonly_fields(self, request, obj=None):
        # A row is about one kind for good: change what it allows, not which kind it is.
        return ("kind",) if obj is not None else ()
