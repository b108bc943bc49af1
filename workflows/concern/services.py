"""Concern workflow services: every state change of a concern happens here.

Each service is atomic and guarded by the concern's current status (the row is locked first), so
a step out of order or a stale form raises a translated ValidationError and changes nothing.
Human viewflow tasks are completed in the same transaction as the change they stand for.
"""
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import access_log_write
from consent.models import Disclosure
from consent.services import disclosure_record
from notifications.models import Reminder
from notifications.services import reminder_schedule, system_text
from org import permissions
from org.models import Membership, Service
from people.models import Person
from referrals.models import Concern, ConcernFeedback
from people.validators import CHILD_UNDER, LONG_TEXT, MEDIUM_TEXT, SHORT_TEXT, child_birth_date_problem, contains_national_id, text_limits
from workflows.models import Deadline
from workflows.services import deadlines
from workflows.services.tasks import process_cancel, task_complete

PROCESS = "concern"
HANDLER = permissions.CONCERN_HANDLER
REPORTER = permissions.CONCERN_REPORTER
LEGAL_BASIS = {
    Service.Kind.BARNEHAGE: "barnevernsloven § 13-2; barnehageloven § 46",
    Service.Kind.SKOLE: "barnevernsloven § 13-2; opplæringslova § 24-2",
}


def _url(concern):
    return reverse("concerns:detail", args=[concern.code])


def _lock(concern: Concern) -> Concern:
    return Concern.objects.select_for_update(of=("self",)).select_related("reporting_service", "receiving_service", "person").get(pk=concern.pk)


def _require_status(concern: Concern, *allowed: str):
    if concern.status not in allowed:
        raise ValidationError(
            _("This step cannot be done now: the concern is “%(status)s”. Reload the page to see its current state.")
            % {"status": concern.get_status_display()},
            code="out_of_order",
        )


class _NoForm:
    """The ``version`` of a call from code that acts on the row it has just read, with no form
    rendered in between (demo data, sending a melding in the request that drafted it)."""

    def __repr__(self):
        return "NO_FORM"


NO_FORM = _NoForm()


def _require_fresh(concern: Concern, version):
    """A form carries the ``updated_at`` it was rendered from; a changed row means a stale form.
    Checked under the row lock, so two people submitting the same form cannot both pass.
    A missing version (None or empty: an old page or a forged post) is refused like a stale one;
    only ``NO_FORM``, which no form can send, skips the check.

    A version rendered by a template is localised (a decimal comma in Norwegian); that formatting
    is not a change.
    """
    if version is NO_FORM:
        return
    if not isinstance(version, str) or not version.strip():
        raise ValidationError(_("This form is incomplete or out of date. Reload the page and try again."), code="stale")
    if version.strip().replace(",", ".") != concern_version(concern):
        raise ValidationError(
            _("Someone else changed this concern while you had it open. Reload the page and try again."),
            code="stale",
        )


def concern_version(concern: Concern) -> str:
    return str(concern.updated_at.timestamp()) if concern.updated_at else ""


def _require_member(user, service: Service, *, message):
    if not Membership.objects.filter(user=user, service=service, active=True).exists():
        raise ValidationError(message, code="not_member")


def _require_child(person: Person):
    """A melding is about a child: under 18 today, with a birth date a living person can have."""
    if person.birth_date:
        problem = child_birth_date_problem(person.birth_date)
    else:
        age = person.age_on(timezone.localdate())
        problem = None
        if age is not None and not 0 <= age < CHILD_UNDER:
            problem = _("The child welfare service receives meldinger about children under 18; the person is %(age)s.") % {"age": age}
    if problem:
        raise ValidationError({"person": ValidationError(problem, code="not_a_child")})


