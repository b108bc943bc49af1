"""The shared shape of a viewflow task page that does its step through a project service."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import generic

from viewflow.workflow.flow.views import BulkAssignTasksActionView, BulkUnassignTasksActionView, DetailTaskView
from viewflow.workflow.status import STATUS

from org.ui import apply_errors
from workflows.flows import nodes
from workflows.task_lists import task_queue_for_user


class ServiceStepTaskView(generic.FormView):
    """Subclasses fetch their object in ``dispatch`` through the access helper, and implement
    ``run_step(data, activation)`` (one service call) and ``done_url()``. ``step`` is the flow node's
    name, which is the step's one name (workflows.steps).

    The service owns the transaction and completes viewflow's activation inside it; a refused step
    rolls back to the service's savepoint and leaves the task open, within viewflow's own POST
    transaction and flow lock (viewflow.workflow.flow.utils.wrap_view).
    """

    step = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.step = request.activation.flow_task.name

    def run_step(self, data, activation):
        raise NotImplementedError

    def done_url(self):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.run_step(form.cleaned_data, self.request.activation)
        except ValidationError as e:
            apply_errors(form, e)
            return self.form_invalid(form)
        messages.success(self.request, _("The task has been completed."))
        return redirect(self.done_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=422)


class ScopedBulkAssignTasksView(BulkAssignTasksActionView):
    """viewflow's bulk assign, limited to tasks in the user's own queue.

    Unscoped, its confirmation page lists any posted task pk with its process summary (another
    service's concern reference included): design rule 5, viewflow issue #505.
    """

    def get_queryset(self):
        queue = task_queue_for_user(self.request.user, getattr(self.viewset, "flow_classes", None))
        self.object_list = super().get_queryset().filter(pk__in=queue.values("pk"))
        return self.object_list


class ScopedBulkUnassignTasksView(BulkUnassignTasksActionView):
    """viewflow's bulk unassign, limited to the user's own assigned tasks."""

    def get_queryset(self):
        self.object_list = super().get_queryset().filter(owner=self.request.user, status=STATUS.ASSIGNED)
        return self.object_list


class CaseTaskDetailView(DetailTaskView):
    """viewflow's task detail page, shown from what the request has already read.

    ``FlowObjectAccessMiddleware`` read the process's case record through the access helper
    (``request.case_record``): the process card names it, and would read it again. The task's owner
    is most often the reader. Both go into the ORM's cache, so the page costs the same queries for
    every process.
    """

    def dispatch(self, request, *args, **kwargs):
        activation = request.activation
        record = getattr(request, "case_record", None)
        process = activation.process
        if record is not None:
            for field in process._meta.concrete_fields:
                if (field.many_to_one or field.one_to_one) and isinstance(record, field.related_model) and getattr(process, field.attname) == record.pk:
                    field.set_cached_value(process, record)
        task = activation.task
        if task.owner_id is not None and task.owner_id == request.user.pk:
            type(task).owner.field.set_cached_value(task, request.user)
        return super().dispatch(request, *args, **kwargs)


class CaseView(nodes.View):
    """A human step of a process: viewflow's View node with the case-aware detail page."""

    detail_view_class = CaseTaskDetailView
