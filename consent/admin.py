from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import PersonDataAdminMixin, PurposeShownMixin, ReadOnlyCaseRecordMixin
from consent.models import AgeRule, Consent, Disclosure, LegalBasis, ReconsentTask
from org.models import Service


@admin.register(Disclosure)
class DisclosureAdmin(PersonDataAdminMixin, PurposeShownMixin, admin.ModelAdmin):
    list_display = ("disclosed_at", "from_service", "to_service", "basis", "legal_reference", "status", "purpose_shown", "revoked_at")
    list_filter = ("basis", "status")
    # The ledger without the person (its name would show): subject by type and id; the purpose translated.
    fields = readonly_fields = [
        "purpose_shown" if f.name == "purpose" else f.name for f in Disclosure._meta.fields if f.name not in ("id", "person")
    ]

    def has_add_permission(self, request):
        return False


class LegalBasisAdminForm(forms.ModelForm):
    """The lists of a legal basis as checkboxes, so only known purposes and service kinds are stored."""

    purposes = forms.MultipleChoiceField(choices=Consent.Purpose.choices, widget=forms.CheckboxSelectMultiple, required=False)
    sender_kinds = forms.MultipleChoiceField(choices=Service.Kind.choices, widget=forms.CheckboxSelectMultiple, required=False)
    recipient_kinds = forms.MultipleChoiceField(choices=Service.Kind.choices, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = LegalBasis
        fields = "__all__"


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    """The catalogue of statutory bases a disclosure may cite: the administrators keep it in line
    with the law. A basis that has been cited is deactivated, never deleted (the ledger keeps it)."""

    form = LegalBasisAdminForm
    list_display = ("code", "statute", "paragraph", "title", "requires_approval", "active", "valid_from", "valid_to")
    list_filter = ("active", "requires_approval", "statute")
    search_fields = ("code", "statute", "paragraph", "title")


@admin.register(AgeRule)
class AgeRuleAdmin(admin.ModelAdmin):
    """Who consents at which age is data: the administrators keep it in line with the law."""

    list_display = ("code", "domain", "from_age", "to_age", "consenter", "heard_from_age", "great_weight_from_age", "legal_reference")
    list_filter = ("domain",)
    ordering = ("domain", "from_age")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyCaseRecordMixin, PersonDataAdminMixin, admin.ModelAdmin):
    """Read-mostly: consents are recorded and withdrawn through the consent pages (and their
    services), which also grant and revoke access; the admin only looks."""

    list_display = ("reference", "purpose", "domain", "recorded_by_service", "valid_from", "valid_to", "withdrawn_at")
    list_filter = ("purpose", "domain", "method")
    # What the consent allows, not whose it is nor what it says about them.
    fields = readonly_fields = ["code", "purpose", "domain", "method", "recorded_by_service", "recorded_at", "valid_from", "valid_to", "withdrawn_at", "grantees"]


@admin.register(ReconsentTask)
class ReconsentTaskAdmin(PersonDataAdminMixin, admin.ModelAdmin):
    list_display = ("consent", "responsible_service", "age", "created_at", "done_at")
    list_filter = ("done_at",)
    readonly_fields = ("consent", "responsible_service", "age", "created_at")
    audit_loggable_values = ("done_at",)

    def audit_person(self, obj):
        return obj.consent.person if obj is not None else None

    def has_add_permission(self, request):
        return False