def _validate_content(*, kind, person, observations, categories, parents_informed, child_informed, not_informed_reason, child_age):
    text_limits(observations=(observations, LONG_TEXT), not_informed_reason=(not_informed_reason, SHORT_TEXT))
    errors = {}
    if not (observations or "").strip():
        errors["observations"] = _("Describe what you have observed.")
    valid = set(Concern.Category.values)
    if not categories:
        errors["categories"] = _("Choose at least one category.")
    elif not set(categories) <= valid:
        errors["categories"] = _("Unknown category.")
    if kind == Concern.Kind.CONSULTATION:
        if person is not None:
            errors["person"] = _("An anonymous consultation must not name the child.")
        for field, text in (("observations", observations), ("not_informed_reason", not_informed_reason)):
            if contains_national_id(text):
                errors[field] = _(
                    "Remove the identity number: an anonymous consultation must not contain anything that identifies the child."
                )
        if child_age is not None and not 0 <= child_age < CHILD_UNDER:
            errors["child_age"] = _("The age must be between 0 and 17: the child welfare service receives concerns about children under 18.")
    else:
        if person is None:
            errors["person"] = _("A melding must say which child it concerns.")
        else:
            try:
                _require_child(person)
            except ValidationError as e:
                errors.update(e.error_dict)
        if parents_informed is None:
            errors["parents_informed"] = _("Say whether the parents have been told.")
        if child_informed is None:
            errors["child_informed"] = _("Say whether the child has been told.")
        if (parents_informed is False or child_informed is False) and not (not_informed_reason or "").strip():
            errors["not_informed_reason"] = _("Explain why the parents or the child have not been told.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def concern_draft_create(
    *,
    user,
    kind: str,
    reporting_service: Service,
    receiving_service: Service,
    observations: str,
    categories: list[str],
    urgency: str = Concern.Urgency.NORMAL,
    person: Person | None = None,
    child_age: int | None = None,
    parents_informed: bool | None = None,
    child_informed: bool | None = None,
    not_informed_reason: str = "",
) -> Concern:
    """Create a draft concern. Nothing leaves the reporting service until ``concern_submit``."""
    _require_member(user, reporting_service, message=_("You are not a member of the reporting service."))
    if not reporting_service.can_report_concerns:
        raise ValidationError(_("Only kindergartens and schools file concerns here."))
    if receiving_service.kind != Service.Kind.BARNEVERN:
        raise ValidationError({"receiving_service": _("Concerns go to a child welfare service.")})
    if kind not in Concern.Kind.values:
        raise ValidationError(_("Unknown kind of concern."))
    _validate_content(
        kind=kind, person=person, observations=observations, categories=categories,
        parents_informed=parents_informed, child_informed=child_informed,
        not_informed_reason=not_informed_reason, child_age=child_age,
    )
    concern = Concern.objects.create(
        kind=kind,
        reporting_service=reporting_service,
        receiving_service=receiving_service,
        created_by=user,
        person=person,
        child_age=child_age if kind == Concern.Kind.CONSULTATION else None,
        observations=observations.strip(),
        categories=list(categories),
        urgency=urgency,
        parents_informed=parents_informed,
        child_informed=child_informed,
        not_informed_reason=not_informed_reason.strip(),
    )
    permissions.grant_to_service(perm=REPORTER, obj=concern, service=reporting_service)
    access_log_write(user=user, action="create", obj=concern, person=person, purpose="concern draft", service=reporting_service)
    return concern


@transaction.atomic
def concern_draft_update(*, concern: Concern, user, version, **fields) -> Concern:
    """Change a draft. Refused once sent, or if the form is stale."""
    concern = _lock(concern)
    _require_status(concern, Concern.Status.DRAFT)
    _require_fresh(concern, version)
    allowed = {"observations", "categories", "urgency", "parents_informed", "child_informed", "not_informed_reason", "child_age", "person", "receiving_service"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merged = {f: fields.get(f, getattr(concern, f)) for f in allowed}
    if "receiving_service" in fields and merged["receiving_service"].kind != Service.Kind.BARNEVERN:
        raise ValidationError({"receiving_service": _("Concerns go to a child welfare service.")})
    _validate_content(
        kind=concern.kind, person=merged["person"], observations=merged["observations"], categories=merged["categories"],
        parents_informed=merged["parents_informed"], child_informed=merged["child_informed"],
        not_informed_reason=merged["not_informed_reason"], child_age=merged["child_age"],
    )
    for f, v in fields.items():
        setattr(concern, f, v)
    concern.save()
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="concern draft", service=concern.reporting_service)
    return concern


