"""Reminders: schedule, cancel, sweep, deliver; e-mail delivery of notifications.

The database is the truth. On PostgreSQL a sweep takes one due row at a time, locked FOR UPDATE
SKIP LOCKED, and delivers it in that same transaction: re-checked (still open? may the recipient
still see the subject?), one notification per recipient written under a unique key, the row marked
sent, committed. Racing sweeps skip each other's rows; a worker killed anywhere in between loses its
connection, PostgreSQL rolls the transaction back and drops the lock, and the next sweep delivers the
row at once. SQLite (the embedded quick start) has no row locks: there a sweep claims a batch for a
while (``reminders_claim``) and delivers each row in its own transaction; a killed sweep's claims
expire. Either way the unique key makes a second delivery write nothing.
"""
import logging
import os
import signal
import smtplib
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, InterfaceError, OperationalError, connection, router, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from notifications.gates import reminders_allowed
from notifications.models import Email, Notification, Reminder
from org import batch
from org.access import active_members, active_members_of
from org.models import Membership

log = logging.getLogger(__name__)

# The errors that mean "the database is away" (a restart, a lost connection, a failover), not "this
# row is bad": a sweep stops on them (and tries again soon) instead of blaming the row.
DATABASE_AWAY = (OperationalError, InterfaceError)


def system_text(msgid: str, **params) -> str:
    """A notification text in the site's default language, whoever's request created it.

    Mark ``msgid`` with gettext_noop at the call site so makemessages finds it.
    """
    with override(settings.LANGUAGE_CODE):
        return _(msgid) % params


def reminder_schedule(
    *,
    key: str,
    obligation: str,
    kind: str,
    message: str,
    service,
    audience: str,
    subject,
    required_perm: str,
    due_at,
    url: str = "",
    topic: str = "",
    deadline_at=None,
) -> Reminder:
    """Create (or keep) the reminder under ``key``. Call inside the transaction that creates the obligation.

    ``topic`` is the step the notice is about (a msgid marked with gettext_noop, shown translated,
    or a deadline policy's title) and ``deadline_at`` its deadline; with the subject's short
    ``reference`` (never a name) they make the notice's heading: “Concern 3F2A9C1B: Confirm
    receipt – deadline …”. Returns the stored row (the one already under ``key``, if any): to
    schedule several without reading them back, ``reminders_schedule``.
    """
    reminders_schedule([reminder_row(
        key=key, obligation=obligation, kind=kind, message=message, service=service, audience=audience, subject=subject,
        required_perm=required_perm, due_at=due_at, url=url, topic=topic, deadline_at=deadline_at,
    )])
    return Reminder.objects.get(key=key)


def reminder_row(
    *, key: str, obligation: str, kind: str, message: str, service, audience: str, subject, required_perm: str, due_at,
    url: str = "", topic: str = "", deadline_at=None,
) -> Reminder:
    """An unsaved reminder, for ``reminders_schedule`` (the arguments are ``reminder_schedule``'s)."""
    return Reminder(
        key=key,
        obligation=obligation,
        kind=kind,
        message=message,
        service=service,
        audience=audience,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        required_perm=required_perm,
        due_at=due_at,
        url=url,
        reference=str(getattr(subject, "reference", "") or "")[:20],
        topic=str(topic)[:200],
        deadline_at=deadline_at,
    )


# Rows of reminders that wait for a step's next statement (org.batch); more go in bulk_create's
# batches at once. A step schedules a handful; the bound keeps one text's parameters small.
_CARRIED_AT_MOST = 100


def reminders_schedule(reminders: list[Reminder]) -> None:
    """Create the unsaved ``reminders`` (``reminder_row``) in one INSERT; a key already scheduled
    keeps its stored row (ON CONFLICT DO NOTHING: a repeated call writes nothing, never waits for a
    sweep that holds the row). The instances get no id. Call inside the transaction that creates
    the obligation. Inside a step (org.batch.writes_sent_together) the INSERT goes with the step's
    next statement."""
    if not reminders:
        return
    using = router.db_for_write(Reminder)
    if batch.waiting(using) and len(reminders) <= _CARRIED_AT_MOST:
        batch.write_soon(*batch.insert_sql(Reminder, reminders, using=using, ignore_conflicts=True), using=using)
    else:
        Reminder.objects.bulk_create(reminders, ignore_conflicts=True)


