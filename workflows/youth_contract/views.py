"""Youth contract pages and the contract flow's task pages.

Thin: access helper → one service call → redirect. The follow-up service's page shows everything
(every read logged: test results are health data); the police's page shows only the selector's
ContractStatusView; every other user gets 404.
"""
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import submission
from audit.services import access_log_deferred, access_log_write
from consent.selectors import disclosures_of
from org.access import is_member
from org.ui import apply_errors
from referrals.access import EMERGENCY
from referrals.models import ContractAppointment, ContractParty, YouthContract
from workflows.list_persons import list_persons_show
from workflows.services.deadlines import open_deadlines
from workflows.task_views import ServiceStepTaskView
from workflows.youth_contract import calendar
from workflows.youth_contract import forms as yforms
from workflows.youth_contract import selectors
from workflows.youth_contract import services as svc


def _parties_for_sign(contract, shown=None):
    """The parties still to sign, as the sign form's choices. ``shown``: the page's own parties
    (selectors.contract_parties) when it has read them, else read here (one query)."""
    parties = selectors.contract_parties(contract) if shown is None else shown
    return [(p.code, p.service_name or f"{p.role_label}: {p.name}") for p in parties if p.signed_on is None]


def _open_appointments(contract):
    return ContractAppointment.objects.filter(contract=contract, cancelled_at__isnull=True, result__isnull=True).order_by("on", "kind")


def _make_form(action, contract, data=None, *, read=None):
    """The page's form for ``action``. ``read``: the page's own lists ("appointments" with their
    results, "measures") when it has read them, so a form does not read them again."""
    read = read or {}
    kwargs = {"prefix": action}
    if action == "sign":
        kwargs["parties"] = _parties_for_sign(contract, read.get("parties"))
    elif action == "result":
        if "appointments" in read:
            kwargs["appointments"] = [a for a in read["appointments"] if a.cancelled_at is None and not hasattr(a, "result")]
        else:
            kwargs["appointments"] = _open_appointments(contract)
    elif action == "measure":
        kwargs["measures"] = read["measures"] if "measures" in read else list(contract.measures.all())
    return ACTIONS[action].form(data, **kwargs)


def _complete(c, u, d, act=None):
    return svc.contract_complete(contract=c, user=u, completed=d["result"] == "completed", outcome=d["outcome"], activation=act)


@dataclass(frozen=True)
class Action:
    """A form on the contract page, the steps it takes, and its one service call ``call(contract, user, data, activation)``."""

    steps: tuple
    form: type
    call: Callable
    done: Promise


ACTIONS = {
    # By name: the task page's ``step`` too ("activate", "follow_up", "assess_breach", "report_outcome").
    "sign": Action((svc.SIGN,), yforms.SignForm, lambda c, u, d, act=None: svc.contract_sign(
        contract=c, user=u, party_code=d["party"], method=d["method"], signed_on=d["signed_on"]), gettext_lazy("The signature has been recorded.")),
    "activate": Action((svc.ACTIVATE,), yforms.ConfirmForm, lambda c, u, d, act=None: svc.contract_activate(contract=c, user=u, activation=act),
                       gettext_lazy("The contract has started; its tests and conversations are scheduled.")),
    "result": Action((svc.RESULT, svc.FOLLOW_UP), yforms.ResultForm, lambda c, u, d, act=None: svc.result_record(
        contract=c, user=u, kind=d["kind"], outcome=d["outcome"], taken_on=d["taken_on"], appointment_code=d["appointment"] or None,
        note=d["note"], activation=act), gettext_lazy("The result has been logged.")),
    "measure": Action((svc.MEASURE,), yforms.MeasureForm, lambda c, u, d, act=None: svc.measure_record(
        contract=c, user=u, kind=d["kind"], enrolled_on=d["enrolled_on"], attended=d["attended"], missed=d["missed"],
        measure_code=d["measure"] or None), gettext_lazy("The measure has been saved.")),
    "assess_breach": Action((svc.ASSESS,), yforms.BreachForm, lambda c, u, d, act=None: svc.breach_decide(
        contract=c, user=u, decision=d["decision"], note=d["note"], conditions=d["conditions"], activation=act),
        gettext_lazy("The breach assessment has been recorded.")),
    "follow_up": Action((svc.FOLLOW_UP,), yforms.CompleteForm, _complete, gettext_lazy("The contract has ended.")),
    "report_outcome": Action((svc.REPORT,), yforms.ConfirmForm, lambda c, u, d, act=None: svc.outcome_report(contract=c, user=u, activation=act),
                             gettext_lazy("The outcome has been reported to the police.")),
}


