"""Concern workflow services: every state change of a concern happens here.

Each step is declared once in ``STEPS`` and runs through the step skeleton (workflows.steps): the
row is locked, the acting service, the status and the form's version are checked, so a step out of
order or a stale form raises a translated ValidationError and changes nothing. Human viewflow tasks
are completed in the same transaction as the change they stand for.
"""
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.services import access_log_write
from consent.models import Disclosure
from consent.services import disclosure_record
from notifications.models import Reminder
from notifications.services import reminder_schedule, system_text
from notifications.tasks import deliver_reminder
from org import permissions
from org.access import require_member
from org.models import Service, ServiceKindSetting
from people.models import Person
from people.services import person_get_or_create, person_record_set
from referrals.models import Concern, ConcernFeedback
from people.validators import CHILD_UNDER, LONG_TEXT, MEDIUM_TEXT, SHORT_TEXT, child_birth_date_problem, contains_national_id, text_limits
from workflows import steps
from workflows.models import Deadline
from workflows.services import deadlines
from workflows.steps import NO_FORM, Guard, Opening

# The answers a melding needs before it is sent: the service refuses without them, and the form
# marks the same fields with the same words (workflows/concern/forms.py).
NEED_PARENTS_TOLD = gettext_lazy("Say whether the parents have been told.")
NEED_CHILD_TOLD = gettext_lazy("Say whether the child has been told.")
NEED_REASON = gettext_lazy("Explain why the parents or the child have not been told.")

PROCESS = "concern"
HANDLER = permissions.CONCERN_HANDLER
REPORTER = permissions.CONCERN_REPORTER
# The legal basis a melding records when its service's kind has none (org.ServiceKindSetting).
DEFAULT_LEGAL_BASIS = "barnevernsloven § 13-2"
S = Concern.Status

STEPS = steps.Steps(
    process=PROCESS, model=Concern, related=("reporting_service", "receiving_service", "person"), url="concerns:detail",
    roles={"reporting_service": "reporter", "receiving_service": "handler"},
    out_of_order=gettext_lazy("This step cannot be done now: the concern is “%(status)s”. Reload the page to see its current state."),
    stale=gettext_lazy("Someone else changed this concern while you had it open. Reload the page and try again."),
)
BY_REPORTER = {"actors": ("reporting_service",), "not_member": gettext_lazy("You are not a member of the reporting service.")}
BY_HANDLER = {"actors": ("receiving_service",), "not_member": gettext_lazy("Only the receiving child welfare service can do this.")}


def _is_melding(concern):
    return concern.kind == Concern.Kind.MELDING


def _is_consultation(concern):
    return concern.kind == Concern.Kind.CONSULTATION


def _feedback_not_sent(kind):
    return lambda concern: kind not in {f.kind for f in concern.feedbacks.all()}


def _handler_deadline(step, **timing):
    return Opening(step, service="receiving_service", perm=HANDLER, **timing)


