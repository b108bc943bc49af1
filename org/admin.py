from django.contrib import admin

from org.models import Area, ServiceKindSetting


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


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    """The school districts, kindergarten areas and city districts that services belong to (the
    insights count cases by them); a service's area is set on the service."""

    list_display = ("name", "municipality")
    list_filter = ("municipality",)
    search_fields = ("name",)
