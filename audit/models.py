"""Append-only, hash-chained access log of person data (who, when, which object, what, why, how).

Each row carries the hash of the row before it (``prev_hash``) and its own hash over its content
(``row_hash``, see audit/chain.py), so an edited, deleted or inserted row breaks the chain that
``manage.py audit_verify`` walks. On PostgreSQL a trigger refuses UPDATE and DELETE on the table.
"""
from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from audit import chain


class AccessLogQuerySet(models.QuerySet):
    def bulk_create(self, *args, **kwargs):
        # Each row needs its predecessor's hash: rows are appended one by one (AccessLog.save).
        raise NotImplementedError("AccessLog rows are appended one at a time")

    def update(self, **kwargs):
        raise ValueError("AccessLog rows are append-only")

    def delete(self):
        raise ValueError("AccessLog rows are append-only")


class AccessLog(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        DISCLOSE = "disclose", _("Disclosed")
        EXPORT = "export", _("Exported")

    class Via(models.TextChoices):
        ROLE = "role", _("Through a role in the case")
        BREAK_GLASS = "break_glass", _("Emergency access (break the glass)")
        PRIVACY = "privacy", _("Privacy function, on a registered request")
        ADMIN = "admin", _("Administration")

    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("user"))
    service = models.ForeignKey("org.Service", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("acting service"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.PositiveBigIntegerField(_("object id"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("person"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    via = models.CharField(_("access through"), max_length=16, choices=Via.choices, default=Via.ROLE)
    # For changes: {field: [old, new]}, or {field: None} where the values are person data and are
    # not copied into the log (the field's name is always recorded).
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    prev_hash = models.CharField(_("hash of the previous entry"), max_length=64, editable=False)
    row_hash = models.CharField(_("hash of the entry"), max_length=64, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        # In context: django-axes names its login records "access log" too.
        verbose_name_plural = pgettext_lazy("audit", "access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="accesslog_object_idx"),
            models.Index(fields=["person", "at"], name="accesslog_person_idx"),
            models.Index(fields=["via", "at"], name="accesslog_via_idx"),
            models.Index(fields=["action", "at"], name="accesslog_action_idx"),
            # The access review's bursts: every read by a user in the period, read from the index
            # alone (audit.selectors.review_bursts counts the records per user and window).
            models.Index(
                fields=["at"], include=["user", "object_type", "object_id"], condition=Q(action="view", user__isnull=False),
                name="accesslog_reads_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def hashed_values(self) -> dict:
        return {name: getattr(self, name) for name in chain.HASHED_FIELDS}

    def save(self, *args, **kwargs):
        """Append the row to the chain (the only write the log allows). Locks the chain's head
        until the surrounding transaction ends: see audit.chain.lock_and_reserve."""
        if self.pk is not None or not self._state.adding:
            raise ValueError("AccessLog rows are append-only")
        using = kwargs.get("using") or router.db_for_write(AccessLog, instance=self)
        # No savepoint of its own: inside a caller's transaction a failed insert fails that transaction.
        with transaction.atomic(using=using, savepoint=False):
            self.id, self.prev_hash = chain.lock_and_reserve(AccessLog, using)
            if self.at is None:
                self.at = timezone.now()
            self.changes = chain.normalise_changes(self.changes)
            self.row_hash = chain.row_hash(self.prev_hash, self.hashed_values())
            kwargs["force_insert"] = True
            super().save(*args, **kwargs)

    @classmethod
    def _append_rows(cls, rows: list["AccessLog"], using: str | None = None) -> list["AccessLog"]:
        """Append ``rows`` to the chain in this order, in one INSERT (audit.services.access_log_write_many
        is the one caller). Takes the head's lock once and reserves all ids in one statement; each
        row's prev_hash is the row before's hash, as if they had been saved one by one."""
        rows = list(rows)
        if not rows:
            return rows
        if any(row.pk is not None or not row._state.adding for row in rows):
            raise ValueError("AccessLog rows are append-only")
        using = using or router.db_for_write(cls)
        with transaction.atomic(using=using, savepoint=False):
            ids, prev = chain.lock_and_reserve_many(cls, using, len(rows))
            now = timezone.now()
            for row, new_id in zip(rows, ids):
                row.id, row.prev_hash = new_id, prev
                if row.at is None:
                    row.at = now
                row.changes = chain.normalise_changes(row.changes)
                row.row_hash = prev = chain.row_hash(row.prev_hash, row.hashed_values())
            # The queryset refuses bulk_create to everyone else (each row needs its predecessor's
            # hash); here the hashes are computed above, under the head's lock.
            models.QuerySet.bulk_create(cls._default_manager.using(using).all(), rows)
        return rows

    def delete(self, *args, **kwargs):
        raise ValueError("AccessLog rows are append-only")


# --- The access review's roll-up of reads (audit/rollup.py fills it, audit.selectors.review_bursts reads it) ---

class ReadRollup(models.Model):
    """The roll-up's one row (id 1): how far the access log is rolled up (``last_id``: every read with
    a lower or equal id is in ReadRecord and ReadWindow) and the window length it was rolled up with.
    A roll-up locks this row, so two never run at once. Not a log: rows here are derived, rebuilt
    from the log when the window length changes."""

    seconds = models.PositiveIntegerField(_("window length in seconds"))
    last_id = models.BigIntegerField(_("last access-log id rolled up"), default=0)
    rolled_at = models.DateTimeField(_("rolled up at"), default=timezone.now)

    class Meta:
        verbose_name = _("roll-up of reads")
        verbose_name_plural = _("roll-ups of reads")


class ReadRecord(models.Model):
    """One record (object type and id) that a user read within one window (``bucket``: seconds since
    the epoch // ``seconds``), once however often it was read: the roll-up de-duplicates against it.
    No foreign key constraint on the user (a row of the log's user, who cannot be deleted while the
    log names them); no id of its own (the key is the row)."""

    pk = models.CompositePrimaryKey("seconds", "user", "bucket", "object_type", "object_id")
    seconds = models.PositiveIntegerField(_("window length in seconds"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+", verbose_name=_("user"),
    )
    bucket = models.BigIntegerField(_("window"))
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.PositiveBigIntegerField(_("object id"))

    class Meta:
        verbose_name = _("record read in a window")
        verbose_name_plural = _("records read in a window")


class ReadWindow(models.Model):
    """How many different records a user read within one window, as rolled up (ReadRecord's rows of
    the user and window)."""

    pk = models.CompositePrimaryKey("seconds", "user", "bucket")
    seconds = models.PositiveIntegerField(_("window length in seconds"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+", verbose_name=_("user"),
    )
    bucket = models.BigIntegerField(_("window"))
    records = models.PositiveIntegerField(_("different records read"))

    class Meta:
        verbose_name = _("reads in a window")
        verbose_name_plural = _("reads in windows")
        indexes = [
            # The review's bursts: the windows over the threshold (few), from the index alone.
            models.Index(fields=["seconds", "records", "bucket"], include=["user"], name="readwindow_bursts_idx"),
        ]


class ReadWithoutRole(models.Model):
    """A read of a person by a service that held no role with the person when it was rolled up (or by
    no service: an administrator), as the access review lists them (audit.rollup fills it after its
    own watermark, ReadRollup row NO_ROLE_STATE_ID; audit.selectors.review_reads_without_case reads
    it). ``id`` is the access-log row's id, ``at`` its time: the review pages by (at, id) on the index
    alone, never by asking every read of the month for its roles."""

    id = models.BigIntegerField(_("access-log id"), primary_key=True)
    at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("read without a role")
        verbose_name_plural = _("reads without a role")
        indexes = [models.Index(fields=["at", "id"], name="readwithoutrole_at_idx")]
