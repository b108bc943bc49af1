from django.contrib import admin

from .models import ExternalIdentity


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "claim", "created_at")
    list_filter = ("issuer", "claim")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