@transaction.atomic
def concern_submit(*, concern: Concern, user, version=NO_FORM) -> Concern:
    """Send a draft to barnevern: record the legal basis, grant access, start the process and clocks.

    A melding is shared under opplysningsplikt (no consent needed); an anonymous consultation holds
    no personal data, so barnevern is granted access to it without a disclosure row. A melding is
    refused if the child has turned 18 since it was drafted.
    """
    from workflows.flows.concern import ConcernFlow

    concern = _lock(concern)
    _require_status(concern, Concern.Status.DRAFT)
    _require_fresh(concern, version)
    _require_member(user, concern.reporting_service, message=_("You are not a member of the reporting service."))
    if concern.kind == Concern.Kind.MELDING and concern.person is not None:
        _require_child(concern.person)
    now = timezone.now()
    concern.submitted_at = now
    if concern.kind == Concern.Kind.MELDING:
        concern.legal_basis = LEGAL_BASIS.get(concern.reporting_service.kind, "barnevernsloven § 13-2")
        disclosure_record(
            obj=concern, person=concern.person, from_service=concern.reporting_service,
            to_service=concern.receiving_service, basis=Disclosure.Basis.OPPLYSNINGSPLIKT,
            legal_reference=concern.legal_basis, purpose="melding til barnevernstjenesten",
            perm=HANDLER, user=user,
        )
        concern.status = Concern.Status.SUBMITTED
    else:
        permissions.grant_to_service(perm=HANDLER, obj=concern, service=concern.receiving_service)
        concern.status = Concern.Status.SUBMITTED
    concern.save(update_fields=["submitted_at", "legal_basis", "status", "updated_at"])
    ConcernFlow.start.run(concern=concern)

    url, ref = _url(concern), concern.reference
    common = dict(subject=concern, responsible_service=concern.receiving_service, required_perm=HANDLER, url=url, reference=ref)
    if concern.kind == Concern.Kind.MELDING:
        deadlines.deadline_open(
            process=PROCESS, step="receipt", starts_at=now,
            also_escalate=(concern.reporting_service, REPORTER), **common,
        )
        deadlines.deadline_open(process=PROCESS, step="review", starts_at=now, **common)
        deadlines.deadline_open(process=PROCESS, step="feedback_initial", starts_at=now, **common)
    else:
        deadlines.deadline_open(process=PROCESS, step="consultation_answer", starts_at=now, **common)
    _notify_now(concern, service=concern.receiving_service, perm=HANDLER, key="submitted",
                message=system_text(gettext_noop("%(ref)s: a new concern has arrived"), ref=ref))
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="concern sent", service=concern.reporting_service)
    return concern


def _notify_now(concern, *, service, perm, key, message):
    reminder_schedule(
        key=f"concern:{concern.pk}:{key}:{service.pk}", obligation=f"concern:{concern.pk}:info",
        kind=Reminder.Kind.INFO, message=message, service=service, audience=Reminder.Audience.STAFF,
        subject=concern, required_perm=perm, due_at=timezone.now(), url=_url(concern),
    )


def _complete_task(concern: Concern, node_name: str, user, activation=None):
    from workflows.flows.concern import ConcernFlow

    task_complete(ConcernFlow, concern.process, node_name, user, activation)


def _require_handler(user, concern):
    _require_member(user, concern.receiving_service, message=_("Only the receiving child welfare service can do this."))