def _action_forms(contract, roles, read=None):
    if selectors.FOLLOWUP not in roles:
        return {}
    offered = svc.STEPS.available(contract, {selectors.FOLLOWUP})
    return {name: _make_form(name, contract, read=read) for name, action in ACTIONS.items()
            if any(step.name in offered for step in action.steps)}


def _log_read(request, contract, roles):
    if EMERGENCY in roles:
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="emergency access", via="break_glass")
    elif selectors.FOLLOWUP in roles:
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="youth contract page",
                         service=contract.followup_service)
    else:
        service = contract.police_service if contract.police_service_id and is_member(request.user, contract.police_service) else contract.initiating_service
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="youth contract status page", service=service)


def _log_results_read(request, contract, roles, results, *, police=False):
    """Test results are health data: a page that shows any writes its own access-log row for them,
    beside the page's read (so the log review can tell who saw results from who saw the contract).
    The police's reads (``police``: selectors.police_sees_results) are logged the same way, under the
    police service."""
    if not results:
        return
    if police:
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="youth contract test results",
                         service=contract.police_service)
    elif EMERGENCY in roles:
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="youth contract test results",
                         via="break_glass")
    else:
        access_log_write(user=request.user, action="view", obj=contract, person=contract.person, purpose="youth contract test results",
                         service=contract.followup_service)


def _context(request, contract, roles, action_forms=None):
    """The contract page's context. Each list is read once (the forms take the page's appointments
    and measures, the status view the page's breaches): a constant number of queries."""
    full = selectors.FOLLOWUP in roles or EMERGENCY in roles
    identities = full or selectors.sees_identities(request.user, contract, roles)
    ctx = {"contract": contract, "roles": roles, "full": full, "named_by": contract.initiating_service}
    if not full:
        ctx["status_view"] = selectors.contract_status_view(contract, identities=identities)
        if selectors.police_sees_results(request.user, contract, roles):
            ctx["police_results"] = selectors.police_results(contract)
            _log_results_read(request, contract, roles, ctx["police_results"], police=True)
        return ctx
    # Read once: the appointments' and the breaches' results are the same rows (logged below).
    results = list(contract.results.select_related("appointment", "recorded_by").order_by("taken_on", "id"))
    _log_results_read(request, contract, roles, results)
    read = {"appointments": list(contract.appointments.select_related("result").order_by("on", "kind")),
            "measures": list(contract.measures.order_by("enrolled_on", "id"))}
    breaches = list(contract.breaches.select_related("result").order_by("opened_at"))
    status_view = selectors.contract_status_view(contract, identities=identities, had_breach=bool(breaches))
    ctx.update(
        status_view=status_view, results=results, breaches=breaches, **read,
        deadlines=list(open_deadlines(contract)),
        disclosures=list(disclosures_of(contract)),
        conditions=[svc.ContractTemplate.Condition(c).label for c in contract.conditions if c in svc.ContractTemplate.Condition.values],
        action_forms=action_forms if action_forms is not None else (_action_forms(contract, roles, {**read, "parties": status_view.parties}) if EMERGENCY not in roles else {}),
    )
    return ctx


@login_required
def contract_detail(request, code):
    contract, roles = selectors.contract_get_for_user(request.user, code)
    # The page's read and its results' read appended to the log in one statement.
    with access_log_deferred():
        _log_read(request, contract, roles)
        context = _context(request, contract, roles)
    return render(request, "youth_contracts/detail.html", context)


@login_required
@require_POST
def contract_action(request, code, action):
    if action not in ACTIONS:
        raise Http404
    contract, roles = selectors.contract_get_for_user(request.user, code, role=selectors.FOLLOWUP)
    form = _make_form(action, contract, request.POST)
    if form.is_valid():
        try:
            ACTIONS[action].call(contract, request.user, form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, ACTIONS[action].done)
            return redirect("youth_contracts:detail", contract.code)
    contract.refresh_from_db()
    _log_read(request, contract, roles)
    forms_ = _action_forms(contract, roles)
    forms_[action] = form
    return render(request, "youth_contracts/detail.html", _context(request, contract, roles, forms_), status=422)


