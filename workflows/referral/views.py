"""Referral, contact and catalogue pages, and the referral flow's task pages.

Thin: access helper → one service call → redirect; the services own every transaction, and
which actions a page offers comes from the steps' own guards (workflows.steps). Every page that
shows a person's data writes an access-log row; lists name a row's person only to a role on it
(workflows.list_persons, logged as one list read); statistics show no names.
"""
import datetime
from dataclasses import dataclass
from typing import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import submission
from audit.services import access_log_write
from consent.models import Consent
from consent.pdf import csv_download
from consent.selectors import active_referral_consents_recorded_by, consents_judged, disclosure_awaits_approval, disclosures_of
from consent.reports import status_label
from consent.services import consent_record
from people.selectors import guardian_named, person_records_for
from org.access import user_services
from org.links import RowLinks
from referrals.access import contact_get_for_user, EMERGENCY, referral_get_for_process, referral_get_for_user
from org.models import Service
from referrals.models import Referral
from workflows.list_persons import list_persons_show
from workflows.referral import forms as rforms
from workflows.referral import selectors as selectors
from workflows.referral import services as svc
from workflows.task_views import ServiceStepTaskView
from workflows.services.deadlines import open_deadlines
from org.ui import apply_errors


def _render_invalid(request, template, context):
    # 422 so Hotwire Turbo renders the errors, and so no client mistakes it for success.
    return render(request, template, context, status=422)


def _next_query(request, cursor_param, cursor):
    """The current query string with the page cursor replaced (for a “next” or “previous” link)."""
    if not cursor:
        return None
    params = {k: v for k, v in request.GET.items() if k != cursor_param}
    params[cursor_param] = cursor
    return "?" + urlencode(params)


def _page_links(request, cursor_param, page):
    """The “next” and “previous” links of a list page (an org.paging.KeysetPage)."""
    return {
        "next_query": _next_query(request, cursor_param, page.next_cursor),
        "previous_query": _next_query(request, cursor_param, page.previous_cursor),
    }


# --- the service catalogue ---------------------------------------------------------------------


@login_required
def catalogue_search(request):
    """“Where can I refer?”. With ``?kontakt=<code>`` it searches for that contact's person."""
    contact = None
    data = request.GET.copy()
    if request.GET.get("kontakt"):
        contact = contact_get_for_user(request.user, request.GET["kontakt"])
        age = contact.person.age_on(timezone.localdate())
        if "age" not in data and age is not None:
            data["age"] = str(age)
        _log_contact_read(request, contact, "catalogue search for a contact")
    form = rforms.CatalogueSearchForm(data)
    form.is_valid()
    filters = getattr(form, "cleaned_data", {})
    page = selectors.catalogue_search(
        kind=filters.get("kind") or "", age=filters.get("age"), text=filters.get("q") or "",
        open_only=bool(filters.get("open_only")), cursor=request.GET.get("etter"),
    )
    rows = page.rows
    year_ago = timezone.localdate() - datetime.timedelta(days=365)
    for entry in rows:
        entry.stale = entry.last_verified_at is not None and entry.last_verified_at < year_ago
    return render(request, "referrals/catalogue.html", {
        "form": form, "rows": rows, "contact": contact, **_page_links(request, "etter", page),
    })


# --- contacts ----------------------------------------------------------------------------------


@login_required
def contact_list(request):
    page = selectors.contact_list(request.user, cursor=request.GET.get("etter"))
    rows = list_persons_show(request.user, page.rows, naming=selectors.contact_naming, purpose="contact list")
    return render(request, "referrals/contact_list.html", {"rows": rows, **_page_links(request, "etter", page)})


