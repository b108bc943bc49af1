"""viewflow's inbox, queue and archive, and the menu's task badges, read by index at any size.

viewflow 2.4 builds these pages in ways that grow with the task table: its queue loads every object
permission of the user's groups into memory, its filters list every process in the queue and every
distinct step of the user's tasks, its pager counts them all, and each list asks for the same flow
permissions again and again. Here each list is one indexed read of one page:

* the queue: open human tasks whose permission object is one of the user's services (the
  ``viewflow_task`` (content type, object pk, created, id) index of open tasks, migration
  ``workflows.0010_task_list_indexes``);
* the inbox: the user's assigned tasks, newest first ((owner, created, id) of assigned tasks);
* the archive: the tasks the user finished, by when ((owner, finished, id) of finished tasks);

each paged by keyset (an opaque cursor in the next/previous links, never OFFSET, never a count);
the step filter lists the flows' steps (no query), and the menu badges count at most
``BADGE_CAP`` + 1 tasks of each kind in one query.

The subclasses also name viewflow's untranslated columns ("Brief", "Process brief", "Created")
through gettext, and name a task's person where the user holds a role on its case
(task_list_persons_show).
"""
import functools
from urllib.parse import urlencode

from django.core.exceptions import ObjectDoesNotExist
from django.template import Context, Template
from django.template.loader import get_template
from django.utils.encoding import force_str
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.module_loading import import_string
from django.utils.text import format_lazy
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateRangeFilter, FilterSet
from viewflow import viewprop
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views import WorkflowArchiveListView, WorkflowInboxListView, WorkflowQueueListView
from viewflow.workflow.flow.views.mixins import StoreRequestPathMixin
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from org.access import member_service_ids
from org.compiled import CompiledQuery
from org.links import RowLinks
from org.models import Service
from org.paging import keyset_browse
from org.permissions import HANDLE_TASKS_PERM
from workflows.list_persons import list_persons_show
from workflows.processes import processes

# The menu shows "99+" beyond this many tasks: counting further would read the whole queue.
BADGE_CAP = 99


def flows_viewable(user, flow_classes) -> list:
    """The flows of ``flow_classes`` whose task pages the user may see (each flow's own
    ``has_view_permission``), asked once per flow and request: the answers are kept on the user
    object, which Django loads afresh for every request (viewflow keeps its per-object permission
    cache there too). The site middleware, the page, the menu and its badges all ask this."""
    memo = getattr(user, "_samhandling_task_flows", None)
    if memo is None:
        memo = {}
        user._samhandling_task_flows = memo
    viewable = []
    for flow_class in flow_classes or ():
        if flow_class not in memo:
            memo[flow_class] = bool(flow_class.instance.has_view_permission(user))
        if memo[flow_class]:
            viewable.append(flow_class)
    return viewable


def any_flow_viewable(user, flow_classes) -> bool:
    """Whether the user may see the task pages of any of ``flow_classes`` (stops at the first)."""
    return any(flows_viewable(user, [flow_class]) for flow_class in flow_classes or ())


def _service_task_filter(service_pks) -> dict:
    from django.contrib.contenttypes.models import ContentType

    return dict(
        flow_task_type="HUMAN",
        status=STATUS.NEW,
        owner_permission=HANDLE_TASKS_PERM,
        owner_permission_content_type=ContentType.objects.get_for_model(Service),
        owner_permission_obj_pk__in=service_pks,
    )


def task_queue_for_user(user, flow_classes=None):
    """Human tasks waiting in the queues of the user's services.

    Every human step of our flows is permitted per service object (HANDLE_TASKS_PERM on the
    Service, granted to the service's group), so a service member's queue is a filter on the ids of
    their services, served by the open-task index on (content type, object pk, created, id).
    viewflow's own ``user_queue`` instead loads every object permission of the user's groups into
    memory — one per concern at a large barnevern service.
    """
    tasks = Task.objects.filter(**_service_task_filter([str(pk) for pk in member_service_ids(user)]))
    return tasks.filter(process__flow_class__in=list(flow_classes)) if flow_classes else tasks


def task_inbox_for_user(user, flow_classes):
    """The tasks assigned to the user in ``flow_classes`` (viewflow's inbox: ASSIGNED, not yet started)."""
    return Task.objects.coerce_for(flow_classes).filter(owner=user, status=STATUS.ASSIGNED)