@login_required
@submission.once
def contract_initiate(request):
    form = yforms.InitiateForm(request.POST or None, user=request.user)
    if not form.fields["initiating_service"].queryset.exists():
        raise Http404
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                contract = svc.contract_register(
                    user=request.user, initiating_service=d["initiating_service"], template=d["template"],
                    followup_service=d["followup_service"], national_id=d["national_id"], given_name=d["given_name"],
                    family_name=d["family_name"], guardians=form.guardians(), consent_method=d["consent_method"],
                    starts_on=d["starts_on"], ends_on=d["ends_on"], police_decision_on=d["police_decision_on"],
                    police_service=d["police_service"], police_see_results=d["police_see_results"],
                )
                sent.leads_to(reverse("youth_contracts:detail", args=[contract.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, gettext_lazy("The youth contract has been initiated; the follow-up service has been told."))
            return redirect("youth_contracts:detail", contract.code)
    return render(request, "youth_contracts/initiate.html", {"form": form}, status=422 if request.method == "POST" else 200)


def _page_query(request, param, cursor):
    """The query string of the list with ``param`` set to ``cursor`` (the other list keeps its place)."""
    if cursor is None:
        return None
    params = {k: v for k, v in request.GET.items() if k != param}
    params[param] = cursor
    return "?" + urlencode(params)


@login_required
def contract_list(request):
    """The police contact's contracts with status, and the follow-up worker's open contracts: each a
    keyset page with its own cursor (``politi``, ``fulgt``), its rows' names shown and logged in bulk."""
    police = selectors.contracts_for_police(request.user, cursor=request.GET.get("politi"))
    followed = selectors.contracts_followed(request.user, cursor=request.GET.get("fulgt"))
    list_persons_show(request.user, police.rows, naming=selectors.contract_naming(as_role=selectors.STATUS), purpose="youth contract list")
    list_persons_show(request.user, followed.rows, naming=selectors.contract_naming(as_role=selectors.FOLLOWUP), purpose="youth contract list")
    return render(request, "youth_contracts/list.html", {
        "police": police.rows, "followed": followed.rows,
        "police_next": _page_query(request, "politi", police.next_cursor), "police_previous": _page_query(request, "politi", police.previous_cursor),
        "followed_next": _page_query(request, "fulgt", followed.next_cursor),
        "followed_previous": _page_query(request, "fulgt", followed.previous_cursor),
    })


# --- viewflow's task pages ----------------------------------------------------------------------


class YouthContractTaskView(ServiceStepTaskView):
    """viewflow's execute page of a contract step: the same forms and services as the contract page."""

    template_name = "youth_contracts/task.html"

    def dispatch(self, request, *args, **kwargs):
        self.contract, self.roles = selectors.contract_read_for_process(request.user, kwargs["process_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return ACTIONS[self.step].form

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.step == "sign":
            kwargs["parties"] = _parties_for_sign(self.contract)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(contract=self.contract, step=self.step, activation=self.request.activation, **kwargs)

    def run_step(self, data, activation):
        ACTIONS[self.step].call(self.contract, self.request.user, data, activation)

    def done_url(self):
        return reverse("youth_contracts:detail", args=[self.contract.code])


# --- the follow-up worker's week and calendar feed --------------------------------------------------


@login_required
def week(request, token=None):
    """Upcoming and overdue tests and conversations across the contracts the user's services follow
    up, named by the contract's reference only; and the user's calendar feed address."""
    from django.utils import timezone

    appointments = selectors.week_appointments(request.user)
    today = timezone.localdate()
    return render(request, "youth_contracts/week.html", {
        "overdue": [a for a in appointments if a.on < today], "upcoming": [a for a in appointments if a.on >= today],
        "feed_url": request.build_absolute_uri(reverse("youth_contract_feed", args=[token])) if token else None,
        "has_feed": calendar.calendar_feed_has_live(request.user),
    })


@login_required
@require_POST
def feed_renew(request):
    token = calendar.calendar_feed_renew(user=request.user)
    messages.success(request, gettext_lazy("Your calendar address has been made; any earlier one no longer works. Copy it now: it is shown only once."))
    return week(request, token=token)


@login_required
@require_POST
def feed_revoke(request):
    calendar.calendar_feed_revoke(user=request.user)
    messages.success(request, gettext_lazy("Your calendar address no longer works."))
    return redirect("youth_contracts:week")


def feed(request, token):
    """The .ics feed: no login (a calendar client cannot log in); the secret address is the key.
    An unknown or revoked address answers 404, like any missing page."""
    user = calendar.calendar_feed_user(token)
    if user is None:
        raise Http404
    body = calendar.calendar_feed_body(user, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