@login_required
@submission.once
def contact_create(request):
    services = user_services(request.user)
    if not services.exists():
        raise Http404
    form = rforms.ContactForm(request.POST or None, services=services, submitted_by=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                contact = svc.contact_register(
                    user=request.user, service=d["service"], given_name=d["given_name"], approx_age=d["approx_age"],
                    summary=d["summary"], national_id=d["national_id"], family_name=d["family_name"],
                )
                sent.leads_to(reverse("referrals:contact_detail", args=[contact.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The contact has been registered."))
            return redirect("referrals:contact_detail", contact.code)
    if request.method == "POST":
        return _render_invalid(request, "referrals/contact_form.html", {"form": form})
    return render(request, "referrals/contact_form.html", {"form": form})


def _consent_grantees(contact):
    """The services a consent recorded on the contact page may name: the catalogue's and the
    coordinators'. Not the recording service itself (it holds the contact already), except a
    coordinator's: a referral to its own routing queue is shared with it on the consent."""
    qs = Service.objects.filter(Q(catalogue__isnull=False) | Q(kind__in=selectors.ROUTING_KINDS), active=True)
    if contact.service.kind not in selectors.ROUTING_KINDS:
        qs = qs.exclude(pk=contact.service_id)
    return qs.distinct().order_by("name")


# The consents a contact's page lists (newest first); the person's consents page lists them all.
CONTACT_CONSENTS = 25


def _contact_context(request, contact, *, identify_form=None, consent_form=None):
    person = contact.person
    # Judged in the consents' own query (consent.selectors.consents_judged), and the guardians named
    # from the contact's service's records in one query: no query per consent or guardian.
    # The newest CONTACT_CONSENTS: the person's own page (consent:person) pages through them all.
    consents = consents_judged(
        Consent.objects.filter(person=person, recorded_by_service=contact.service)
        .select_related("person").prefetch_related("grantees", "guardians").order_by("-recorded_at", "-pk"),
        limit=CONTACT_CONSENTS + 1,
    )
    more_consents = len(consents) > CONTACT_CONSENTS
    consents = consents[:CONTACT_CONSENTS]
    # The guardians' and the person's names as the contact's service registered them, in one query.
    records = person_records_for([(person.pk, contact.service_id), *((g.pk, contact.service_id) for c in consents for g in c.guardians.all())])
    person_record = records.get((person.pk, contact.service_id))
    detail_link = RowLinks(lambda code: reverse("consent:detail", args=[code]))
    for consent in consents:
        consent.current_status = consent.status
        consent.status_label = status_label(consent.status)
        consent.detail_url = detail_link(consent.code)
        consent.guardian_names = [
            guardian_named(records[(g.pk, contact.service_id)].full_name if (g.pk, contact.service_id) in records else "", number)
            for number, g in enumerate(consent.guardians.all(), start=1)
        ]
    ctx = {
        "contact": contact,
        "person": person,
        "person_label": (person_record.full_name if person_record else "") or "–",  # people_tags.person_name
        "age": person.age_on(timezone.localdate()),
        "referrals": list(contact.referrals.select_related("target_service", "routing_service").order_by("-created_at", "-pk")),
        "consents": consents,
        "more_consents": more_consents,
        "consent_form": consent_form or rforms.ConsentRecordForm(
            person=person, grantees=_consent_grantees(contact), service=contact.service, submitted_by=request.user,
        ),
    }
    if not person.national_id:
        ctx["identify_form"] = identify_form or rforms.IdentifyForm()
    return ctx


def _log_contact_read(request, contact, purpose="contact page"):
    access_log_write(user=request.user, action="view", obj=contact, person=contact.person, purpose=purpose, service=contact.service)


@login_required
def contact_detail(request, code):
    contact = contact_get_for_user(request.user, code)
    _log_contact_read(request, contact)
    return render(request, "referrals/contact_detail.html", _contact_context(request, contact))


@login_required
@require_POST
def contact_identify(request, code):
    contact = contact_get_for_user(request.user, code)
    form = rforms.IdentifyForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            svc.person_identify(user=request.user, contact=contact, national_id=d["national_id"], family_name=d["family_name"], given_name=d["given_name"])
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The person has been identified."))
            return redirect("referrals:contact_detail", contact.code)
    _log_contact_read(request, contact)
    return _render_invalid(request, "referrals/contact_detail.html", _contact_context(request, contact, identify_form=form))


@login_required
@require_POST
@submission.once
def contact_consent(request, code):
    contact = contact_get_for_user(request.user, code)
    form = rforms.ConsentRecordForm(
        request.POST, person=contact.person, grantees=_consent_grantees(contact), service=contact.service, submitted_by=request.user,
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                consent_record(
                    user=request.user, service=contact.service, person=contact.person, purpose=d["purpose"],
                    information=d["information"], grantees=list(d["grantees"]), valid_from=d["valid_from"],
                    valid_to=d["valid_to"], method=d["method"], given_by_person=d["given_by_person"],
                    guardians=list(d.get("guardians") or []), domain=d["domain"],
                )
                sent.leads_to(reverse("referrals:contact_detail", args=[contact.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("The consent has been recorded."))
            return redirect("referrals:contact_detail", contact.code)
    _log_contact_read(request, contact)
    return _render_invalid(request, "referrals/contact_detail.html", _contact_context(request, contact, consent_form=form))


# --- sending a referral ------------------------------------------------------------------------


def _referral_form(request, contact, data=None, initial=None):
    return rforms.ReferralForm(
        data, initial=initial, submitted_by=request.user,
        targets=selectors.referral_targets(person=contact.person, kind=None, exclude=contact.service),
        coordinators=selectors.routing_services(),
        consents=active_referral_consents_recorded_by(contact.person, contact.service), sender=contact.service,
    )


@login_required
@submission.once
def referral_create(request, code):
    """Send a referral from a contact: to a catalogue service or to a coordinator's routing queue."""
    contact = contact_get_for_user(request.user, code)
    initial = {}
    if request.GET.get("til"):
        target = selectors.referral_targets(person=contact.person, kind=None, exclude=contact.service).filter(
            code=_uuid_or_none(request.GET["til"])
        ).first()
        if target is not None:
            initial = {"destination": "service", "target_service": target}
    form = _referral_form(request, contact, request.POST or None, initial)
    consents = list(form.fields["consent"].queryset[:2])
    if len(consents) == 1:
        form.initial.setdefault("consent", consents[0].pk)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with submission.claim(form) as sent:
                referral = svc.referral_send(
                    user=request.user, sender_service=contact.service, person=contact.person, kind=d["kind"], reason=d["reason"],
                    target_service=d["target_service"], routing_service=d["routing_service"], consent=d["consent"],
                    basis=d["basis"], legal_basis=d["legal_basis"], contact=contact,
                )
                sent.leads_to(reverse("referrals:detail", args=[referral.code]))
        except ValidationError as e:
            apply_errors(form, e)
        else:
            if disclosure_awaits_approval(referral):
                messages.success(request, _("The referral waits for a leader of your service to approve the legal basis; it is sent then."))
            else:
                messages.success(request, _("The referral has been sent."))
            return redirect("referrals:detail", referral.code)
    ctx = {"form": form, "contact": contact, "person": contact.person, "age": contact.person.age_on(timezone.localdate())}
    _log_contact_read(request, contact, "referral form")
    if request.method == "POST":
        return _render_invalid(request, "referrals/referral_form.html", ctx)
    return render(request, "referrals/referral_form.html", ctx)


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- the referral page -------------------------------------------------------------------------


def _acting_service(referral, roles):
    if "handler" in roles:
        return referral.target_service
    if "router" in roles:
        return referral.routing_service
    return referral.sender_service


def _make_form(action, referral, roles, data=None, offered=None):
    """The form of ``action``; prefixed by the action, because several share a page (and field names)."""
    kwargs = {"prefix": action}
    if action == "route":
        kwargs["referral"] = referral
    elif action == "progress":
        # The statuses on offer; a post out of order gets the service's refusal, not a form error.
        statuses = [status for status, step in svc.PROGRESS.items() if offered is None or step.name in offered]
        kwargs["statuses"] = statuses or list(svc.PROGRESS)
    elif action == "notes":
        kwargs["initial"] = {"notes": referral.receiver_notes}
    elif action == "forward":
        # The coordinator forwards on the consent that travels with the referral; the sender may choose another.
        kwargs["referral"] = referral
        kwargs["consents"] = None if "router" in roles else active_referral_consents_recorded_by(referral.person, referral.sender_service)
    return ACTIONS[action].form(data, **kwargs)


def _action_forms(referral, roles):
    """The forms of the steps the user may take now (workflows.steps.Steps.available), by action."""
    offered = svc.STEPS.available(referral, roles)
    return {
        name: _make_form(name, referral, roles, offered=offered)
        for name, action in ACTIONS.items()
        if any(step.name in offered for step in action.steps)
    }


def _detail_context(request, referral, roles, action_forms=None):
    ctx = {
        "referral": referral,
        "roles": roles,
        "is_handler": "handler" in roles,
        "is_router": "router" in roles,
        "is_sender": "sender" in roles,
        "person": referral.person,
        "age": referral.person.age_on(timezone.localdate()),
        "events": list(referral.events.select_related("service")),
        "chain": selectors.referral_chain(referral, request.user),
        "action_forms": action_forms if action_forms is not None else _action_forms(referral, roles),
        "disclosures": list(
            disclosures_of(referral)
        ),
    }
    if "handler" in roles or "router" in roles:
        ctx["deadlines"] = list(open_deadlines(referral))
    return ctx


def _log_referral_read(request, referral, roles):
    if EMERGENCY in roles:
        access_log_write(user=request.user, action="view", obj=referral, person=referral.person, purpose="emergency access", via="break_glass")
        return
    access_log_write(user=request.user, action="view", obj=referral, person=referral.person, purpose="referral page", service=_acting_service(referral, roles))


@login_required
def referral_detail(request, code):
    referral, roles = referral_get_for_user(request.user, code)
    _log_referral_read(request, referral, roles)
    return render(request, "referrals/detail.html", _detail_context(request, referral, roles))


def _decide(r, u, d, act=None):
    if d["decision"] == "accept":
        return svc.referral_accept(referral=r, user=u, activation=act)
    return svc.referral_decline(referral=r, user=u, reason=d["reason"], activation=act)


def _basis(d):
    return {"basis": d["basis"], "legal_basis": d["legal_basis"]}


@dataclass(frozen=True)
class Action:
    """A form on the referral page, the steps it takes (whose actors' roles may use it), and the one
    service call it makes: ``call(referral, user, data, activation)``, returning the referral to show."""

    steps: tuple
    form: type
    call: Callable
    done: Promise

    @property
    def roles(self) -> set[str]:
        return {svc.STEPS.roles[actor] for step in self.steps for actor in step.actors}


ACTIONS = {
    # By name: the task page's ``step`` too ("route", "receive", "decide", "close").
    "receive": Action((svc.RECEIVE,), rforms.ReceiveForm, lambda r, u, d, act=None: svc.referral_receive(referral=r, user=u, activation=act), gettext_lazy("The referral is marked as received.")),
    "decide": Action((svc.DECIDE,), rforms.DecideForm, _decide, gettext_lazy("The decision has been recorded; the sender can see it.")),
    "progress": Action(tuple(svc.PROGRESS.values()), rforms.ProgressForm, lambda r, u, d, act=None: svc.referral_set_progress(referral=r, user=u, status=d["status"], reason=d["reason"]), gettext_lazy("The status has been changed.")),
    "close": Action((svc.CLOSE,), rforms.CloseForm, lambda r, u, d, act=None: svc.referral_close(referral=r, user=u, completed=d["result"] == "completed", outcome=d["outcome"], activation=act), gettext_lazy("The referral has been closed; the sender can see the outcome.")),
    "notes": Action((svc.NOTES,), rforms.NotesForm, lambda r, u, d, act=None: svc.referral_notes_save(referral=r, user=u, notes=d["notes"]), gettext_lazy("The internal notes have been saved.")),
    "route": Action((svc.ROUTE,), rforms.RouteForm, lambda r, u, d, act=None: svc.referral_route(referral=r, user=u, target_service=d["target_service"], activation=act, **_basis(d)), gettext_lazy("The referral has been routed.")),
    "forward": Action((svc.FORWARD,), rforms.ForwardForm, lambda r, u, d, act=None: svc.referral_forward(referral=r, user=u, target_service=d["target_service"], consent=d.get("consent"), **_basis(d)), gettext_lazy("The referral has been forwarded.")),
    "cancel": Action((svc.CANCEL,), rforms.CancelForm, lambda r, u, d, act=None: svc.referral_cancel(referral=r, user=u, reason=d["reason"]), gettext_lazy("The referral has been cancelled.")),
}


@login_required
@require_POST
def referral_action(request, code, action):
    if action not in ACTIONS:
        raise Http404
    referral, roles = referral_get_for_user(request.user, code)
    if not ACTIONS[action].roles & roles:
        raise Http404
    form = _make_form(action, referral, roles, request.POST, offered=svc.STEPS.available(referral, roles))
    if form.is_valid():
        try:
            shown = ACTIONS[action].call(referral, request.user, form.cleaned_data)
        except ValidationError as e:
            apply_errors(form, e)
        else:
            messages.success(request, ACTIONS[action].done)
            return redirect("referrals:detail", shown.code)
    referral.refresh_from_db()
    _log_referral_read(request, referral, roles)
    forms_ = _action_forms(referral, roles)
    forms_[action] = form
    return _render_invalid(request, "referrals/detail.html", _detail_context(request, referral, roles, forms_))


# --- lists -------------------------------------------------------------------------------------


@login_required
def referral_sent_list(request):
    page = selectors.referral_sent_list(request.user, cursor=request.GET.get("etter"))
    rows = list_persons_show(request.user, page.rows, naming=selectors.referral_naming(as_role="sender"), purpose="referral list")
    return render(request, "referrals/sent_list.html", {"rows": rows, **_page_links(request, "etter", page)})


@login_required
def referral_incoming_list(request):
    open_only = request.GET.get("vis") != "alle"
    page = selectors.referral_incoming_list(request.user, cursor=request.GET.get("etter"), open_only=open_only)
    rows = list_persons_show(request.user, page.rows, naming=selectors.referral_naming(as_role="handler"), purpose="referral list")
    return render(request, "referrals/incoming_list.html", {
        "rows": rows, "open_only": open_only, **_page_links(request, "etter", page),
        "at_risk_before": selectors.at_risk_threshold(),
    })


def _year_param(request):
    value = request.GET.get("aar", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else None


@login_required
def coordinator(request):
    """The coordinator's view: the routing queue, referrals at risk of a deadline, and counts by status and age."""
    services = list(selectors.coordinating_services(request.user))
    if not services:
        raise Http404
    year = _year_param(request) or timezone.localdate().year
    ids = [s.pk for s in services]
    queue = selectors.routing_queue(request.user, cursor=request.GET.get("etter"), services=ids)
    at_risk = selectors.referral_at_risk_list(request.user, cursor=request.GET.get("risiko"), services=ids)
    # Both lists of the page name their persons in one list read (one log row per person).
    list_persons_show(request.user, [*queue.rows, *at_risk.rows], naming=selectors.referral_naming(as_role="router"), purpose="referral list")
    queue_links, risk_links = _page_links(request, "etter", queue), _page_links(request, "risiko", at_risk)
    return render(request, "referrals/coordinator.html", {
        "services": services, "queue": queue.rows,
        "queue_next": queue_links["next_query"], "queue_previous": queue_links["previous_query"],
        "at_risk": at_risk.rows, "risk_next": risk_links["next_query"], "risk_previous": risk_links["previous_query"],
        "counts": selectors.coordinator_counts(request.user, year=year, services=ids), "year": year,
        "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
    })


@login_required
def coordinator_list(request):
    ids = selectors.coordinating_service_ids(request.user)
    if not ids:
        raise Http404
    statuses = dict(Referral.Status.choices)
    bands = dict(selectors.age_band_choices())
    status = request.GET.get("status") if request.GET.get("status") in statuses else ""
    band = request.GET.get("alder") if request.GET.get("alder") in bands else ""
    year = _year_param(request)
    page = selectors.coordinator_list(
        request.user, status=status or None, band=band or None, year=year, cursor=request.GET.get("etter"), services=ids,
    )
    rows = list_persons_show(request.user, page.rows, naming=selectors.referral_naming(as_role="router"), purpose="referral list")
    today = timezone.localdate()
    for row in rows:
        row.age_band = selectors.age_band_of(row.person, on=today)
    return render(request, "referrals/coordinator_list.html", {
        "rows": rows, **_page_links(request, "etter", page),
        "status": status, "band": band, "statuses": Referral.Status.choices, "bands": selectors.age_band_choices(),
        "status_label": statuses.get(status), "band_label": bands.get(band), "year": year,
        "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
    })


# --- statistics --------------------------------------------------------------------------------


@login_required
def referral_stats(request):
    services = list(selectors.stats_services(request.user))
    if not services:
        raise Http404
    year = _year_param(request)
    return render(request, "referrals/stats.html", {
        "services": services, "year": year,
        "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
        "status_columns": selectors.STATUS_COLUMNS,
        "by_destination": selectors.stats_referrals_by_destination(request.user, year=year),
        "contacts": selectors.stats_contacts_referred(request.user, year=year),
    })


@login_required
def referral_stats_csv(request, table):
    """The statistics as CSV: counts and service names only, never a person. Streamed: the rows
    come from the database in chunks and leave as they come, so memory stays constant."""
    if table not in ("henvisninger", "kontakter") or not selectors.stats_services(request.user).exists():
        raise Http404
    year = _year_param(request)
    return csv_download(_stats_csv_rows(table, request.user, year), f"{table}{'-' + str(year) if year else ''}.csv")


def _stats_csv_rows(table, user, year):
    if table == "henvisninger":
        yield [_("Year"), _("Destination service"), _("Referrals")] + [str(label) for _v, _a, label in selectors.STATUS_COLUMNS]
        for row in selectors.stats_referrals_by_destination_rows(user, year=year):
            yield [row["year"], row["service"], row["total"], *row["statuses"]]
    else:
        yield [_("Year"), _("Registering service"), _("Contacts"), _("Referred on"), _("Referred to"), _("Contacts referred there")]
        for row in selectors.stats_contacts_referred_rows(user, year=year):
            for dest in row["destinations"] or [{"service": "", "contacts": ""}]:
                yield [row["year"], row["service"], row["contacts"], row["referred"], dest["service"], dest["contacts"]]


# --- viewflow's task pages ---------------------------------------------------------------------


class ReferralTaskView(ServiceStepTaskView):
    """viewflow's execute page of a referral step: the same forms and services as the referral page."""

    template_name = "referrals/task.html"

    def dispatch(self, request, *args, **kwargs):
        found = referral_get_for_process(request.user, kwargs["process_pk"])
        self.referral, self.roles = referral_get_for_user(request.user, found.code)
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return ACTIONS[self.step].form

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.step == "route":
            kwargs["referral"] = self.referral
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(referral=self.referral, step=self.step, activation=self.request.activation, **kwargs)

    def run_step(self, data, activation):
        ACTIONS[self.step].call(self.referral, self.request.user, data, activation)

    def done_url(self):
        return reverse("referrals:detail", args=[self.referral.code])