@transaction.atomic
def concern_confirm_receipt(*, concern: Concern, user, version=NO_FORM, activation=None) -> Concern:
    """Barnevern confirms receipt; the sender then sees “received” with its time."""
    concern = _lock(concern)
    _require_fresh(concern, version)
    _require_handler(user, concern)
    _require_status(concern, Concern.Status.SUBMITTED)
    if concern.kind != Concern.Kind.MELDING:
        raise ValidationError(_("An anonymous consultation is answered, not confirmed."), code="out_of_order")
    concern.status = Concern.Status.RECEIVED
    concern.received_at = timezone.now()
    concern.received_by = user
    concern.save(update_fields=["status", "received_at", "received_by", "updated_at"])
    deadlines.deadline_meet(subject=concern, process=PROCESS, step="receipt")
    _complete_task(concern, "confirm_receipt", user, activation)
    _notify_now(concern, service=concern.reporting_service, perm=REPORTER, key="received",
                message=system_text(gettext_noop("%(ref)s: the child welfare service has received your melding"), ref=concern.reference))
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="receipt confirmed", service=concern.receiving_service)
    return concern


@transaction.atomic
def concern_review(*, concern: Concern, user, decision: str, justification: str = "", version=NO_FORM, activation=None) -> Concern:
    """Record the review decision (§ 2-1): open an investigation, or close with a written justification."""
    concern = _lock(concern)
    _require_handler(user, concern)
    _require_status(concern, Concern.Status.RECEIVED)
    _require_fresh(concern, version)
    if decision not in Concern.ReviewDecision.values:
        raise ValidationError({"decision": _("Choose whether to investigate or close.")})
    text_limits(justification=(justification, MEDIUM_TEXT))
    if decision == Concern.ReviewDecision.CLOSE and not justification.strip():
        raise ValidationError({"justification": _("A decision to close must be justified in writing.")})
    now = timezone.now()
    concern.review_decision = decision
    concern.review_justification = justification.strip()
    concern.reviewed_at = now
    concern.status = Concern.Status.INVESTIGATING if decision == Concern.ReviewDecision.INVESTIGATE else Concern.Status.CLOSED
    concern.save(update_fields=["review_decision", "review_justification", "reviewed_at", "status", "updated_at"])
    review = deadlines.deadline_meet(subject=concern, process=PROCESS, step="review")
    if decision == Concern.ReviewDecision.INVESTIGATE:
        # § 2-2: three months counted from the end of the one-week review window, not from today.
        deadlines.deadline_open(
            subject=concern, process=PROCESS, step="investigation", starts_at=review.due_at,
            responsible_service=concern.receiving_service, required_perm=HANDLER, url=_url(concern), reference=concern.reference,
        )
    _complete_task(concern, "review", user, activation)
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="review decision", service=concern.receiving_service)
    return concern


def investigation_max_due(concern: Concern):
    """The latest the investigation may end even when extended (six months after the review window)."""
    review = deadlines.deadline_for(concern, "review", process=PROCESS)
    return deadlines.policy_get(PROCESS, "investigation_extended").due_from(review.due_at)


@transaction.atomic
def concern_extend_investigation(*, concern: Concern, user, reason: str, until=None, version=NO_FORM) -> Deadline:
    """Extend the investigation (§ 2-2 second paragraph) up to six months in all; a reason is required.

    ``until`` is a date or datetime; by default the full extension.
    """
    concern = _lock(concern)
    _require_fresh(concern, version)
    _require_handler(user, concern)
    _require_status(concern, Concern.Status.INVESTIGATING)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("An extension needs a recorded reason.")})
    text_limits(reason=(reason, SHORT_TEXT))
    deadline = deadlines.deadline_for(concern, "investigation", process=PROCESS)
    latest = investigation_max_due(concern)
    if until is None:
        new_due = latest
    else:
        if not isinstance(until, datetime):
            # A date means the end of that day, except the maximum's own date (which the page
            # offers as "at most until"): that means the maximum itself, not a refusal.
            if until == timezone.localtime(latest).date():
                until = latest
            else:
                until = timezone.make_aware(datetime.combine(until, time(23, 59)))
        new_due = until
    if new_due > latest:
        raise ValidationError({"until": _("An investigation may last at most six months after the review week (until %(date)s).") % {"date": timezone.localtime(latest).strftime("%d.%m.%Y")}})
    if new_due <= deadline.due_at:
        raise ValidationError({"until": _("The new deadline must be later than the current one.")})
    deadlines.deadline_extend(
        deadline=deadline, due_at=new_due, reason=reason.strip(), subject=concern,
        required_perm=HANDLER, url=_url(concern), reference=concern.reference,
    )
    concern.investigation_extension_reason = reason.strip()
    concern.save(update_fields=["investigation_extension_reason", "updated_at"])
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="investigation extended", service=concern.receiving_service)
    return deadline


