"""Open, meet and extend deadlines; each carries its reminder and escalation rows."""
import functools
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
from org.compiled import model_columns, model_instances, prepared_insert, prepared_rows
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
    opened, rows = deadlines_open([dict(
        subject=subject, process=process, step=step, starts_at=starts_at, responsible_service=responsible_service,
        required_perm=required_perm, url=url, reference=reference, also_escalate=also_escalate, policy=policy,
    )])
    reminders_schedule(rows)
    return opened[0]


def deadlines_open(openings: list[dict]) -> tuple[list[Deadline], list[Reminder]]:
    """Start several clocks in one INSERT: each of ``openings`` holds ``deadline_open``'s arguments.
    Returns the deadlines and their reminder and escalation rows, unsaved: the caller schedules
    them (``reminders_schedule``, with any other rows of its transaction) in the same transaction."""
    if not openings:
        return [], []
    opened = []
    for opening in openings:
        policy = opening.get("policy")
        if policy is None or (policy.process, policy.step) != (opening["process"], opening["step"]):
            policy = policy_get(opening["process"], opening["step"])
        opened.append(Deadline(
            policy=policy,
            subject_type=ContentType.objects.get_for_model(opening["subject"]),
            subject_id=opening["subject"].pk,
            responsible_service=opening["responsible_service"],
            starts_at=opening["starts_at"],
            due_at=policy.due_from(opening["starts_at"]),
        ))
    if connection.features.can_return_rows_from_bulk_insert:
        prepared_insert(Deadline, opened)
    else:
        for deadline in opened:
            deadline.save(force_insert=True)
    rows = []
    for deadline, opening in zip(opened, openings):
        rows += _reminder_rows(
            deadline, subject=opening["subject"], required_perm=opening["required_perm"], url=opening["url"],
            reference=opening["reference"], also_escalate=opening.get("also_escalate"),
        )
    return opened, rows


def _schedule(deadline, *, subject, required_perm, url, reference, also_escalate):
    reminders_schedule(_reminder_rows(
        deadline, subject=subject, required_perm=required_perm, url=url, reference=reference, also_escalate=also_escalate,
    ))


def deadline_reminder_rows(deadline: Deadline, *, subject, required_perm: str, url: str, reference: str,
                           also_escalate: tuple | None = None) -> list[Reminder]:
    """``deadline``'s reminder and escalation rows, unsaved (the caller schedules them), about
    ``subject``: the object whose ``required_perm`` the recipients must still hold at delivery, which
    may be another than the deadline's own (an individual plan's measure is reminded about its plan,
    the object its services hold the permission on)."""
    return _reminder_rows(deadline, subject=subject, required_perm=required_perm, url=url, reference=reference,
                          also_escalate=also_escalate)


def _reminder_rows(deadline, *, subject, required_perm, url, reference, also_escalate) -> list[Reminder]:
    """The deadline's reminder and escalation rows, unsaved."""
    policy = deadline.policy
    obligation = _obligation(deadline)
    # Keys carry the due time: an extended deadline gets fresh reminders, a repeated call none.
    key = f"{obligation}:{int(deadline.due_at.timestamp())}"
    with override(settings.LANGUAGE_CODE):
        due_text = formats.date_format(timezone.localtime(deadline.due_at), "SHORT_DATETIME_FORMAT")
        remind_msg = _("%(ref)s: %(title)s – deadline %(due)s") % {"ref": reference, "title": policy.title, "due": due_text}
        overdue_msg = _("%(ref)s: %(title)s – the deadline %(due)s has passed") % {"ref": reference, "title": policy.title, "due": due_text}
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
    return rows


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
    """Mark the step's deadline met now and cancel its pending reminders. Returns the deadline (as
    it was if it was no longer open), or None if the step has none on ``subject``."""
    return _deadline_close(subject, process, step, "met_at")


def deadline_cancel(*, subject, process: str, step: str) -> None:
    """Cancel the step's deadline now (if it is open) and its pending reminders."""
    _deadline_close(subject, process, step, "cancelled_at")