def reminders_restore(reminders: list[Reminder]) -> None:
    """Schedule the unsaved ``reminders`` as ``reminders_schedule`` does, for an obligation set again
    (a clock reset, a plan resumed): a key stored and cancelled before it was sent is revived, due at
    the new row's time; one still waiting is kept as it is; one already sent is never repeated. Call
    inside the transaction that sets the obligation. A cancelled row is no sweep's (the sweep takes
    only rows not cancelled), so reviving it waits for none."""
    rows = {row.key: row for row in reminders}
    stored = dict(Reminder.objects.filter(key__in=rows).values_list("key", "sent_at"))
    for key, sent_at in stored.items():
        if sent_at is None:
            row = rows[key]
            Reminder.objects.filter(key=key, sent_at__isnull=True, cancelled_at__isnull=False).update(
                cancelled_at=None, claimed_until=None, due_at=row.due_at, deadline_at=row.deadline_at)
    reminders_schedule([row for key, row in rows.items() if key not in stored])


def staff_reminder_schedule(*, obligation: str, message: str, service, subject, required_perm: str, url: str = "", topic: str = "") -> Reminder:
    """A reminder due now to ``service``'s staff, one per ``obligation`` (its key): the scheduler the
    consent app's reminders hook calls (consent.reminders)."""
    return reminder_schedule(
        key=obligation, obligation=obligation, kind=Reminder.Kind.REMINDER, message=message, service=service,
        audience=Reminder.Audience.STAFF, subject=subject, required_perm=required_perm, due_at=timezone.now(), url=url, topic=topic,
    )


def reminder_cancel(*, obligation: str) -> int:
    """Cancel every unsent reminder of an obligation; returns how many. Call in the fulfilling transaction."""
    return Reminder.objects.filter(obligation=obligation, sent_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )


def reminder_reschedule(*, obligation: str, kind: str, due_at) -> int:
    return Reminder.objects.filter(obligation=obligation, kind=kind, sent_at__isnull=True, cancelled_at__isnull=True).update(
        due_at=due_at, claimed_until=None
    )


def reminders_claim(*, limit: int | None = None, exclude=()) -> list[int]:
    """Claim up to ``limit`` due reminders for this sweep; returns their ids. The SQLite sweep's way
    to keep two sweeps off the same rows (PostgreSQL's sweep locks row by row instead).

    Rows locked by a concurrent sweep are skipped, not waited for, so racing sweeps split the work.
    A claim lasts REMINDER_CLAIM_SECONDS; a sweep that fails releases it (``reminders_release``),
    so only a killed sweep leaves rows to wait for the claim to expire.
    """
    now = timezone.now()
    limit = limit or settings.REMINDER_SWEEP_BATCH
    with transaction.atomic():
        qs = Reminder.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            sent_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__lte=now,
        ).exclude(id__in=list(exclude)).order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            Reminder.objects.filter(id__in=ids).update(claimed_until=now + timedelta(seconds=settings.REMINDER_CLAIM_SECONDS))
    return ids


def reminders_release(*, reminder_ids) -> int:
    """Give claimed, undelivered reminders back to the next sweep at once; returns how many."""
    return Reminder.objects.filter(id__in=list(reminder_ids), sent_at__isnull=True).update(claimed_until=None)


def _locked_for_share(queryset, *columns: str) -> list:
    """``columns`` (default the pk) of ``queryset``'s rows — one value per row for one column, a
    tuple for several — those rows locked FOR SHARE until the transaction ends.

    A share lock lets other readers and deliveries through but makes a DELETE or UPDATE of the
    row (a revoked grant, an ended membership) wait for this transaction, and makes this wait for
    one already under way, which then finds the row gone or changed. Only the queryset's own table
    is locked (``OF``), not the rows its filters join (the user, the service). SQLite writes one at
    a time anyway and has no row locks, so there it is a plain read.
    """
    columns = columns or ("pk",)
    values = queryset.values_list(*columns)
    if connection.vendor == "postgresql":
        try:
            sql, params = values.query.sql_with_params()
        except EmptyResultSet:
            return []  # a filter such as ``__in=[]``: no rows, nothing to lock
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR SHARE OF {table}", params)
            rows = cursor.fetchall()
    else:
        rows = list(values)
    return [row[0] for row in rows] if len(columns) == 1 else [tuple(row) for row in rows]