# The reporter (barnehage/skole).
EDIT = STEPS.add("edit", statuses=(S.DRAFT,), **BY_REPORTER, purpose="concern draft")
DELETE = STEPS.add(
    "delete", statuses=(S.DRAFT,), **BY_REPORTER, purpose="concern draft deleted",
    guards=(Guard(lambda c: c.upgraded_from_id is None,
                  gettext_lazy("A melding made from an anonymous consultation cannot be deleted: check it and send it.")),),
)
SEND = STEPS.add(
    "send", statuses=(S.DRAFT,), **BY_REPORTER, purpose="concern sent",
    opens=(
        _handler_deadline("receipt", starts=lambda c, met: c.submitted_at, when=_is_melding,
                          also_escalate=lambda c: (c.reporting_service, REPORTER)),
        _handler_deadline("review", starts=lambda c, met: c.submitted_at, when=_is_melding),
        _handler_deadline("feedback_initial", starts=lambda c, met: c.submitted_at, when=_is_melding),
        _handler_deadline("consultation_answer", starts=lambda c, met: c.submitted_at, when=_is_consultation),
    ),
)
UPGRADE = STEPS.add(
    "upgrade", statuses=(S.SUBMITTED, S.ANSWERED), **BY_REPORTER, purpose="consultation upgraded",
    guards=(Guard(_is_consultation, gettext_lazy("Only an anonymous consultation can be upgraded.")),),
    cancels=("consultation_answer",),
)
# Barnevern.
ANSWER = STEPS.add(
    "answer", statuses=(S.SUBMITTED,), **BY_HANDLER, purpose="consultation answered",
    guards=(Guard(_is_consultation, gettext_lazy("Only an anonymous consultation is answered with advice.")),),
    task=True, meets=("consultation_answer",),
)
RECEIPT = STEPS.add(
    "receipt", statuses=(S.SUBMITTED,), **BY_HANDLER, purpose="receipt confirmed",
    guards=(Guard(_is_melding, gettext_lazy("An anonymous consultation is answered, not confirmed.")),),
    task=True, meets=("receipt",),
)
REVIEW = STEPS.add(
    "review", statuses=(S.RECEIVED,), **BY_HANDLER, purpose="review decision", task=True, meets=("review",),
    # § 2-2: three months counted from the end of the one-week review window, not from today.
    opens=(_handler_deadline("investigation", starts=lambda c, met: met["review"].due_at,
                             when=lambda c: c.review_decision == Concern.ReviewDecision.INVESTIGATE),),
)
EXTEND = STEPS.add("extend", statuses=(S.INVESTIGATING,), **BY_HANDLER, purpose="investigation extended")
CONCLUDE = STEPS.add(
    "conclude", statuses=(S.INVESTIGATING,), **BY_HANDLER, purpose="investigation concluded",
    task=True, meets=("investigation",),
    opens=(_handler_deadline("feedback_final", starts=lambda c, met: c.investigation_ended_at),),
)
FEEDBACK = {
    kind: STEPS.add(
        f"feedback_{kind}", statuses=statuses, **BY_HANDLER, purpose="feedback to reporter",
        guards=(
            Guard(_is_melding, gettext_lazy("Feedback is given on meldinger.")),
            Guard(_feedback_not_sent(kind), gettext_lazy("This feedback has already been sent.")),
        ),
        meets=(f"feedback_{kind}",),
    )
    for kind, statuses in (
        # § 13-2: the first feedback says whether an investigation was opened, so it follows the review.
        (ConcernFeedback.Kind.INITIAL, (S.INVESTIGATING, S.CLOSED, S.INVESTIGATED)),
        (ConcernFeedback.Kind.FINAL, (S.INVESTIGATED,)),
    )
}


def case_owner(concern: Concern) -> Service:
    """The service that holds the concern now: the reporter while it is a draft, then barnevern."""
    return concern.reporting_service if concern.status == Concern.Status.DRAFT else concern.receiving_service


def concern_version(concern: Concern) -> str:
    """The version a handling form carries (see workflows.steps.Steps.require_fresh)."""
    return steps.record_version(concern)


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


def _validate_content(*, kind, person, observations, categories, parents_informed, child_informed, not_informed_reason, child_age,
                      full: bool = True):
    """Refuse content that may not be stored (``full=False``, a draft) or not sent (``full``).

    A draft may leave any question open, but what it holds must be safe to keep: an anonymous
    consultation never identifies the child, a melding's child is a child, the categories are
    known, no text is too long. Sending also needs every required answer. All problems are raised
    at once, by field.
    """
    text_limits(observations=(observations, LONG_TEXT), not_informed_reason=(not_informed_reason, SHORT_TEXT))
    errors = {}
    valid = set(Concern.Category.values)
    if full and not (observations or "").strip():
        errors["observations"] = _("Describe what you have observed.")
    if full and not categories:
        errors["categories"] = _("Choose at least one category.")
    elif not set(categories or ()) <= valid:
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
            if full:
                errors["person"] = _("A melding must say which child it concerns.")
        else:
            try:
                _require_child(person)
            except ValidationError as e:
                errors.update(e.error_dict)
        if full:
            if parents_informed is None:
                errors["parents_informed"] = NEED_PARENTS_TOLD
            if child_informed is None:
                errors["child_informed"] = NEED_CHILD_TOLD
            if (parents_informed is False or child_informed is False) and not (not_informed_reason or "").strip():
                errors["not_informed_reason"] = NEED_REASON
    if errors:
        raise ValidationError(errors)