def _deadline_close(subject, process: str, step: str, field: str) -> Deadline | None:
    """Set ``field`` (met_at or cancelled_at) of the step's open deadline to now and cancel its
    unsent reminders (reminder_cancel). On PostgreSQL the read and both writes are one statement."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        deadline = deadline_for(subject, step, process=process)
        if deadline is None or not deadline.is_open:
            return deadline
        setattr(deadline, field, now)
        deadline.save(update_fields=[field])
        reminder_cancel(obligation=_obligation(deadline))
        return deadline
    found = model_instances(Deadline, prepared_rows(
        _deadline_close_sql(field),
        [ContentType.objects.get_for_model(subject).pk, subject.pk, process, step, now, now],
    ))
    if not found:
        return None
    deadline = found[0]
    if deadline.is_open:
        setattr(deadline, field, now)
    return deadline


@functools.cache
def _deadline_close_sql(field: str) -> str:
    """_deadline_close's statement on PostgreSQL, once per ``field``: the step's deadline read, closed
    and its reminders cancelled. Data-modifying CTEs run to completion whether or not the outer
    SELECT reads them; the outer SELECT returns the row as it was, in model_columns' order. The
    reminders' obligation is _obligation's "deadline:<id>". (A subject has at most one deadline per
    policy: uniq_deadline_per_subject.)"""
    qn = connection.ops.quote_name
    deadline_table, policy_table = qn(Deadline._meta.db_table), qn(DeadlinePolicy._meta.db_table)
    columns = ", ".join(qn(column) for column in model_columns(Deadline))
    return (
        f"WITH target AS ("
        f" SELECT d.* FROM {deadline_table} d JOIN {policy_table} p ON p.id = d.policy_id"
        f" WHERE d.subject_type_id = %s AND d.subject_id = %s AND p.process = %s AND p.step = %s"
        f"), closed AS ("
        f" UPDATE {deadline_table} SET {qn(field)} = %s"
        f" WHERE id IN (SELECT id FROM target WHERE met_at IS NULL AND cancelled_at IS NULL) RETURNING id"
        f"), reminders AS ("
        f" UPDATE {qn(Reminder._meta.db_table)} SET cancelled_at = %s"
        f" WHERE obligation IN (SELECT 'deadline:' || id::text FROM closed) AND sent_at IS NULL AND cancelled_at IS NULL"
        f") SELECT {columns} FROM target"
    )


def deadline_extend(*, deadline: Deadline, due_at, reason: str, subject, required_perm: str, url: str, reference: str) -> Deadline:
    """Move an open deadline later, recording why; its reminders move with it."""
    reminder_cancel(obligation=_obligation(deadline))
    deadline.due_at = due_at
    deadline.extension_reason = reason
    deadline.save(update_fields=["due_at", "extension_reason"])
    _schedule(deadline, subject=subject, required_perm=required_perm, url=url, reference=reference, also_escalate=None)
    return deadline


def next_deadline_refresh(subject, *, owed: bool = False, fields=()) -> list[tuple] | None:
    """Store the subject's earliest open deadline in its ``next_deadline_at`` (what lists sort and
    page on), and touch its ``updated_at``, in one UPDATE; the instance gets both values. Call after
    any change to the subject's deadlines, in the same transaction. ``fields``: other fields of the
    subject changed in memory, written by the same UPDATE (as ``save(update_fields=...)`` would).

    ``owed``: also return the subject's open deadlines, earliest first, as (responsible service id,
    policy title, due) (``owed_first`` picks a service's), read in the same statement on PostgreSQL
    (elsewhere None: ``open_deadlines`` answers instead)."""
    model = type(subject)
    qn = connection.ops.quote_name
    table, deadline_table = qn(model._meta.db_table), qn(Deadline._meta.db_table)
    subject_type_id = ContentType.objects.get_for_model(subject).pk
    subject.updated_at = timezone.now()
    owed = owed and connection.vendor == "postgresql"
    owed_sql = (
        f", (SELECT json_agg(json_build_array(d.responsible_service_id, p.title, d.due_at) ORDER BY d.due_at, d.id)"
        f" FROM {deadline_table} d JOIN {qn(DeadlinePolicy._meta.db_table)} p ON p.id = d.policy_id"
        "  WHERE d.subject_type_id = %s AND d.subject_id = %s AND d.met_at IS NULL AND d.cancelled_at IS NULL)"
    ) if owed else ""
    changed = [model._meta.get_field(name) for name in fields]
    sets = "".join(f", {qn(f.column)} = %s" for f in changed)
    values = [f.get_db_prep_save(f.pre_save(subject, False), connection) for f in changed]
    # Prepared (org.compiled.prepared_rows): its text is one of a few per record model and step.
    row = prepared_rows(
        f"UPDATE {table} SET updated_at = %s{sets}, next_deadline_at = ("
        f" SELECT min(d.due_at) FROM {deadline_table} d"
        "  WHERE d.subject_type_id = %s AND d.subject_id = %s AND d.met_at IS NULL AND d.cancelled_at IS NULL"
        f") WHERE {qn(model._meta.pk.column)} = %s RETURNING next_deadline_at{owed_sql}",
        [connection.ops.adapt_datetimefield_value(subject.updated_at), *values, subject_type_id, subject.pk, subject.pk]
        + ([subject_type_id, subject.pk] if owed else []),
    )[0]
    due = row[0]
    if isinstance(due, str):  # SQLite returns the stored text (UTC), or a naive datetime (UTC)
        due = parse_datetime(due)
    if due is not None and timezone.is_naive(due):
        due = timezone.make_aware(due, dt_timezone.utc)
    subject.next_deadline_at = due
    if not owed:
        return None
    # psycopg decodes json; the due times are ISO texts.
    return [(service_id, title, parse_datetime(due_at)) for service_id, title, due_at in (row[1] or [])]


def owed_first(owed: list[tuple], service) -> tuple[str, object] | None:
    """(policy title, due) of the earliest open deadline ``service`` owes in ``owed``
    (``next_deadline_refresh(owed=True)``), or None."""
    return next(((title, due_at) for service_id, title, due_at in owed if service_id == service.pk), None)


def open_deadlines(subject):
    return (
        Deadline.objects.select_related("policy")
        .filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
        .order_by("due_at")
    )
