"""404 on every viewflow URL of a process the user may not handle.

viewflow's own task, detail and chart views check only flow- or task-level permissions (viewflow
issue #505: a user with the flow's view permission opened another service's process). Every URL
that carries a ``process_pk`` is therefore checked here through the access helper first, and a
process the user has no handler role on answers exactly like one that does not exist.

A user who does hold a role on the process but lacks a task's permission (a caseworker opening
the cancel page, another step's task, a task assigned to someone else) gets viewflow's
PermissionDenied; inside the workflow URLs that too answers 404, the one answer for "not yours".
"""
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Value
from django.http import Http404

from viewflow.workflow.models import Process, Task

from workflows.processes import process_for_flow


class FlowObjectAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        process_pk = view_kwargs.get("process_pk")
        if process_pk is None:
            return None
        match = request.resolver_match
        if match is None or "workflow" not in match.namespaces:
            return None
        if not request.user.is_authenticated:
            raise Http404
        # viewflow fetches a task by ``task_pk`` alone: a permitted process_pk paired with another
        # process's task_pk would otherwise open that other task. Asked with the flow, in one query.
        task_pk = view_kwargs.get("task_pk")
        task_of_process = Task.objects.filter(pk=task_pk, process_id=OuterRef("pk")) if task_pk is not None else None
        row = (
            Process.objects.filter(pk=process_pk)
            .annotate(task_ok=Exists(task_of_process) if task_of_process is not None else Value(True))
            .values_list("flow_class", "task_ok").first()
        )
        flow_class, task_ok = row if row is not None else (None, False)
        process = process_for_flow(_flow_path(flow_class))
        if process is None:
            raise Http404
        # The case record, for the page to show without reading it again (workflows.task_views).
        request.case_record = process.access_check()(request.user, process_pk)
        if not task_ok:
            raise Http404
        return None

    def process_exception(self, request, exception):
        if not isinstance(exception, PermissionDenied):
            return None
        match = request.resolver_match
        if match is not None and "workflow" in match.namespaces:
            raise Http404
        return None


def _flow_path(flow_class) -> str | None:
    if flow_class is None:
        return None
    return f"{flow_class.__module__}.{flow_class.__name__}" if isinstance(flow_class, type) else str(flow_class)