def _validate_for_sending(concern: Concern) -> None:
    _validate_content(
        kind=concern.kind, person=concern.person, observations=concern.observations, categories=concern.categories,
        parents_informed=concern.parents_informed, child_informed=concern.child_informed,
        not_informed_reason=concern.not_informed_reason, child_age=concern.child_age,
    )


@transaction.atomic
def concern_draft_create(
    *,
    user,
    kind: str,
    reporting_service: Service,
    receiving_service: Service,
    observations: str = "",
    categories: list[str] | None = None,
    urgency: str = Concern.Urgency.NORMAL,
    person: Person | None = None,
    child_age: int | None = None,
    parents_informed: bool | None = None,
    child_informed: bool | None = None,
    not_informed_reason: str = "",
) -> Concern:
    """Create a draft concern. Nothing leaves the reporting service until ``concern_submit``.

    A draft may be incomplete (``concern_submit`` checks that every question is answered); what
    it holds must still be safe to keep (see ``_validate_content``)."""
    require_member(user, reporting_service, BY_REPORTER["not_member"])
    if not reporting_service.can_report_concerns:
        raise ValidationError(_("This service does not file concerns to the child welfare service here."))
    if receiving_service.kind != Service.Kind.BARNEVERN:
        raise ValidationError({"receiving_service": _("Concerns go to a child welfare service.")})
    if kind not in Concern.Kind.values:
        raise ValidationError(_("Unknown kind of concern."))
    if urgency not in Concern.Urgency.values:
        raise ValidationError({"urgency": _("Choose how urgent it is.")})
    categories = list(categories or [])
    _validate_content(
        kind=kind, person=person, observations=observations, categories=categories,
        parents_informed=parents_informed, child_informed=child_informed,
        not_informed_reason=not_informed_reason, child_age=child_age, full=False,
    )
    concern = Concern.objects.create(
        kind=kind,
        reporting_service=reporting_service,
        receiving_service=receiving_service,
        created_by=user,
        person=person,
        child_age=child_age if kind == Concern.Kind.CONSULTATION else None,
        observations=(observations or "").strip(),
        categories=categories,
        urgency=urgency,
        parents_informed=parents_informed,
        child_informed=child_informed,
        not_informed_reason=(not_informed_reason or "").strip(),
    )
    permissions.grant_to_service(perm=REPORTER, obj=concern, service=reporting_service)
    access_log_write(user=user, action="create", obj=concern, person=person, purpose="concern draft", service=reporting_service)
    return concern


@transaction.atomic
def concern_create(*, user, reporting_service: Service, child: dict | None = None, send: bool = False, **fields) -> Concern:
    """The concern form's one write: register the child of a melding (``child``: the form's identity
    fields, see people.services.person_get_or_create), create the draft and, with ``send``, send it.
    A refused send keeps neither the draft nor the child."""
    person = None
    if child is not None and fields.get("kind") == Concern.Kind.MELDING:
        person = person_get_or_create(user=user, municipality=reporting_service.municipality, service=reporting_service, **child)
    concern = concern_draft_create(user=user, reporting_service=reporting_service, person=person, **fields)
    if send:
        concern = concern_submit(concern=concern, user=user)
    return concern


