from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task

from accounts.admin_labels import content_type_label
from workflows.models import Deadline, DeadlinePolicy


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("process", "step", "title", "amount", "unit", "counted_from", "legal_reference", "remind_before_hours", "escalate")
    list_filter = ("process",)
    list_editable = ("amount", "unit", "remind_before_hours", "escalate")


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ("policy", "responsible_service", "due_at", "met_at", "cancelled_at")
    list_filter = ("policy", "responsible_service")
    readonly_fields = [f.name for f in Deadline._meta.fields]

    def has_add_permission(self, request):
        return False


# viewflow 2.4 leaves these fields of its process and task models and two of its admin columns
# unnamed, so Django shows the field names in English. Named here (subclassing viewflow's admins,
# never changing them), with the content types in their choices named in the user's language too.
VIEWFLOW_FIELD_LABELS = {
    "data": _("data"),
    "parent_task": _("parent task"),
    "seed_content_type": _("kind of seed"),
    "seed_object_id": _("seed id"),
    "artifact_content_type": _("kind of artifact"),
    "artifact_object_id": _("artifact id"),
    "owner_permission_content_type": _("kind of object the permission is on"),
    "owner_permission_obj_pk": _("id of the object the permission is on"),
}


class _ViewflowLabels:
    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name, label in VIEWFLOW_FIELD_LABELS.items():
            if name in form.base_fields:
                form.base_fields[name].label = label
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and db_field.related_model is ContentType:
            formfield.label_from_instance = content_type_label
        return formfield


class SamhandlingProcessAdmin(_ViewflowLabels, ProcessAdmin):
    # The parent task is shown under a translated name instead, and stays read only.
    exclude = ["parent_task"]
    readonly_fields = [name if name != "parent_task" else "parent_task_shown" for name in ProcessAdmin.readonly_fields]

    @admin.display(description=_("participants"))
    def participants(self, obj):
        return super().participants(obj)

    @admin.display(description=_("Brief"))
    def brief(self, obj):
        return obj.brief

    @admin.display(description=_("parent task"))
    def parent_task_shown(self, obj):
        return obj.parent_task or self.get_empty_value_display()


class SamhandlingTaskAdmin(_ViewflowLabels, TaskAdmin):
    pass


for model, model_admin in ((Process, SamhandlingProcessAdmin), (Task, SamhandlingTaskAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
