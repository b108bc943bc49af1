from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Group
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .admin_labels import permission_label
from .models import AuthenticatorDevice, ExternalIdentity


class SamhandlingAdminPasswordChangeForm(AdminPasswordChangeForm):
    # Django 5.2 appends this warning to the help text in English (not marked for translation).
    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


class SamhandlingUserAdmin(UserAdmin):
    """Users without the ways around need-to-know: permission groups follow service memberships
    (admin → Memberships, where nobody changes their own), and neither groups, object-free
    permissions nor superuser status are handed out here."""

    readonly_fields = ("groups", "permission_list", "is_superuser", "last_login", "date_joined")
    change_password_form = SamhandlingAdminPasswordChangeForm

    def get_fieldsets(self, request, obj=None):
        # The user's own permissions, named in the user's language (see accounts.admin_labels).
        return [
            (title, {**options, "fields": tuple("permission_list" if f == "user_permissions" else f for f in options["fields"])})
            for title, options in super().get_fieldsets(request, obj)
        ]

    @admin.display(description=_("user permissions"))
    def permission_list(self, user):
        return ", ".join(permission_label(p) for p in user.user_permissions.select_related("content_type")) or self.get_empty_value_display()


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, SamhandlingUserAdmin)


class SamhandlingGroupAdmin(GroupAdmin):
    """Django's group admin, with the permissions named in the user's language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name == "permissions":
            formfield.label_from_instance = permission_label
        return formfield


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, SamhandlingGroupAdmin)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "claim", "created_at")
    list_filter = ("issuer", "claim")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


# django-otp's own admin names nothing in the user's language (see AuthenticatorDevice); this one
# takes its place.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """The users' authenticator apps: listed, opened and deleted (a lost phone: delete the app, and
    the user enrols a new one at the next login), never added or edited here. The secret key is not
    shown: whoever saw it could make the user's codes."""

    list_display = ("device_user", "device_name", "device_confirmed", "device_created_at", "device_last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("device_user", "device_name", "device_confirmed", "device_created_at", "device_last_used_at", "device_failures")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("user"), ordering="user__username")
    def device_user(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def device_confirmed(self, device):
        return device.confirmed

    @admin.display(description=_("created"), ordering="created_at")
    def device_created_at(self, device):
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def device_last_used_at(self, device):
        return device.last_used_at

    @admin.display(description=_("wrong codes in a row"))
    def device_failures(self, device):
        return device.throttling_failure_count