def _grant(reminder: Reminder):
    """The reminder's service's (its group's) grant of the required permission on the subject."""
    from guardian.models import GroupObjectPermission

    app_label, _dot, codename = reminder.required_perm.rpartition(".")
    return GroupObjectPermission.objects.filter(
        group_id=reminder.service.group_id, content_type_id=reminder.subject_type_id, object_pk=str(reminder.subject_id),
        permission__codename=codename, permission__content_type__app_label=app_label,
    )


def _subject_model(subject_type_id: int):
    return ContentType.objects.get_for_id(subject_type_id).model_class()


def _members(reminder: Reminder):
    role = Membership.Role.LEADER if reminder.audience == Reminder.Audience.LEADERS else None
    return active_members(reminder.service, role=role)


def _lock_recipients(reminder: Reminder, *, user_id: int | None = None) -> dict[int, str]:
    """The users who may receive ``reminder`` now, by id, with their e-mail addresses ("" for
    none), with what makes them so locked until commit.

    Locks the service's grant on the subject and the recipients' memberships FOR SHARE (see
    ``_locked_for_share``): a withdrawal or an ended membership that commits before this returns
    is seen, and one that comes after waits until this transaction has committed what it wrote.
    So nothing is delivered, or e-mailed, after the commit that took its recipient's access away.
    Never user.has_perm, which is true for any superuser. The subject's delivery gate, if any
    (notifications.gates), must let the service through too. ``user_id`` narrows it to one recipient.
    """
    if reminder.service.group_id is None or not _locked_for_share(_grant(reminder)):
        return {}
    if not reminders_allowed([reminder], _subject_model):
        return {}
    members = _members(reminder)
    if user_id is not None:
        members = members.filter(user_id=user_id)
    return dict(_locked_for_share(members, "user_id", "user__email"))


def _lock_recipients_of(reminders) -> dict[int, dict[int, str]]:
    """``_lock_recipients`` for several reminders at once, in two queries: by reminder id, the users
    who may receive it now and their addresses. Locks the same rows (and may share-lock a few more:
    another reminder's grant read with these), so it serialises with a withdrawal just the same."""
    from guardian.models import GroupObjectPermission

    reminders = [r for r in reminders if r.service.group_id is not None]
    if not reminders:
        return {}
    def grant_of(r):
        app_label, _dot, codename = r.required_perm.rpartition(".")
        return r.service.group_id, r.subject_type_id, str(r.subject_id), app_label, codename

    wanted = {grant_of(r) for r in reminders}
    grants = GroupObjectPermission.objects.filter(
        group_id__in={key[0] for key in wanted}, content_type_id__in={key[1] for key in wanted},
        object_pk__in={key[2] for key in wanted}, permission__codename__in={key[4] for key in wanted},
    )
    granted = set(_locked_for_share(grants, "group_id", "content_type_id", "object_pk", "permission__content_type__app_label",
                                    "permission__codename"))
    reminders = [r for r in reminders if grant_of(r) in granted]
    if not reminders:
        return {}
    members = _locked_for_share(active_members_of({r.service_id for r in reminders}), "service_id", "user_id", "user__email", "role")
    recipients = {}
    for reminder in reminders:
        leaders_only = reminder.audience == Reminder.Audience.LEADERS
        recipients[reminder.pk] = {
            user_id: email or "" for service_id, user_id, email, role in members
            if service_id == reminder.service_id and (not leaders_only or role == Membership.Role.LEADER)
        }
    return recipients


def _message_id() -> str:
    return make_msgid(domain=urlsplit(settings.SITE_URL).hostname or "samhandling.local")


def reminder_deliver_one(*, reminder_id: int) -> bool:
    """Deliver one reminder now. Returns True when it was delivered now, False when nothing was due.

    Waits for the row's lock, so a sweep delivering the same row first makes this find it sent
    and write nothing. See ``_deliver_all_locked`` for what delivery does.
    """
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update(of=("self",)).select_related("service").filter(pk=reminder_id).first()
        emails = _deliver_all_locked([reminder])[reminder.pk] if reminder is not None else None
    if emails is None:
        return False
    log.info("reminder delivered id=%s e-mails=%s", reminder_id, emails)
    return True


