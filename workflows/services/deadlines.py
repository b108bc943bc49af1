"""Open, meet and extend deadlines; each carries its reminder and escalation rows."""
from datetime import timezone as dt_timezone

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import override

from django.conf import settings
from notifications.models import Reminder
from notifications.services import reminder_cancel, reminder_row, reminders_schedule
from workflows.models import Deadline, DeadlinePolicy


def policy_get(process: str, step: str) -> DeadlinePolicy:
    try:
        return DeadlinePolicy.objects.get(process=process, step=step)
    except DeadlinePolicy.DoesNotExist:
        raise ValidationError(
            _("No deadline policy is configured for %(process)s/%(step)s. Ask the administrator to add it.")
            % {"process": process, "step": step}
        )


def policies_get(process: str, steps) -> dict[str, DeadlinePolicy]:
    """The policies of ``steps`` of ``process`` in one query, by step (a step without one is left out:
    ``policy_get`` names it when a deadline is opened on it)."""
    steps = set(steps)
    if not steps:
        return {}
    return {policy.step: policy for policy in DeadlinePolicy.objects.filter(process=process, step__in=steps)}


def _obligation(deadline: Deadline) -> str:
    return f"deadline:{deadline.pk}"


def deadline_open(
    *,
    subject,
    process: str,
    step: str,
    starts_at,
    responsible_service,
    required_perm: str,
    url: str,
    reference: str,
    also_escalate: tuple | None = None,
    policy: DeadlinePolicy | None = None,
) -> Deadline:
    """Start the clock of ``step`` on ``subject`` and schedule its reminder and escalation rows.

    ``also_escalate`` is ``(service, required_perm)`` for policies that alarm a second service's
    leaders (the unconfirmed-receipt alarm reaches the sender's leaders too). ``policy`` is the
    step's policy if the caller has read it (``policies_get``), else it is read here.
    """
    if policy is None or (policy.process, policy.step) != (process, step):
        policy = policy_get(process, step)
    due = policy.due_from(starts_at)
    deadline = Deadline.objects.create(
        policy=policy,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        responsible_service=responsible_service,
        starts_at=starts_at,
        due_at=due,
    )
    _schedule(deadline, subject=subject, required_perm=required_perm, url=url, reference=reference, also_escalate=also_escalate)
    return deadline


def _schedule(deadline, *, subject, required_perm, url, reference, also_escalate):
    policy = deadline.policy
    obligation = _obligation(deadline)
    # Keys carry the due time: an extended deadline gets fresh reminders, a repeated call none.
    key = f"{obligation}:{int(deadline.due_at.timestamp())}"
    with override(settings.LANGUAGE_CODE):
        due_text = formats.date_format(timezone.localtime(deadline.due_at), "SHORT_DATETIME_FORMAT")
        remind_msg = _("%(ref)s: %(title)s – deadline %(due)s") % {"ref": reference, "title": policy.title, "due": due_text}
        overdue_msg = _("%(ref)s: %(title)s – the deadline %(due)s has passed") % {"ref": reference, "title": policy.title, "due": due_text}
    # The deadline's reminder and escalation rows in one INSERT.
    rows = []
    remind_at = policy.remind_at(deadline.due_at)
    if remind_at is not None:
        rows.append(reminder_row(
            key=f"{key}:remind", obligation=obligation, kind=Reminder.Kind.REMINDER, message=remind_msg,
            service=deadline.responsible_service, audience=policy.remind, subject=subject,
            required_perm=required_perm, due_at=remind_at, url=url, topic=policy.title, deadline_at=deadline.due_at,
        ))
    if policy.escalate != DeadlinePolicy.Escalate.NONE:
        rows.append(reminder_row(
            key=f"{key}:escalate", obligation=obligation, kind=Reminder.Kind.ESCALATION, message=overdue_msg,
            service=deadline.responsible_service, audience=Reminder.Audience.LEADERS, subject=subject,
            required_perm=required_perm, due_at=deadline.due_at, url=url, topic=policy.title, deadline_at=deadline.due_at,
        ))
        if policy.escalate == DeadlinePolicy.Escalate.BOTH_LEADERS and also_escalate:
            other_service, other_perm = also_escalate
            rows.append(reminder_row(
                key=f"{key}:escalate:{other_service.pk}", obligation=obligation, kind=Reminder.Kind.ALARM,
                message=overdue_msg, service=other_service, audience=Reminder.Audience.LEADERS, subject=subject,
                required_perm=other_perm, due_at=deadline.due_at, url=url, topic=policy.title, deadline_at=deadline.due_at,
            ))
    reminders_schedule(rows)


def deadline_for(subject, step: str, *, process: str) -> Deadline | None:
    return (
        Deadline.objects.select_related("policy")
        .filter(
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=subject.pk,
            policy__process=process,
            policy__step=step,
        )
        .first()
    )


def deadline_meet(*, subject, process: str, step: str) -> Deadline | None:
    """Mark the step's deadline met now and cancel its pending reminders."""
    deadline = deadline_for(subject, step, process=process)
    if deadline is None or not deadline.is_open:
        return deadline
    deadline.met_at = timezone.now()
    deadline.save(update_fields=["met_at"])
    reminder_cancel(obligation=_obligation(deadline))
    return deadline


def deadline_cancel(*, subject, process: str, step: str) -> None:
    deadline = deadline_for(subject, step, process=process)
    if deadline is None or not deadline.is_open:
        return
    deadline.cancelled_at = timezone.now()
    deadline.save(update_fields=["cancelled_at"])
    reminder_cancel(obligation=_obligation(deadline))


def deadline_extend(*, deadline: Deadline, due_at, reason: str, subject, required_perm: str, url: str, reference: str) -> Deadline:
    """Move an open deadline later, recording why; its reminders move with it."""
    reminder_cancel(obligation=_obligation(deadline))
    deadline.due_at = due_at
    deadline.extension_reason = reason
    deadline.save(update_fields=["due_at", "extension_reason"])
    _schedule(deadline, subject=subject, required_perm=required_perm, url=url, reference=reference, also_escalate=None)
    return deadline


def next_deadline_refresh(subject) -> None:
    """Store the subject's earliest open deadline in its ``next_deadline_at`` (what lists sort and
    page on), and touch its ``updated_at``, in one UPDATE; the instance gets both values. Call after
    any change to the subject's deadlines, in the same transaction."""
    model = type(subject)
    table = connection.ops.quote_name(model._meta.db_table)
    subject.updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s, next_deadline_at = ("
            f" SELECT min(d.due_at) FROM {connection.ops.quote_name(Deadline._meta.db_table)} d"
            "  WHERE d.subject_type_id = %s AND d.subject_id = %s AND d.met_at IS NULL AND d.cancelled_at IS NULL"
            f") WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s RETURNING next_deadline_at",
            [connection.ops.adapt_datetimefield_value(subject.updated_at), ContentType.objects.get_for_model(subject).pk, subject.pk, subject.pk],
        )
        (due,) = cursor.fetchone()
    if isinstance(due, str):  # SQLite returns the stored text (UTC)
        due = parse_datetime(due)
        due = timezone.make_aware(due, dt_timezone.utc) if timezone.is_naive(due) else due
    subject.next_deadline_at = due


def open_deadlines(subject):
    return (
        Deadline.objects.select_related("policy")
        .filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
        .order_by("due_at")
    )
