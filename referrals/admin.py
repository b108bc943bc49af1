from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import PersonDataAdminMixin, ReadOnlyCaseRecordMixin
from org.models import Membership, Municipality, Service
from people.models import Guardianship, Person
from referrals.models import CatalogueEntry, ContractTemplate, YouthContract
from org.services import membership_set


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("name", "number", "emergency_phone")
    search_fields = ("name", "number")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "owner", "municipality", "area", "active")
    list_filter = ("kind", "owner", "municipality", "area", "active")
    search_fields = ("name",)
    autocomplete_fields = ("area",)
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        # Memberships go through the service so the user's permission group follows them.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            membership_set(user=obj.user, service=obj.service, role=obj.role, active=False, by=request.user)
        for inst in instances:
            membership_set(user=inst.user, service=form.instance, role=inst.role, active=inst.active, by=request.user)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "service", "role", "active")
    list_filter = ("role", "active", "service__kind")
    search_fields = ("user__username", "service__name")
    autocomplete_fields = ("user", "service")

    def save_model(self, request, obj, form, change):
        membership = membership_set(user=obj.user, service=obj.service, role=obj.role, active=obj.active, by=request.user)
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        membership_set(user=obj.user, service=obj.service, role=obj.role, active=False, by=request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        clean = form.clean

        def refuse_own(this):
            data = clean(this)
            if data.get("user") is not None and data["user"].pk == request.user.pk:
                raise ValidationError(_("You cannot change your own membership of a service; ask another administrator."))
            return data

        form.clean = refuse_own
        return form


class GuardianshipInline(admin.TabularInline):
    model = Guardianship
    fk_name = "child"
    extra = 0
    fields = ("guardian", "kind")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The guardian by number only: a select or raw-id label would print every person's name.
        if db_field.name == "guardian":
            kwargs["widget"] = forms.NumberInput
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Person)
class PersonAdmin(PersonDataAdminMixin, admin.ModelAdmin):
    # Person data is read in the services' own pages, where every read is logged; the admin
    # shows no names in lists, and its reads and edits are logged like any other (via "admin").
    list_display = ("code", "id_kind", "municipality", "created_at")
    list_filter = ("id_kind",)
    inlines = [GuardianshipInline]
    # No name, number or birth date: a technical administrator reads no person. Each service keeps
    # its own record of the name (PersonRecord); an identity number is set by identifying a contact.
    fields = ("code", "id_kind", "municipality", "approx_age", "created_at")
    readonly_fields = ("code", "id_kind", "created_at")
    actions = None  # the list's action checkboxes would name each person
    audit_loggable_values = ("id_kind", "municipality")
    audit_inline_loggable_values = {"people.guardianship": ("kind",)}


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(admin.ModelAdmin):
    """The service catalogue (“Hvor kan jeg henvise?”), kept by the services or an administrator."""

    list_display = ("service", "capacity", "min_age", "max_age", "referral_required", "last_verified_at")
    list_filter = ("capacity", "referral_required", "service__kind", "areas")
    search_fields = ("service__name", "description", "intake_notes")
    autocomplete_fields = ("service",)
    filter_horizontal = ("areas",)
    readonly_fields = ("verified_by",)
    fieldsets = (
        (None, {"fields": ("service", "description", "accepts", "capacity")}),
        (_("Who it is for"), {"fields": ("min_age", "max_age", "areas", "referral_required", "intake_notes")}),
        (_("How to reach it"), {"fields": ("opening_hours", "phone", "email", "address")}),
        (_("Verification"), {"fields": ("last_verified_at", "verified_by")}),
    )

    def save_model(self, request, obj, form, change):
        # Whoever saves the entry with a verification date vouches for it.
        if "last_verified_at" in form.changed_data and obj.last_verified_at:
            obj.verified_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    """The youth contract templates (ungdomskontrakt), kept as data by the administrators."""

    list_display = ("name", "variant", "min_age", "max_age", "default_months", "max_months", "test_interval_days", "active")
    list_filter = ("variant", "active")
    search_fields = ("name", "code", "legal_reference")
    fieldsets = (
        (None, {"fields": ("code", "name", "variant", "legal_reference", "active")}),
        (_("Who it is for"), {"fields": ("min_age", "max_age")}),
        (_("Period and schedule"), {"fields": ("default_months", "max_months", "test_interval_days", "conversation_interval_days")}),
        (_("Conditions and parties"), {"fields": ("default_conditions", "guardians_sign_under_age", "police_signs", "followup_signs")}),
    )


@admin.register(YouthContract)
class YouthContractAdmin(ReadOnlyCaseRecordMixin, PersonDataAdminMixin, admin.ModelAdmin):
    """Read only: a contract changes through its pages (workflows.youth_contract.services), which
    grant and revoke access and keep the deadlines; the admin only looks, and names no one. Shows
    the choice recorded with the consent: whether the police see the tests and conversations."""

    list_display = ("reference", "variant", "status", "followup_service", "police_service", "starts_on", "ends_on", "police_see_results")
    list_filter = ("variant", "status", "police_see_results")
    fields = readonly_fields = ["code", "template", "variant", "status", "initiating_service", "followup_service", "police_service",
                                "consent", "police_see_results", "police_decision_on", "starts_on", "ends_on", "outcome_reported_at",
                                "created_at", "closed_at"]
    actions = None
