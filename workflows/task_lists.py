"""viewflow's inbox, queue and archive with translated column headers.

viewflow 2.4 leaves "Brief", "Process brief" and "Created" untranslated in these lists; the
subclasses name the same columns through gettext. The queue reads task_queue_for_user.
"""
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from viewflow import viewprop
from viewflow.workflow.flow.views import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView

from workflows.selectors import task_queue_for_user


# The task and process summaries read the concern or referral behind each process: load them with
# the page's one query instead of three more queries per row.
PROCESS_RELATED = ("process", "process__concernprocess__concern", "process__referralprocess__referral")


class TranslatedColumnsMixin:
    def get_queryset(self):
        return super().get_queryset().select_related(*PROCESS_RELATED)

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