def _deliver_all_locked(reminders) -> dict[int, int | None]:
    """Deliver ``reminders``, whose rows the caller's transaction has locked. Returns, by reminder
    id, how many e-mails it queued, or None when nothing was delivered (already sent or cancelled,
    or its subject is gone: then it is cancelled).

    Locks the recipients' access (``_lock_recipients_of``), so it serialises with a withdrawal, and
    asks the subject's delivery gate, if its app registered one (notifications.gates). Writes each recipient's notification and, for a recipient with an address, its e-mail's outbox
    row, and enqueues the e-mails after the commit; an enqueue that fails is logged and left to
    the sweep's requeue, the delivery stands. A few queries for the lot, however many rows.
    """
    outcome: dict[int, int | None] = {r.pk: None for r in reminders}
    live = [r for r in reminders if not r.sent_at and not r.cancelled_at]
    if not live:
        return outcome
    if settings.REMINDER_DELIVERY_PAUSE_SECONDS:
        time.sleep(settings.REMINDER_DELIVERY_PAUSE_SECONDS)
    subjects_by_type = defaultdict(set)
    for reminder in live:
        subjects_by_type[reminder.subject_type_id].add(reminder.subject_id)
    present = set()
    for type_id, subject_ids in subjects_by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        present |= {(type_id, pk) for pk in model.objects.filter(pk__in=subject_ids).values_list("pk", flat=True)}
    gone = [r.pk for r in live if (r.subject_type_id, r.subject_id) not in present]
    if gone:
        Reminder.objects.filter(pk__in=gone).update(cancelled_at=timezone.now())
        for reminder_id in gone:
            log.info("reminder cancelled: its subject is gone id=%s", reminder_id)
        live = [r for r in live if r.pk not in gone]
    recipients = _lock_recipients_of(live)
    # The subject's own app may know more than the grant (a consent that lapsed without a revoked
    # grant): a reminder its gate refuses reaches no one.
    allowed = reminders_allowed(live, _subject_model)
    recipients = {reminder_id: users for reminder_id, users in recipients.items() if reminder_id in allowed}
    # None yet, as a rule: the row locks keep out every other delivery, and a delivered one is sent.
    already = set(Notification.objects.filter(reminder__in=live).values_list("reminder_id", "user_id"))
    notifications = Notification.objects.bulk_create([
        Notification(reminder=reminder, user_id=user_id, kind=reminder.kind, message=reminder.message, url=reminder.url,
                     reference=reminder.reference, topic=reminder.topic, deadline_at=reminder.deadline_at)
        for reminder in live for user_id in sorted(recipients.get(reminder.pk, {})) if (reminder.pk, user_id) not in already
    ])
    to_email = [n for n in notifications if recipients[n.reminder_id][n.user_id]]
    emails = Email.objects.bulk_create([Email(notification=n, message_id=_message_id()) for n in to_email])
    Reminder.objects.filter(pk__in=[r.pk for r in live]).update(sent_at=timezone.now(), claimed_until=None, attempts=F("attempts") + 1)
    outcome.update({reminder.pk: 0 for reminder in live})
    for notification in to_email:
        outcome[notification.reminder_id] += 1
    email_ids = [email.pk for email in emails]
    transaction.on_commit(lambda: _emails_enqueue(email_ids))
    return outcome


def _emails_enqueue(email_ids) -> int:
    """Publish a send task per e-mail; returns how many were published. A broker that is down
    loses nothing: the rows stay QUEUED and the sweep's requeue publishes them later."""
    from notifications.tasks import send_email

    published = 0
    for email_id in email_ids:
        try:
            send_email.delay(email_id)
        except Exception:  # noqa: BLE001 - any broker failure; the row is the truth
            log.warning("e-mail not enqueued, the sweep will requeue it id=%s", email_id, exc_info=True)
            break
        published += 1
    return published