@transaction.atomic
def concern_draft_update(*, concern: Concern, user, version, **fields) -> Concern:
    """Change a draft; it may stay incomplete (see ``concern_draft_create``). Refused once sent,
    or if the form is stale."""
    with EDIT.run(concern, user=user, version=version) as run:
        concern = run.record
        allowed = {"observations", "categories", "urgency", "parents_informed", "child_informed", "not_informed_reason", "child_age", "person", "receiving_service"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        merged = {f: fields.get(f, getattr(concern, f)) for f in allowed}
        if "receiving_service" in fields and merged["receiving_service"].kind != Service.Kind.BARNEVERN:
            raise ValidationError({"receiving_service": _("Concerns go to a child welfare service.")})
        if merged["urgency"] not in Concern.Urgency.values:
            raise ValidationError({"urgency": _("Choose how urgent it is.")})
        if concern.kind != Concern.Kind.CONSULTATION:
            merged["child_age"] = None
        _validate_content(
            kind=concern.kind, person=merged["person"], observations=merged["observations"] or "", categories=merged["categories"] or [],
            parents_informed=merged["parents_informed"], child_informed=merged["child_informed"],
            not_informed_reason=merged["not_informed_reason"] or "", child_age=merged["child_age"], full=False,
        )
        for f, v in fields.items():
            if f in ("observations", "not_informed_reason"):
                v = (v or "").strip()
            elif f == "categories":
                v = list(v or [])
            setattr(concern, f, v)
        if concern.kind != Concern.Kind.CONSULTATION:
            concern.child_age = None
        concern.save()
    return concern


@transaction.atomic
def concern_draft_save(*, concern: Concern, user, version, child: dict | None = None, send: bool = False, **fields) -> Concern:
    """The draft edit form's one write: register the child of a melding from ``child`` (the form's
    identity fields; None leaves the draft without a child), change the draft and, with ``send``,
    send it, which checks every answer. A refused send changes nothing."""
    person = None
    if child is not None and concern.kind == Concern.Kind.MELDING:
        # Only a member of the reporting service may register a child through its draft.
        require_member(user, concern.reporting_service, BY_REPORTER["not_member"])
        person = _draft_child(concern, user=user, child=child)
    concern = concern_draft_update(concern=concern, user=user, version=version, person=person, **fields)
    if send:
        # The version was checked by the change, which has just moved it on.
        concern = concern_submit(concern=concern, user=user)
    return concern


def _draft_child(concern: Concern, *, user, child: dict) -> Person:
    """The child of a draft being saved again: the same person when the identity is unchanged
    (only the service's record of the name follows what was typed; without a number a new person
    would be registered at every save), else the person with the identity given."""
    current = concern.person
    service = concern.reporting_service
    if current is not None:
        same_number = child["national_id"] and current.national_id == child["national_id"]
        same_unnumbered = not child["national_id"] and not current.national_id and current.birth_date == child["birth_date"]
        if same_number or same_unnumbered:
            person_record_set(person=current, service=service, given_name=child["given_name"], family_name=child["family_name"])
            return current
    return person_get_or_create(user=user, municipality=service.municipality, service=service, **child)


@transaction.atomic
def concern_draft_delete(*, concern: Concern, user, version) -> None:
    """Delete a draft that never left the reporting service (its permission rows with it); the
    access log keeps that it existed and who deleted it. Refused once sent, for a stale page, and
    for a melding made from an anonymous consultation (the upgrade is one way: it is sent or kept)."""
    concern = STEPS.lock(concern)
    require_member(user, concern.reporting_service, BY_REPORTER["not_member"])
    refusal = DELETE.refusal(concern)
    if refusal is not None:
        raise refusal
    STEPS.require_fresh(concern, version)
    access_log_write(user=user, action="delete", obj=concern, person=concern.person, purpose=DELETE.purpose, service=concern.reporting_service)
    permissions.revoke_all_on_object(obj=concern)
    concern.delete()


@transaction.atomic
def concern_submit(*, concern: Concern, user, version=NO_FORM) -> Concern:
    """Send a draft to barnevern: record the legal basis, grant access, start the process and clocks.

    A melding is shared under opplysningsplikt (no consent needed); an anonymous consultation holds
    no personal data, so barnevern is granted access to it without a disclosure row. A melding is
    refused if the child has turned 18 since it was drafted.
    """
    with SEND.run(concern, user=user, version=version) as run:
        concern = run.record
        # A draft may be incomplete; what is sent answers every question (and the child is still a child).
        _validate_for_sending(concern)
        concern.submitted_at = timezone.now()
        if concern.kind == Concern.Kind.MELDING:
            setting = ServiceKindSetting.objects.filter(kind=concern.reporting_service.kind).first()
            concern.legal_basis = (setting.concern_legal_basis if setting else "") or DEFAULT_LEGAL_BASIS
            disclosure_record(
                obj=concern, person=concern.person, from_service=concern.reporting_service,
                to_service=concern.receiving_service, basis=Disclosure.Basis.OPPLYSNINGSPLIKT,
                legal_reference=concern.legal_basis, purpose="melding til barnevernstjenesten",
                perm=HANDLER, user=user,
            )
        else:
            permissions.grant_to_service(perm=HANDLER, obj=concern, service=concern.receiving_service)
        concern.status = Concern.Status.SUBMITTED
        run.save("submitted_at", "legal_basis", "status")
        STEPS.flow_class().start.run(concern=concern)
        run.notify(concern.receiving_service, HANDLER, "submitted",
                   system_text(gettext_noop("%(ref)s: a new concern has arrived"), ref=concern.reference), topic=gettext_noop("New concern"))
        if concern.urgency == Concern.Urgency.ACUTE:
            _alarm_leaders_now(concern)
    return concern


def _alarm_leaders_now(concern: Concern) -> Reminder:
    """An acute concern reaches the receiving service's leaders at once, in-app and by e-mail.

    The alarm is a reminder row written in the sending transaction (so it exists exactly when the
    concern was sent) and delivered as soon as that commits, not at the next sweep. If the
    queue is down, the sweep delivers it; the row's lock and ``sent_at`` make it once either way.
    Its text names the case by its reference only (the e-mail subject names nothing).
    """
    reminder = reminder_schedule(
        key=f"{PROCESS}:{concern.pk}:acute:{concern.receiving_service_id}", obligation=f"{PROCESS}:{concern.pk}:acute",
        kind=Reminder.Kind.ALARM, service=concern.receiving_service, audience=Reminder.Audience.LEADERS,
        message=system_text(gettext_noop("%(ref)s: an ACUTE concern has arrived – the child may be in danger now"), ref=concern.reference),
        subject=concern, required_perm=HANDLER, due_at=timezone.now(), url=STEPS.url(concern),
        topic=gettext_noop("Acute concern: the child may be in danger now"),
    )
    transaction.on_commit(lambda: deliver_reminder.delay(reminder.pk), robust=True)
    return reminder


@transaction.atomic
def concern_confirm_receipt(*, concern: Concern, user, version=NO_FORM, activation=None) -> Concern:
    """Barnevern confirms receipt; the sender then sees “received” with its time."""
    with RECEIPT.run(concern, user=user, version=version, activation=activation) as run:
        concern = run.record
        concern.status = Concern.Status.RECEIVED
        concern.received_at = timezone.now()
        concern.received_by = user
        run.save("status", "received_at", "received_by")
        run.notify(concern.reporting_service, REPORTER, "received",
                   system_text(gettext_noop("%(ref)s: the child welfare service has received your melding"), ref=concern.reference),
                   topic=gettext_noop("Receipt confirmed"))
    return concern


@transaction.atomic
def concern_review(*, concern: Concern, user, decision: str, justification: str = "", version=NO_FORM, activation=None) -> Concern:
    """Record the review decision (§ 2-1): open an investigation, or close with a written justification."""
    with REVIEW.run(concern, user=user, version=version, activation=activation) as run:
        concern = run.record
        if decision not in Concern.ReviewDecision.values:
            raise ValidationError({"decision": _("Choose whether to investigate or close.")})
        text_limits(justification=(justification, MEDIUM_TEXT))
        if decision == Concern.ReviewDecision.CLOSE and not justification.strip():
            raise ValidationError({"justification": _("A decision to close must be justified in writing.")})
        concern.review_decision = decision
        concern.review_justification = justification.strip()
        concern.reviewed_at = timezone.now()
        concern.status = Concern.Status.INVESTIGATING if decision == Concern.ReviewDecision.INVESTIGATE else Concern.Status.CLOSED
        run.save("review_decision", "review_justification", "reviewed_at", "status")
    return concern


def investigation_max_due(concern: Concern, *, deadlines_read=None):
    """The latest the investigation may end even when extended (six months after the review window).
    ``deadlines_read``: the concern's deadlines with their policies if the caller has read them
    (``deadlines.open_deadlines``), else the review deadline is read here."""
    if deadlines_read is not None:
        review = next(d for d in deadlines_read if d.policy.process == PROCESS and d.policy.step == "review")
    else:
        review = deadlines.deadline_for(concern, "review", process=PROCESS)
    return deadlines.policy_get(PROCESS, "investigation_extended").due_from(review.due_at)


@transaction.atomic
def concern_extend_investigation(*, concern: Concern, user, reason: str, until=None, version=NO_FORM) -> Deadline:
    """Extend the investigation (§ 2-2 second paragraph) up to six months in all; a reason is required.

    ``until`` is a date or datetime; by default the full extension.
    """
    with EXTEND.run(concern, user=user, version=version) as run:
        concern = run.record
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
            required_perm=HANDLER, url=STEPS.url(concern), reference=concern.reference,
        )
        concern.investigation_extension_reason = reason.strip()
        run.save("investigation_extension_reason")
    return deadline


