"""viewflow's inbox, queue and archive with translated column headers.

viewflow 2.4 leaves "Brief", "Process brief" and "Created" untranslated in these lists; the
subclasses only name the same columns through gettext.
"""
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.flow.views import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView


class TranslatedColumnsMixin:
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
    pass


class ArchiveView(TranslatedColumnsMixin, WorkflowArchiveListView):
    pass
