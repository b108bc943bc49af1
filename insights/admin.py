from django.contrib import admin

from insights.models import Coverage


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    """The municipalities an SLT service monitors beyond its own (a coordinator shared by several)."""

    list_display = ("service", "municipality")
    list_filter = ("municipality",)
    search_fields = ("service__name", "municipality__name")
    autocomplete_fields = ("service", "municipality")