@transaction.atomic
def concern_conclude_investigation(*, concern: Concern, user, outcome: str, summary: str = "", version=NO_FORM, activation=None) -> Concern:
    with CONCLUDE.run(concern, user=user, version=version, activation=activation) as run:
        concern = run.record
        if outcome not in Concern.Outcome.values:
            raise ValidationError({"outcome": _("Choose the outcome of the investigation.")})
        text_limits(summary=(summary, LONG_TEXT))
        concern.investigation_outcome = outcome
        concern.investigation_summary = summary.strip()
        concern.investigation_ended_at = timezone.now()
        concern.status = Concern.Status.INVESTIGATED
        run.save("investigation_outcome", "investigation_summary", "investigation_ended_at", "status")
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
    if kind not in FEEDBACK:
        raise ValidationError(_("Unknown kind of feedback."))
    with FEEDBACK[kind].run(concern, user=user, version=version) as run:
        concern = run.record
        text_limits(message=(message, SHORT_TEXT))
        opened = None
        if concern.review_decision:
            opened = concern.review_decision == Concern.ReviewDecision.INVESTIGATE
        feedback = ConcernFeedback.objects.create(
            concern=concern, kind=kind, message=(message or "").strip() or feedback_default_message(concern, kind),
            investigation_opened=opened, sent_at=timezone.now(), sent_by=user,
        )
        run.notify(concern.reporting_service, REPORTER, f"feedback_{kind}",
                   system_text(gettext_noop("%(ref)s: feedback from the child welfare service"), ref=concern.reference),
                   topic=gettext_noop("Feedback from the child welfare service"))
    return feedback