def emails_requeue(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Re-publish the e-mails still to send whose task is lost (queue flushed, worker killed, broker
    down): those whose attempt was interrupted (its claim is over), and those never claimed that are
    older than ``older_than_seconds`` (a younger one's task is most likely still queued). Returns how many."""
    now = timezone.now()
    ids = list(
        Email.objects.filter(
            Q(claimed_until__lt=now) | Q(claimed_until__isnull=True, created_at__lt=now - timedelta(seconds=older_than_seconds)),
            state__in=[Email.State.QUEUED, Email.State.SENDING],
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    _journal_prune()
    return _emails_enqueue(ids)


def reminders_sweep(*, limit: int | None = None, budget_seconds: float | None = None) -> int:
    """Deliver due reminders until none is left or the time budget (REMINDER_SWEEP_BUDGET_SECONDS)
    is spent; returns the number delivered. See ``reminders_sweep_run``."""
    return reminders_sweep_run(limit=limit, budget_seconds=budget_seconds)[0]


def reminders_sweep_run(*, limit: int | None = None, budget_seconds: float | None = None) -> tuple[int, bool]:
    """Deliver due reminders until none is left or the time budget is spent. Returns the number
    delivered and whether the budget ran out first (due rows may be left for another sweep).

    A row whose delivery fails (anything but the database being away) is counted (``attempts``),
    logged and left for the next sweep; this one goes on without it. The database going away
    (``DATABASE_AWAY``) stops the sweep; what it had not committed is rolled back, and on SQLite its
    claims released. ``limit`` is how many rows one transaction (PostgreSQL) or claim (SQLite)
    takes (REMINDER_SWEEP_BATCH).
    """
    budget = settings.REMINDER_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    stop_at = time.monotonic() + budget
    if connection.features.has_select_for_update_skip_locked:
        return _sweep_row_by_row(stop_at, limit)
    return _sweep_by_claims(stop_at, limit)


# PostgreSQL advisory-lock class of the sweep's slots (any constant no other code of ours uses).
SWEEP_LOCK_CLASS = 74110


def sweeps_at_once() -> int:
    """How many sweeps may run at once: REMINDER_SWEEP_PARALLEL on PostgreSQL, where they split the
    rows by row locks; one on SQLite, which writes one transaction at a time anyway."""
    return settings.REMINDER_SWEEP_PARALLEL if connection.vendor == "postgresql" else 1


@contextmanager
def sweep_slot():
    """One of REMINDER_SWEEP_PARALLEL slots for a sweep, or None when all are taken.

    On PostgreSQL a slot is a session advisory lock: held by the sweep's connection, so a worker
    killed mid-sweep frees it with its connection. SQLite runs one writer anyway: always slot 0.
    """
    if connection.vendor != "postgresql":
        yield 0
        return
    slot = None
    with connection.cursor() as cursor:
        for candidate in range(sweeps_at_once()):
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SWEEP_LOCK_CLASS, candidate])
            if cursor.fetchone()[0]:
                slot = candidate
                break
    try:
        yield slot
    finally:
        if slot is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SWEEP_LOCK_CLASS, slot])
            except DatabaseError:
                connection.close()  # the connection is gone, and its lock with it


def reminders_backlog() -> bool:
    """More rows due than one sweep's batch: worth more than one sweep at once."""
    return _due_reminders()[: settings.REMINDER_SWEEP_BATCH].count() >= settings.REMINDER_SWEEP_BATCH


def _due_reminders():
    return Reminder.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, due_at__lte=timezone.now())


def _sweep_row_by_row(stop_at: float, limit: int | None) -> tuple[int, bool]:
    """PostgreSQL: take the most overdue rows no one else holds (up to ``limit``), deliver them,
    commit; again, until none is left or, after at least one batch, the budget is spent. A batch
    that fails is delivered again row by row, each in its own transaction, to find the bad row."""
    limit = limit or settings.REMINDER_SWEEP_BATCH
    delivered = 0
    failed: set[int] = set()
    while True:
        taken = []
        try:
            with transaction.atomic():
                batch = list(
                    _due_reminders().exclude(id__in=failed).order_by("due_at", "id").select_related("service")
                    .select_for_update(skip_locked=True, of=("self",))[:limit]
                )
                if not batch:
                    return delivered, False
                taken = [r.pk for r in batch]
                outcome = _deliver_all_locked(batch)
        except DATABASE_AWAY:
            raise  # the database is away: stop; PostgreSQL has rolled back the open batch
        except Exception:
            if not taken:
                raise
            log.warning("reminder batch failed, delivering its %s rows one by one", len(taken), exc_info=True)
            delivered += _deliver_each(taken, failed)
        else:
            for reminder_id, emails in outcome.items():
                if emails is not None:
                    delivered += 1
                    log.info("reminder delivered id=%s e-mails=%s", reminder_id, emails)
        if time.monotonic() >= stop_at:
            return delivered, True


def _deliver_each(reminder_ids, failed: set[int]) -> int:
    """Deliver each reminder in its own transaction; one that fails is counted, logged, added to
    ``failed`` and left for the next sweep. Returns how many were delivered."""
    delivered = 0
    for reminder_id in reminder_ids:
        try:
            if reminder_deliver_one(reminder_id=reminder_id):
                delivered += 1
        except DATABASE_AWAY:
            raise
        except Exception:
            _delivery_failed(reminder_id)
            failed.add(reminder_id)
    return delivered