def task_archive_for_user(user, flow_classes):
    """The tasks the user finished in ``flow_classes`` (viewflow's archive)."""
    return Task.objects.coerce_for(flow_classes).filter(owner=user, finished__isnull=False)


def _badge_statement(shape: tuple, *, user_id) -> tuple[str, list]:
    """The badges' one statement for ``shape`` = (the flows the user may see, whether to count the
    unread notifications too): ``SELECT (inbox), (queue), (unread)``, the first two only with flows,
    the last only with ``unread`` (task_badge_counts reads them in that order)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    from notifications.selectors import unread_capped_of
    from org.access import active_memberships_of_user

    flows, unread = shape
    # Every flow there is: no task is of another, so no join to the processes to ask (it read the
    # process of each of up to 200 tasks, on every page).
    of_flows = {} if set(flows) >= {process.flow_class() for process in processes()} else {"process__flow_class__in": flows}
    counts = []
    if flows:
        services = active_memberships_of_user(user_id).annotate(pk_text=Cast("service_id", CharField())).values("pk_text")
        inbox = Task.objects.filter(owner_id=user_id, status=STATUS.ASSIGNED, **of_flows)
        queue = Task.objects.filter(**_service_task_filter(services), **of_flows)
        # In the inbox index's order, so it is the index read (not the owner's every task, finished ones too).
        counts += [inbox.order_by("-created", "-pk").values("pk")[: BADGE_CAP + 1], queue.order_by().values("pk")[: BADGE_CAP + 1]]
    if unread:
        counts.append(unread_capped_of(user_id))
    parts, params = [], []
    for qs in counts:
        sql, qs_params = qs.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) c)")
        params.extend(qs_params)
    return f"SELECT {', '.join(parts)}", params


# On every page with the task menu: compiled once per process and shape, not per request (org.compiled).
_BADGES = CompiledQuery(_badge_statement, "user_id")


def task_badge_counts(user, flow_classes, *, unread: bool = False) -> dict:
    """``{"inbox": n, "queue": n}`` for the menu: the user's assigned tasks and their services' open
    tasks in the flows they may see, each counted up to ``BADGE_CAP`` + 1 (the menu shows "99+"), in
    one query. The queue's services are a subquery here (the badge is on every page; a list of ids
    would cost a query of its own). With ``unread``, the same statement also counts the user's
    unread notifications (``"unread"``, capped as notifications.selectors.unread_capped): the menu
    shows both, and one round trip less on every page."""
    flows = tuple(flows_viewable(user, flow_classes))
    result = {"inbox": 0, "queue": 0}
    if not flows and not unread:
        return result
    (row,) = _BADGES.rows(shape=(flows, unread), user_id=user.pk)
    names = (("inbox", "queue") if flows else ()) + (("unread",) if unread else ())
    result.update(zip(names, row))
    return result


# viewflow's session key of the task list last shown (viewflow.workflow.flow.views.mixins.StoreRequestPathMixin).
PIN_LOCATION = "vf-pin-location"


# --- keyset pages ---------------------------------------------------------------------------------

# The cursors' query parameters (org.paging.keyset_browse): the rows after (older) or before (newer) the one named.
AFTER_PARAM, BEFORE_PARAM = "etter", "før"


# --- filters --------------------------------------------------------------------------------------

def step_choices(flow_classes, task_types=("HUMAN",)) -> list[tuple[str, str]]:
    """The steps of ``flow_classes`` a task list can hold, as filter choices ("<process>: <step>"),
    from the flow definitions: no query (viewflow reads the distinct steps of every task listed)."""
    choices = []
    for flow_class in flow_classes:
        for node in flow_class.instance.nodes():
            if node.task_type in task_types:
                choices.append((get_task_ref(node), format_lazy("{}: {}", flow_class.process_title, node.task_title)))
    return sorted(choices, key=lambda choice: str(choice[1]))


class TaskListFilter(FilterSet):
    """The inbox's and queue's filters: the step and when the task was created. (viewflow's own also
    offers every process in the list as a choice: thousands of options at a large service.)"""

    flow_task = ChoiceFilter()
    created = DateRangeFilter()

    class Meta:
        model = Task
        fields = ("flow_task", "created")


class ArchiveListFilter(FilterSet):
    flow_task = ChoiceFilter()
    created = DateRangeFilter()
    finished = DateRangeFilter()

    class Meta:
        model = Task
        fields = ("flow_task", "created", "finished")


# --- persons --------------------------------------------------------------------------------------

def _task_records(tasks) -> dict:
    """``{task pk: (process entry, case record)}`` for ``tasks`` loaded by ``tasks_with_records``
    (no query: the records were read with the page, one query per kind of process)."""
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


@functools.cache
def _process_children() -> dict:
    """{a flow's process model: (its accessor on viewflow's Process, the select_related paths from it
    to the process's record)}, from the registry's ``task_related`` paths."""
    out = {}
    for path in (path for process in processes() for path in process.task_related):
        _process, accessor, *below = path.split("__")
        model = Process._meta.get_field(accessor).related_model
        out.setdefault(model, (accessor, []))[1].extend(["__".join(below)] if below else [])
    return out


def tasks_with_records(tasks) -> list:
    """``tasks`` (loaded with their process) with each process's own row and case record read in,
    one query per kind of process on the page, so the summaries and names read them without a
    query per row. (Joined into the page's one query, the 15 tables of every process took
    PostgreSQL 7 ms to plan, against 1 ms to run.) The other kinds' rows are known absent."""
    tasks = list(tasks)
    children = _process_children()
    wanted = {}
    for task in tasks:
        model = task.flow_task.flow_class.process_class if task.flow_task else None
        if model in children:
            wanted.setdefault(model, set()).add(task.process_id)
    found = {}
    for model, ids in wanted.items():
        found.update({(model, row.pk): row for row in model._default_manager.filter(pk__in=ids).select_related(*children[model][1])})
    relations = [(model, Process._meta.get_field(accessor)) for model, (accessor, _below) in children.items()]
    for task in tasks:
        for model, relation in relations:
            relation.set_cached_value(task.process, found.get((model, task.process_id)))
    return tasks


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


# --- summaries -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=128)
def _summary_template(source: str) -> Template:
    return Template(source)


def task_brief(task) -> str:
    """viewflow's ``Task.brief``, from a compiled template kept per text (viewflow compiles the
    flow's summary template again for every row: twice per row on a list)."""
    flow_task = task.flow_task
    if not flow_task:
        return task.brief
    source = (task.finished and flow_task.task_result_template) or flow_task.task_summary_template or \
        flow_task.task_description or flow_task.task_title or "{{ flow_task }}/{{ task.get_status_display }}"
    return _summary_template(force_str(source)).render(Context({
        "process": task.process.coerced, "task": task.coerced, "flow_class": flow_task.flow_class, "flow_task": flow_task,
    }))


def process_brief(process) -> str:
    """viewflow's ``Process.brief``, from a compiled template kept per text."""
    flow_class = process.flow_class
    if flow_class is None:
        return process.brief
    source = (process.finished and flow_class.process_result_template) or flow_class.process_summary_template or \
        flow_class.process_description or "{{ flow_class.process_title }} - {{ process.get_status_display }}"
    return _summary_template(force_str(source)).render(Context({"process": process.coerced, "flow_class": flow_class}))


# --- the pages ------------------------------------------------------------------------------------

def _cell(value) -> str:
    return "" if value is None else force_str(value)


class RowCells(list):
    """A row's ``[(column, cell)]`` as viewflow's list template reads them, and ``html``: the
    row's ``<td>`` cells already rendered (each cell escaped unless it is safe HTML)."""

    def __init__(self, cells, html):
        super().__init__(cells)
        self.html = html


class TaskListMixin:
    """What the inbox, queue and archive share: translated columns, the person column, the flows'
    permissions asked once, a step filter without queries, and keyset pages by ``sort_field``."""

    sort_field = "created"
    step_types = ("HUMAN",)
    filterset_class = TaskListFilter

    def dispatch(self, request, *args, **kwargs):
        # viewflow's StoreRequestPathMixin keeps the list's address in the session (a task page's
        # "back" link) by writing it on every request: a session UPDATE on every list page, even
        # when the address is the one already kept. Past that mixin when nothing would change.
        if request.session.get(PIN_LOCATION) == request.get_full_path():
            return super(StoreRequestPathMixin, self).dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    @property
    def viewable_flows(self) -> list:
        return flows_viewable(self.request.user, self.flow_classes)

    def has_view_permission(self, user, obj=None):
        if obj is not None:
            return super().has_view_permission(user, obj=obj)
        return any_flow_viewable(user, self.flow_classes)

    def get_filterset(self, filterset_class, queryset):
        filterset = super().get_filterset(filterset_class, queryset)
        filterset.filters["flow_task"].field.choices = step_choices(self.viewable_flows, self.step_types)
        return filterset

    def get_columns(self):
        # The person after the process's summary (its case reference), where the role allows a name.
        columns = list(super().get_columns())
        columns.insert(columns.index("process_brief") + 1 if "process_brief" in columns else len(columns), "person")
        return columns

    def get_queryset(self):
        # The tasks with their process; each process's record follows for the page's rows only
        # (tasks_with_records), not joined here.
        return super().get_queryset().select_related("process")

    def paginate_queryset(self, queryset, page_size):
        page = keyset_browse(
            queryset, self.sort_field, after=self.request.GET.get(AFTER_PARAM), before=self.request.GET.get(BEFORE_PARAM),
            descending=True, page_size=page_size,
        )
        page.object_list = tasks_with_records(page.object_list)
        return None, page, page.object_list, page.has_next() or page.has_previous()

    def _page_url(self, param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query = {k: v for k, v in self.request.GET.items() if k not in (AFTER_PARAM, BEFORE_PARAM, "page")}
        query[param] = cursor
        return "?" + urlencode(query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        page.object_list = task_list_persons_show(self.request.user, page.object_list)
        context["object_list"] = page.object_list
        context["next_page_url"] = self._page_url(AFTER_PARAM, page.next_cursor)
        context["previous_page_url"] = self._page_url(BEFORE_PARAM, page.previous_cursor)
        return context

    def get_page_data(self, page):
        """viewflow's rows (``[(column, cell)]`` per task) with the cell's method looked up once per
        column, not per cell. viewflow asks each cell's column for its method, its "boolean" flag and
        its empty value, and wraps the first column in an object link this list never has (a task's
        link is its ``task_id`` cell): the cells are the methods' text, as viewflow formats text."""
        columns = [(column, getattr(self, column.attr_name)) for column in self.list_columns.values()]
        cell_open = [format_html('<td class="vf-list__table-cell-{}">', column.column_type) for column, _method in columns]
        for task in page:
            # The row's cells as one piece of HTML (templates/viewflow/views/list.html shows
            # ``row.html``): the template's loop over 25 rows × 7 cells cost more than the cells.
            cells = [(column, _cell(method(task))) for column, method in columns]
            yield task, RowCells(cells, mark_safe("".join(
                f"{opening}{conditional_escape(value)}</td>" for opening, (_column, value) in zip(cell_open, cells))))

    def _url(self, node, viewname: str, *args: int) -> str:
        """``node.reverse(viewname, args=args)``, reversed once per node and view on the page."""
        links = self.__dict__.setdefault("_row_links", {})
        key = (node, viewname)
        if key not in links:
            links[key] = RowLinks(lambda *marks: node.reverse(viewname, args=marks))
        return links[key](*args)

    def task_id(self, task):
        url = self._url(task.flow_task, "index", task.process_id, task.pk)
        return format_html('<a href="{}">#{}/{}</a>', url, task.process_id, task.pk)

    task_id.short_description = _("#")

    @functools.cached_property
    def _person_template(self):
        return get_template("samhandling/_listed_person.html")

    def person(self, task):
        return self._person_template.render({"person": getattr(task, "listed_person", None)})

    person.short_description = _("Person")

    def brief(self, task):
        return task_brief(task)

    brief.short_description = _("Brief")

    def process_brief(self, task):
        process_url = self._url(task.flow_task.flow_class.parent, "process_detail", task.process_id)
        return format_html('<a href="{}">{}</a>', process_url, process_brief(task.process))

    process_brief.short_description = _("Process brief")

    def created(self, task):
        return timesince(task.created)

    created.short_description = _("Created")

    def finished(self, task):
        return timesince(task.finished) if task.finished else ""

    finished.short_description = _("Finished")


class InboxView(TaskListMixin, WorkflowInboxListView):
    @viewprop
    def queryset(self):
        return task_inbox_for_user(self.request.user, self.viewable_flows)


class QueueView(TaskListMixin, WorkflowQueueListView):
    @viewprop
    def queryset(self):
        flows = self.viewable_flows
        if not flows:
            return Task.objects.none()
        return task_queue_for_user(self.request.user, flows).select_related("owner_permission_content_type")


class ArchiveView(TaskListMixin, WorkflowArchiveListView):
    """The tasks the user finished, most recently finished first (by keyset: never the whole archive)."""

    sort_field = "finished"
    step_types = ("HUMAN", "START")
    filterset_class = ArchiveListFilter

    @viewprop
    def queryset(self):
        return task_archive_for_user(self.request.user, self.viewable_flows)