@transaction.atomic
def concern_conclude_investigation(*, concern: Concern, user, outcome: str, summary: str = "", version=NO_FORM, activation=None) -> Concern:
    concern = _lock(concern)
    _require_fresh(concern, version)
    _require_handler(user, concern)
    _require_status(concern, Concern.Status.INVESTIGATING)
    if outcome not in Concern.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome of the investigation.")})
    text_limits(summary=(summary, LONG_TEXT))
    now = timezone.now()
    concern.investigation_outcome = outcome
    concern.investigation_summary = summary.strip()
    concern.investigation_ended_at = now
    concern.status = Concern.Status.INVESTIGATED
    concern.save(update_fields=["investigation_outcome", "investigation_summary", "investigation_ended_at", "status", "updated_at"])
    deadlines.deadline_meet(subject=concern, process=PROCESS, step="investigation")
    deadlines.deadline_open(
        subject=concern, process=PROCESS, step="feedback_final", starts_at=now,
        responsible_service=concern.receiving_service, required_perm=HANDLER, url=_url(concern), reference=concern.reference,
    )
    _complete_task(concern, "investigate", user, activation)
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="investigation concluded", service=concern.receiving_service)
    return concern


def feedback_default_message(concern: Concern, kind: str) -> str:
    """The standard wording of a feedback, which the caseworker may edit before sending."""
    if kind == ConcernFeedback.Kind.INITIAL:
        if concern.status == Concern.Status.INVESTIGATING or concern.status == Concern.Status.INVESTIGATED:
            return _("The child welfare service has received your melding and has opened an investigation.")
        if concern.status == Concern.Status.CLOSED:
            return _("The child welfare service has received your melding. No investigation has been opened.")
        return _("The child welfare service has received your melding. Whether an investigation will be opened has not yet been decided.")
    if concern.investigation_outcome == Concern.Outcome.MEASURES:
        return _("The investigation has ended. The child welfare service is following the case up.")
    return _("The investigation has ended and the case has been closed.")


@transaction.atomic
def concern_send_feedback(*, concern: Concern, user, kind: str, message: str = "", version=NO_FORM) -> ConcernFeedback:
    """Send the reporter the feedback the law promises: after receipt, and after the investigation.

    The reporter sees only these messages and the status, never barnevern's assessments.
    """
    concern = _lock(concern)
    _require_fresh(concern, version)
    _require_handler(user, concern)
    if concern.kind != Concern.Kind.MELDING:
        raise ValidationError(_("Feedback is given on meldinger."), code="out_of_order")
    if kind == ConcernFeedback.Kind.INITIAL:
        _require_status(concern, Concern.Status.RECEIVED, Concern.Status.INVESTIGATING, Concern.Status.CLOSED, Concern.Status.INVESTIGATED)
    elif kind == ConcernFeedback.Kind.FINAL:
        _require_status(concern, Concern.Status.INVESTIGATED)
    else:
        raise ValidationError(_("Unknown kind of feedback."))
    text_limits(message=(message, SHORT_TEXT))
    if ConcernFeedback.objects.filter(concern=concern, kind=kind).exists():
        raise ValidationError(_("This feedback has already been sent."), code="out_of_order")
    opened = None
    if concern.review_decision:
        opened = concern.review_decision == Concern.ReviewDecision.INVESTIGATE
    feedback = ConcernFeedback.objects.create(
        concern=concern, kind=kind, message=(message or "").strip() or feedback_default_message(concern, kind),
        investigation_opened=opened, sent_at=timezone.now(), sent_by=user,
    )
    deadlines.deadline_meet(subject=concern, process=PROCESS, step=f"feedback_{kind}")
    _notify_now(concern, service=concern.reporting_service, perm=REPORTER, key=f"feedback_{kind}",
                message=system_text(gettext_noop("%(ref)s: feedback from the child welfare service"), ref=concern.reference))
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, person=concern.person, purpose="feedback to reporter", service=concern.receiving_service)
    return feedback