def _delivery_failed(reminder_id: int) -> None:
    """One bad row must not stop the others: count the attempt and leave it to the next sweep."""
    log.exception("reminder delivery failed, left for the next sweep id=%s", reminder_id)
    Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(attempts=F("attempts") + 1, claimed_until=None)


def _sweep_by_claims(stop_at: float, limit: int | None) -> tuple[int, bool]:
    """SQLite: claim a batch, deliver each row in its own transaction, batch after batch. A row that
    fails is released for the next sweep, and so are the rest of the batch if the sweep itself is
    stopped by an error; the claim's expiry is left only for a sweep that is killed."""
    delivered = 0
    failed: set[int] = set()
    while True:
        batch = reminders_claim(limit=limit, exclude=failed)
        if not batch:
            return delivered, False
        pending = list(batch)
        try:
            for reminder_id in batch:
                # A database away stops the sweep; the finally releases what is left.
                delivered += _deliver_each([reminder_id], failed)
                pending.remove(reminder_id)
        finally:
            if pending:
                _release_retrying(pending)
        if time.monotonic() >= stop_at:
            return delivered, True


def _retrying_while_database_away(write, *, seconds: float, what: str) -> bool:
    """Run ``write`` (one short write), trying again every second for ``seconds`` while the database
    is away (a restart takes seconds). Returns False, after logging ``what``, if it never got through."""
    give_up = time.monotonic() + seconds
    while True:
        try:
            write()
            return True
        except DatabaseError:
            connection.close()
            if time.monotonic() >= give_up:
                log.error("%s: the database stayed away", what)
                return False
            log.warning("%s: the database is away, trying again", what)
            time.sleep(1)


def _release_retrying(reminder_ids) -> None:
    """Release a stopped sweep's claims, waiting a while for a database that went away, since the
    rows would otherwise wait out their whole claim (REMINDER_CLAIM_SECONDS)."""
    _retrying_while_database_away(
        lambda: reminders_release(reminder_ids=reminder_ids), seconds=settings.REMINDER_RELEASE_RETRY_SECONDS,
        what=f"could not release {len(reminder_ids)} claimed reminders; their claims expire",
    )


def _email_claim(email_id: int) -> Email | None:
    """Claim an e-mail for one attempt: QUEUED (or SENDING left by an interrupted attempt) and not
    claimed by a live one. Commits the state SENDING before any byte goes to the mail server."""
    now = timezone.now()
    with transaction.atomic():
        qs = Email.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=email_id, state__in=[Email.State.QUEUED, Email.State.SENDING],
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        email = qs.first()
        if email is None:
            return None
        if email.state == Email.State.SENDING:
            # An earlier attempt began and never recorded its end: killed before the server's
            # reply (the server then discarded it), or after it (then only the Message-ID lets a
            # relay drop this copy). See the docstring of email_send.
            log.warning("e-mail resent after an interrupted attempt id=%s attempt=%s", email.pk, email.attempts + 1)
        email.state = Email.State.SENDING
        email.attempts += 1
        email.claimed_until = now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
        email.sending_at = now
        email.save(update_fields=["state", "attempts", "claimed_until", "sending_at"])
    return email


def _email_message(email: Email, address: str) -> EmailMessage:
    notification = email.notification
    with override(settings.LANGUAGE_CODE):
        # The subject never carries identifying data; the body only a reference and a link.
        subject = _("Samhandling: you have a new notification")
        body = "\n\n".join([notification.message, settings.SITE_URL.rstrip("/") + (notification.url or "/varsler/")])
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address], headers={"Message-ID": email.message_id})


def _email_mark(email_id: int, attempt: int, **fields) -> None:
    """Record an attempt's end, retrying while the database is away: after the mail server has
    accepted the message, this record is all that stops another attempt from sending it again.
    Gives up when the claim is over (another attempt may have it by then)."""

    def write():
        with transaction.atomic():
            Email.objects.filter(pk=email_id, attempts=attempt, state=Email.State.SENDING).update(**fields)

    if not _retrying_while_database_away(
        write, seconds=settings.EMAIL_CLAIM_SECONDS, what=f"e-mail outcome not recorded id={email_id} state={fields.get('state')}"
    ):
        raise DatabaseError(f"e-mail outcome not recorded id={email_id}")


