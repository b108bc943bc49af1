from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import ExternalIdentity


class SamhandlingUserAdmin(UserAdmin):
    """Users without the ways around need-to-know: permission groups follow service memberships
    (admin → Memberships, where nobody changes their own), and neither groups, object-free
    permissions nor superuser status are handed out here."""

    readonly_fields = ("groups", "user_permissions", "is_superuser", "last_login", "date_joined")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, SamhandlingUserAdmin)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "claim", "created_at")
    list_filter = ("issuer", "claim")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