@transaction.atomic
def consultation_answer(*, concern: Concern, user, advice: str, version=NO_FORM, activation=None) -> Concern:
    with ANSWER.run(concern, user=user, version=version, activation=activation) as run:
        concern = run.record
        if not (advice or "").strip():
            raise ValidationError({"advice": _("Write your advice.")})
        text_limits(advice=(advice, MEDIUM_TEXT))
        if contains_national_id(advice):
            raise ValidationError({"advice": _("Remove the identity number: the consultation is anonymous.")})
        concern.advice = advice.strip()
        concern.answered_at = timezone.now()
        concern.status = Concern.Status.ANSWERED
        run.save("advice", "answered_at", "status")
        run.notify(concern.reporting_service, REPORTER, "answered",
                   system_text(gettext_noop("%(ref)s: the child welfare service has answered your consultation"), ref=concern.reference),
                   topic=gettext_noop("Advice given"))
    return concern


@transaction.atomic
def consultation_upgrade(
    *, consultation: Concern, user, person: Person | None = None, child: dict | None = None,
    parents_informed: bool | None, child_informed: bool | None, not_informed_reason: str = "",
) -> Concern:
    """Turn an anonymous consultation into an identified melding draft (one way); the link is kept.

    The child is ``person``, or registered from ``child`` (the upgrade form's identity fields, see
    people.services.person_get_or_create) once the upgrade is allowed. The new melding is a draft:
    the reporter checks it and sends it with ``concern_submit``.
    """
    with UPGRADE.run(consultation, user=user) as run:
        consultation = run.record
        if person is None:
            person = person_get_or_create(
                user=user, municipality=consultation.reporting_service.municipality, service=consultation.reporting_service, **child,
            )
        melding = concern_draft_create(
            user=user, kind=Concern.Kind.MELDING, reporting_service=consultation.reporting_service,
            receiving_service=consultation.receiving_service, observations=consultation.observations,
            categories=consultation.categories, urgency=consultation.urgency, person=person,
            parents_informed=parents_informed, child_informed=child_informed, not_informed_reason=not_informed_reason,
        )
        melding.upgraded_from = consultation
        melding.save(update_fields=["upgraded_from", "updated_at"])
        if consultation.status == Concern.Status.SUBMITTED:
            # Still awaiting advice: its task goes with it (an answered one's process has ended).
            STEPS.process_cancel(consultation)
        consultation.status = Concern.Status.UPGRADED
        run.save("status")
    return melding