def email_send(*, email_id: int) -> str:
    """Send one outbox e-mail at most once per claim; returns what happened: "sent", "dropped",
    "failed", "retry" or "" (nothing to do: already sent, dropped, or claimed by a live attempt).

    1. Claim (``_email_claim``): QUEUED → SENDING, committed.
    2. In one transaction: lock the row (a second attempt skips it), lock the recipient's access
       FOR SHARE and re-check it (``_lock_recipients``) — lost access drops the e-mail — and talk
       to the mail server while holding those locks, so a withdrawal that commits before the send
       stops it and one that comes later waits for it. Then SENT.
    A worker killed in step 2 rolls it back; the row stays SENDING with its claim, and after the
    claim (EMAIL_CLAIM_SECONDS) the sweep's requeue gives it to a new attempt. The moment the
    server has accepted the message, the worker notes it in the mail journal (EMAIL_JOURNAL_DIR),
    before anything else (the SMTP goodbye, the database): killed after that, or unable to record
    SENT because the database went away (it keeps trying until the database is back), it leaves
    the note, and the next attempt records SENT without sending. The note is removed once SENT is
    committed. The one window left: a worker killed between the server's reply and the note (the
    time to read a reply and write a small file); the next attempt then sends the same Message-ID again.
    """
    email = _email_claim(email_id)
    if email is None:
        return ""
    attempt = email.attempts
    if _journal_holds(email_id):
        return _email_accepted_earlier(email_id, attempt)
    sent = False
    try:
        with transaction.atomic():
            email = Email.objects.select_for_update(of=("self",)).select_related(
                "notification__user", "notification__reminder__service"
            ).filter(pk=email_id, attempts=attempt, state=Email.State.SENDING).first()
            if email is None:
                return ""
            notification = email.notification
            reminder, user = notification.reminder, notification.user
            if not user.is_active or (reminder is not None and not _lock_recipients(reminder, user_id=user.pk)):
                return _email_drop(email, Email.Reason.NO_ACCESS)
            if not user.email:
                return _email_drop(email, Email.Reason.NO_ADDRESS)
            _smtp_deliver(_email_message(email, user.email), email_id)
            sent = True
            email.state, email.sent_at, email.claimed_until = Email.State.SENT, timezone.now(), None
            email.save(update_fields=["state", "sent_at", "claimed_until"])
    except DatabaseError:
        if not sent:
            raise  # nothing went out; the claim expires and the requeue tries again
        # The server has the message but the database did not take SENT (it went away in between).
        # The journal note stays until it does (``_journal_holds``): a worker killed meanwhile
        # leaves the next attempt the note not to send it again.
        _email_mark(email_id, attempt, state=Email.State.SENT, sent_at=timezone.now(), claimed_until=None)
    except (smtplib.SMTPException, OSError) as exc:
        return _email_attempt_failed(email_id, attempt, exc)
    _journal_forget(email_id)
    log.info("e-mail sent id=%s attempt=%s", email_id, attempt)
    return "sent"


def _smtp_deliver(message: EmailMessage, email_id: int) -> None:
    """Hand ``message`` to the mail server; returns once the server has accepted it (250 to DATA),
    after noting that in the mail journal (``_journal_write``) and only then saying goodbye (QUIT),
    so a worker killed anywhere after the note leaves it for the next attempt. A goodbye that
    fails changes nothing: the server has the message.

    A worker told to stop (SIGTERM: Celery cancels the running tasks of a worker that lost its
    broker) stops only after the note: until then the signal waits (``_stop_deferred``). Stopping
    in between, after the message's last line went out and before the answer was noted, would leave
    a message the server may have accepted to be sent again. A timeout still drops the connection
    (``_abort``), so a server still deciding discards the message. Only a kill (SIGKILL, a power
    cut) inside that moment is left: README, "The window that remains"."""
    backend = get_connection()
    backend.open()
    with _stop_deferred():
        try:
            backend.send_messages([message])
        except BaseException:
            _abort(backend)
            raise
        _journal_write(email_id)
    _close_quietly(backend)


