"""viewflow's inbox, queue and archive with translated column headers.

viewflow 2.4 leaves "Brief", "Process brief" and "Created" untranslated in these lists; the
subclasses name the same columns through gettext. The queue reads task_queue_for_user.
"""
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from viewflow import viewprop
from viewflow.workflow.flow.views import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView

from org.access import member_service_ids
from org.models import Service
from org.permissions import HANDLE_TASKS_PERM
from workflows.processes import task_related


def task_queue_for_user(user, flow_classes=None):
    """Human tasks waiting in the queues of the user's services.

    Every human step of our flows is permitted per service object (HANDLE_TASKS_PERM on the
    Service, granted to the service's group), so a service member's queue is a filter on the ids of
    their services. viewflow's own ``user_queue`` instead loads every object permission of the
    user's groups into memory — one per concern at a large barnevern service.
    """
    from django.contrib.contenttypes.models import ContentType
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    tasks = Task.objects.filter(
        flow_task_type="HUMAN",
        status=STATUS.NEW,
        owner_permission=HANDLE_TASKS_PERM,
        owner_permission_content_type=ContentType.objects.get_for_model(Service),
        owner_permission_obj_pk__in=[str(pk) for pk in member_service_ids(user)],
    )
    return tasks.filter(process__flow_class__in=list(flow_classes)) if flow_classes else tasks


class TranslatedColumnsMixin:
    def get_queryset(self):
        # The task and process summaries read each process's record: loaded with the page's one query
        # (the registry names the paths), instead of more queries per row.
        return super().get_queryset().select_related(*task_related())

    def brief(self, task):
        return task.brief

    brief.short_description = _("Brief")

    def process_brief(self, task):
        return super().process_brief(task)

    process_brief.short_description = _("Process brief")

    def created(self, task):
        return timesince(task.created)

    created.short_description = _("Created")

    def finished(self, task):
        return timesince(task.finished) if task.finished else ""

    finished.short_description = _("Finished")


class InboxView(TranslatedColumnsMixin, WorkflowInboxListView):
    pass


class QueueView(TranslatedColumnsMixin, WorkflowQueueListView):
    @viewprop
    def queryset(self):
        return task_queue_for_user(self.request.user, self.flow_classes).select_related("owner_permission_content_type").order_by("-created")


class ArchiveView(TranslatedColumnsMixin, WorkflowArchiveListView):
    pass


def menu_counts(user, flow_classes):
    """The querysets behind the menu's inbox and queue badges."""
    from viewflow.workflow.models import Task

    return {"user_inbox": Task.objects.inbox(flow_classes, user), "user_queue": task_queue_for_user(user, flow_classes)}
