"""viewflow's inbox, queue and archive with translated column headers.

viewflow 2.4 leaves "Brief", "Process brief" and "Created" untranslated in these lists; the
subclasses name the same columns through gettext. The queue reads task_queue_for_user. Each
list names a task's person where the user holds a role on its case (task_list_persons_show).
"""
from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from viewflow import viewprop
from viewflow.workflow.flow.views import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView

from org.access import member_service_ids
from org.models import Service
from org.permissions import HANDLE_TASKS_PERM
from workflows.list_persons import list_persons_show
from workflows.processes import processes, task_related


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


def _task_records(tasks) -> dict:
    """``{task pk: (process entry, case record)}`` for ``tasks`` loaded with ``task_related()``
    (no query: the records come with the page's one query)."""
    out = {}
    for task in tasks:
        for process in processes():
            for path in process.task_related:
                obj = task
                try:
                    for attr in path.split("__"):
                        obj = getattr(obj, attr)
                except ObjectDoesNotExist:
                    continue
                if obj is not None:
                    out[task.pk] = (process, obj)
    return out


def task_list_persons_show(user, tasks) -> list:
    """Name each task's person where the user holds a role on its case now (each process's
    ``list_namings``, one query per process on the page), setting ``task.listed_person``, and log
    the persons named as one list read. A task can sit in an inbox after its case left the user's
    reach (a membership ended, a consent withdrawn): its row then names no one."""
    tasks = list(tasks)
    records = _task_records(tasks)
    by_process = {}
    for process, record in records.values():
        by_process.setdefault(process.name, (process, []))[1].append(record)
    namings = {}
    for process, batch in by_process.values():
        found = import_string(process.list_namings)(user, batch)
        namings.update({(process.name, pk): n for pk, n in found.items()})

    def naming(task):
        process, record = records.get(task.pk, (None, None))
        return namings.get((process.name, record.pk)) if process is not None else None

    return list_persons_show(user, tasks, naming=naming, purpose="task list")


class TranslatedColumnsMixin:
    def get_columns(self):
        # The person after the process's summary (its case reference), where the role allows a name.
        columns = list(super().get_columns())
        columns.insert(columns.index("process_brief") + 1 if "process_brief" in columns else len(columns), "person")
        return columns

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context.get("page_obj")
        tasks = task_list_persons_show(self.request.user, page.object_list if page is not None else context["object_list"])
        if page is not None:
            page.object_list = tasks
        context["object_list"] = tasks
        return context

    def person(self, task):
        return render_to_string("samhandling/_listed_person.html", {"person": getattr(task, "listed_person", None)})

    person.short_description = _("Person")

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