@contextmanager
def _stop_deferred():
    """SIGTERM held back inside the block and delivered as it ends (in the thread that can block it:
    a pool process's only one; elsewhere the block changes nothing)."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask on this platform
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _abort(backend) -> None:
    """Drop the mail server connection without a goodbye. Anything that interrupts the wait for the
    server's answer (a timeout, an error) must leave the server a closed connection:
    a server still deciding then discards the message. A polite QUIT would keep the connection
    open until the server answers the message, and it would accept a message the next attempt sends again."""
    smtp = getattr(backend, "connection", None)
    if smtp is None or not hasattr(smtp, "sock"):
        _close_quietly(backend)  # not an SMTP backend (files, memory): nothing is waiting
        return
    try:
        smtp.close()  # smtplib: closes the socket, sends nothing
    except Exception:  # noqa: BLE001 - the connection is being dropped anyway
        pass
    backend.connection = None


def _close_quietly(backend) -> None:
    try:
        backend.close()
    except Exception:  # noqa: BLE001 - after the server's answer nothing here matters
        log.warning("mail server connection not closed cleanly", exc_info=True)


def _journal_path(email_id: int):
    return settings.EMAIL_JOURNAL_DIR / f"{email_id}.accepted"


def _journal_write(email_id: int) -> None:
    """Note that the mail server accepted e-mail ``email_id``: a file, renamed into place (from then
    on it survives the worker's death), then fsynced (from then on an operating system crash too).
    The rename comes first because every moment before it is a moment in which a killed worker
    leaves the e-mail to be sent again. Best effort: a note that cannot be written only leaves the
    window it would close."""
    directory = settings.EMAIL_JOURNAL_DIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{email_id}.{os.getpid()}.tmp"
        with open(tmp, "w") as note:
            note.write(f"{email_id}\n")
            note.flush()
            os.replace(tmp, _journal_path(email_id))
            os.fsync(note.fileno())
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        log.error("mail journal not written id=%s", email_id, exc_info=True)


def _journal_holds(email_id: int) -> bool:
    return _journal_path(email_id).exists()


def _journal_forget(email_id: int) -> None:
    _journal_path(email_id).unlink(missing_ok=True)


def _journal_prune() -> int:
    """Remove the notes of e-mails the database has settled (a worker killed between the commit of
    SENT and the note's removal leaves one behind); returns how many."""
    directory = settings.EMAIL_JOURNAL_DIR
    try:
        noted = {int(path.stem): path for path in directory.glob("*.accepted") if path.stem.isdigit()}
    except OSError:
        return 0
    if not noted:
        return 0
    open_ids = set(Email.objects.filter(pk__in=noted, state__in=[Email.State.QUEUED, Email.State.SENDING]).values_list("pk", flat=True))
    settled = [path for email_id, path in noted.items() if email_id not in open_ids]
    for path in settled:
        path.unlink(missing_ok=True)
    return len(settled)


def _email_accepted_earlier(email_id: int, attempt: int) -> str:
    """An interrupted attempt had the message accepted by the mail server (its journal note says
    so): record SENT without sending it again."""
    log.warning("e-mail accepted by an interrupted attempt, recorded as sent without sending again id=%s", email_id)
    _email_mark(email_id, attempt, state=Email.State.SENT, sent_at=timezone.now(), claimed_until=None)
    _journal_forget(email_id)
    return "sent"


def _email_drop(email: Email, reason: str) -> str:
    """The e-mail will never be sent (``reason``); call in the attempt's transaction."""
    email.state, email.reason, email.claimed_until = Email.State.DROPPED, reason, None
    email.save(update_fields=["state", "reason", "claimed_until"])
    log.info("e-mail dropped id=%s reason=%s", email.pk, reason)
    return "dropped"


def _email_attempt_failed(email_id: int, attempt: int, exc: Exception) -> str:
    """The mail server refused or was unreachable: the e-mail goes back to the queue for the next
    requeue, or FAILED after EMAIL_MAX_ATTEMPTS attempts, or after a permanent refusal."""
    permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
    state = Email.State.FAILED if permanent or attempt >= settings.EMAIL_MAX_ATTEMPTS else Email.State.QUEUED
    _email_mark(
        email_id, attempt, state=state, claimed_until=None, last_error=type(exc).__name__[:200],
        reason=Email.Reason.REFUSED if state == Email.State.FAILED else "",
    )
    if state == Email.State.FAILED:
        log.error("e-mail failed for good id=%s attempt=%s error=%s", email_id, attempt, type(exc).__name__)
        return "failed"
    log.warning("e-mail attempt failed, queued again id=%s attempt=%s error=%s", email_id, attempt, type(exc).__name__)
    return "retry"


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