@transaction.atomic
def consultation_answer(*, concern: Concern, user, advice: str, version=NO_FORM, activation=None) -> Concern:
    concern = _lock(concern)
    _require_fresh(concern, version)
    _require_handler(user, concern)
    if concern.kind != Concern.Kind.CONSULTATION:
        raise ValidationError(_("Only an anonymous consultation is answered with advice."), code="out_of_order")
    _require_status(concern, Concern.Status.SUBMITTED)
    if not (advice or "").strip():
        raise ValidationError({"advice": _("Write your advice.")})
    text_limits(advice=(advice, MEDIUM_TEXT))
    if contains_national_id(advice):
        raise ValidationError({"advice": _("Remove the identity number: the consultation is anonymous.")})
    concern.advice = advice.strip()
    concern.answered_at = timezone.now()
    concern.status = Concern.Status.ANSWERED
    concern.save(update_fields=["advice", "answered_at", "status", "updated_at"])
    deadlines.deadline_meet(subject=concern, process=PROCESS, step="consultation_answer")
    _complete_task(concern, "answer_consultation", user, activation)
    _notify_now(concern, service=concern.reporting_service, perm=REPORTER, key="answered",
                message=system_text(gettext_noop("%(ref)s: the child welfare service has answered your consultation"), ref=concern.reference))
    deadlines.next_deadline_refresh(concern)
    access_log_write(user=user, action="update", obj=concern, purpose="consultation answered", service=concern.receiving_service)
    return concern


@transaction.atomic
def consultation_upgrade(
    *, consultation: Concern, user, person: Person, parents_informed: bool | None, child_informed: bool | None, not_informed_reason: str = ""
) -> Concern:
    """Turn an anonymous consultation into an identified melding draft (one way); the link is kept.

    The new melding is a draft: the reporter checks it and sends it with ``concern_submit``.
    """
    consultation = _lock(consultation)
    _require_member(user, consultation.reporting_service, message=_("You are not a member of the reporting service."))
    if consultation.kind != Concern.Kind.CONSULTATION:
        raise ValidationError(_("Only an anonymous consultation can be upgraded."), code="out_of_order")
    _require_status(consultation, Concern.Status.SUBMITTED, Concern.Status.ANSWERED)
    melding = concern_draft_create(
        user=user, kind=Concern.Kind.MELDING, reporting_service=consultation.reporting_service,
        receiving_service=consultation.receiving_service, observations=consultation.observations,
        categories=consultation.categories, urgency=consultation.urgency, person=person,
        parents_informed=parents_informed, child_informed=child_informed, not_informed_reason=not_informed_reason,
    )
    melding.upgraded_from = consultation
    melding.save(update_fields=["upgraded_from", "updated_at"])
    if consultation.status == Concern.Status.SUBMITTED:
        deadlines.deadline_cancel(subject=consultation, process=PROCESS, step="consultation_answer")
        _cancel_open_tasks(consultation)
    consultation.status = Concern.Status.UPGRADED
    consultation.save(update_fields=["status", "updated_at"])
    deadlines.next_deadline_refresh(consultation)
    access_log_write(user=user, action="update", obj=consultation, purpose="consultation upgraded", service=consultation.reporting_service)
    return melding


def _cancel_open_tasks(concern: Concern):
    from workflows.flows.concern import ConcernFlow

    process_cancel(ConcernFlow, concern.process)
