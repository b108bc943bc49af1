"""The one step skeleton: every human step of a process is declared once and run through it.

A ``Step`` declares what the skeleton needs: which of the record's services must act, the guards
and statuses it may run in, the deadlines it meets, cancels and opens, the flow node whose task it
completes, and the access log's purpose. ``Step.run`` wraps the step's own change (the ``with``
body) in one transaction::

    lock the record's process, then the record → the user is a member of an acting service → guards → status → the form is not
    stale → the change → deadlines met, cancelled, opened → the viewflow task completed → the next
    deadline refreshed → the access log

``Steps.available`` answers which steps a page may offer from the same declarations, so a page
offers exactly what the services accept.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from audit.services import access_log_deferred, access_log_write
from notifications.models import Reminder
from notifications.services import reminder_row, reminders_schedule
from org.access import active_memberships_of_user, is_member, request_memo
from org.compiled import CompiledQuery, objects_together
from workflows.models import DeadlinePolicy
from workflows.services import deadlines
from workflows.services.tasks import process_cancel, task_complete

# The prefix of the lock's annotation "the user is an active member of this actor's service".
_MEMBER_OF = "_acting_member_"


def _process_lock(shape, record_id):
    process_model, record_field = shape
    return process_model._default_manager.select_for_update(of=("self",)).filter(**{record_field: record_id}).order_by("pk")[:1]


def _record_lock(shape, record_id, user_id=None):
    """The record locked (of=("self",): PostgreSQL cannot lock the nullable side of its joined
    services), with its related rows; with ``user_id``, whether that user is an active member of each
    actor's service (org.access's rule; the caller asks only for an active, signed-in user)."""
    model, related, actors = shape
    records = model.objects.select_for_update(of=("self",)).select_related(*related).filter(pk=record_id)
    if actors:
        records = records.annotate(**{
            _MEMBER_OF + actor: Exists(active_memberships_of_user(user_id).filter(service_id=OuterRef(f"{actor}_id"))) for actor in actors
        })
    return records


def _policies(shape):
    process, steps = shape
    return DeadlinePolicy.objects.filter(process=process, step__in=steps)


_PROCESS_LOCK = CompiledQuery(_process_lock, "record_id")
_POLICIES = CompiledQuery(_policies)
_RECORD_LOCK = CompiledQuery(_record_lock, "record_id")
_RECORD_LOCK_WITH_MEMBERS = CompiledQuery(_record_lock, "record_id", "user_id")

MISSING_VERSION = gettext_lazy("This form is incomplete or out of date. Reload the page and try again.")


class _NoForm:
    """The ``version`` of a call from code that acts on the row it has just read, with no form
    rendered in between (demo data, sending a melding in the request that drafted it)."""

    def __repr__(self):
        return "NO_FORM"


NO_FORM = _NoForm()


def record_version(record) -> str:
    """The version a form carries to be checked for staleness: the record's ``updated_at``."""
    return str(record.updated_at.timestamp()) if record.updated_at else ""


@dataclass(frozen=True)
class Guard:
    """A condition beyond the status (the kind of record, a step not yet done): ``holds(record)``,
    else the step is out of order with ``message``."""

    holds: Callable[[Any], bool]
    message: Promise


@dataclass(frozen=True)
class Opening:
    """A deadline that a step (or a start) opens: policy ``step``, owed by the record's ``service``
    (an attribute name), whose holders of ``perm`` are reminded. Counted from
    ``starts(record, met)`` (``met``: the deadlines the step met, by policy step), else from now;
    opened only if ``when(record)``. ``also_escalate(record)`` gives (service, perm) whose leaders
    are alarmed too."""

    step: str
    service: str
    perm: str
    starts: Callable | None = None
    when: Callable | None = None
    also_escalate: Callable | None = None


@dataclass(frozen=True, eq=False)
class Step:
    """One human step. ``name`` is its one name: the page action, the task page's ``step``, the
    key of the form a page offers. ``actors`` are attribute names of the record's services; the
    first the user is a member of acts (it is logged as the service). ``purpose`` may be left empty
    only if every run sets ``run.purpose``."""

    steps: "Steps"
    name: str
    statuses: tuple[str, ...]
    actors: tuple[str, ...]
    not_member: Promise | None = None
    purpose: str = ""
    guards: tuple[Guard, ...] = ()
    # Whether the step completes a human task of the flow: the flow node of the same name.
    task: bool = False
    meets: tuple[str, ...] = ()
    cancels: tuple[str, ...] = ()
    opens: tuple[Opening, ...] = ()
    # A system step: taken by the platform on an event (a consent withdrawn, a legal basis refused),
    # with the acting service given by the caller; no member acts, none is checked, no page offers it.
    system: bool = False

    @property
    def node(self) -> str:
        """The flow node whose task the step completes ("" for none): always the step's own name."""
        return self.name if self.task else ""

    def refusal(self, record) -> ValidationError | None:
        """The out-of-order error the step's guards and status give on ``record`` now, or None."""
        for guard in self.guards:
            if not guard.holds(record):
                return ValidationError(str(guard.message), code="out_of_order")
        return self.steps.status_refusal(record, self.statuses)

    def offered_to(self, record, roles) -> bool:
        """Whether a page shows the step to a user with ``roles`` (the access helper's) on ``record``."""
        acting = any(
            self.steps.roles.get(actor) in roles and getattr(record, f"{actor}_id") is not None for actor in self.actors
        )
        return acting and self.refusal(record) is None

    def run(self, record, *, user, version=NO_FORM, activation=None, acting_service=None):
        """Context manager: the skeleton around the step's change; yields a ``Run``.

        Locks the record (``run.record`` is the locked copy) and raises a translated ValidationError,
        changing nothing, for a non-member ("not_member"), a failed guard or status ("out_of_order")
        or a stale or missing ``version`` ("stale"; ``NO_FORM`` skips the check, as does a process
        without a stale message). ``activation`` is viewflow's, from its task page: it is completed
        here, inside this transaction.
        """
        return _run(self, record, user=user, version=version, activation=activation, acting_service=acting_service)


class Run:
    """A step in progress: the locked record, the user, the acting service, the audit purpose."""

    def __init__(self, step: Step, record, user, service):
        self.step, self.record, self.user, self.service = step, record, user, service
        self.purpose = step.purpose
        self.notices: list[dict] = []
        self.fields: list[str] = []

    def save(self, *fields: str):
        """The record's ``fields`` were changed: written with the step's closing UPDATE of the record
        (its next deadline and ``updated_at``, deadlines.next_deadline_refresh), one statement for
        both, after the step's deadlines are opened, met and cancelled."""
        self.fields += [f for f in fields if f not in self.fields and f != "updated_at"]

    def notify(self, service, perm: str, key: str, message: str, topic: str = ""):
        """Tell ``service`` once the step's deadlines are opened (so the notice names the one it owes now)."""
        self.notices.append({"service": service, "perm": perm, "key": key, "message": message, "topic": topic})


class Steps:
    """The steps of one process and what they share: its record, how it is locked and addressed,
    which role each of its services gives, and what its refusals say (``stale``: None for a
    process whose forms carry no version)."""

    def __init__(self, *, process: str, model, related: tuple[str, ...], url: str, roles: dict[str, str],
                 out_of_order: Promise, stale: Promise | None = None):
        self.process, self.model, self.related, self.url_name = process, model, related, url
        self.roles, self.out_of_order, self.stale = roles, out_of_order, stale
        self._steps: dict[str, Step] = {}

    def add(self, name: str, **declaration) -> Step:
        if name in self._steps:
            raise ValueError(f"step {name!r} declared twice")
        unknown = set(declaration.get("actors", ())) - set(self.roles)
        if unknown:
            raise ValueError(f"step {name!r}: no role for {sorted(unknown)}")
        system = declaration.get("system", False)
        if system == bool(declaration.get("actors")) or system == bool(declaration.get("not_member")):
            raise ValueError(f"step {name!r}: a member's step names its actors and its refusal; a system step neither")
        step = self._steps[name] = Step(steps=self, name=name, **declaration)
        return step

    def __getitem__(self, name: str) -> Step:
        return self._steps[name]

    def __iter__(self):
        return iter(self._steps.values())

    def available(self, record, roles) -> dict[str, Step]:
        """The steps a user with ``roles`` may take on ``record`` now, by name: exactly those whose
        services would not refuse them as out of order or by role."""
        return {step.name: step for step in self if step.offered_to(record, roles)}

    def lock(self, record, *, members: tuple = ()):
        """A fresh copy of ``record`` with its row locked until the transaction ends (``locked``)."""
        return self.locked(record, members=members)[0]

    def locked(self, record, *, members: tuple = (), policies: tuple[str, ...] = ()):
        """(A fresh copy of ``record`` with its row locked until the transaction ends, the deadline
        policies of this process's ``policies`` steps by step, as ``deadlines.policies_get`` reads them).

        ``members``: (user, actor attribute names): the copy carries, for each actor, whether the
        user is an active member of that service (``acting_member``), read in the same statement.

        The record's viewflow process (if it has one) is locked first, as viewflow's own task pages
        do (flow lock, then the record in the service): the same order on both paths, so a post on
        the record's page and one on its task page cannot deadlock each other. (The consent paths —
        withdrawal, a leader's approval — still lock the consent or disclosure first; see issue 12.)
        """
        if transaction.get_autocommit():
            raise TransactionManagementError("a step locks its record inside the transaction of its change")
        process_relation = self.model._meta.get_field("process")
        # The process row is read as it is locked (of=("self",): only its own table's row, the one
        # viewflow's lock takes) and kept on the record, so completing its task, the flow's gates and
        # its task permissions read neither the process nor the record again. Both statements are
        # compiled once per process (org.compiled): building them took more CPU than running them.
        process_lock = (_PROCESS_LOCK, (process_relation.related_model, process_relation.field.name), {"record_id": record.pk})
        if members:
            user, actors = members
            if not (user.is_authenticated and user.is_active):
                raise ValueError("only an active, signed-in user's memberships are asked with the lock")
            # The one rule of "a member" (org.access.active_memberships), asked with the lock.
            record_lock = (_RECORD_LOCK_WITH_MEMBERS, (self.model, self.related, tuple(actors)), {"record_id": record.pk, "user_id": user.pk})
        else:
            record_lock = (_RECORD_LOCK, (self.model, self.related, ()), {"record_id": record.pk})
        asks = [process_lock, record_lock]
        if policies:
            asks.append((_POLICIES, (self.process, tuple(sorted(set(policies)))), {}))
        # In one round trip, the process's lock first (org.compiled.objects_together); the policies
        # of the deadlines the step opens with them.
        processes, found, *read_policies = objects_together(*asks)
        process = next(iter(processes), None)
        if not found:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        locked = found[0]
        if process is not None:
            locked.process = process  # caches both sides: process.<record> is the locked record
        return locked, {policy.step: policy for policy in (read_policies[0] if read_policies else ())}

    def status_refusal(self, record, allowed) -> ValidationError | None:
        if record.status in allowed:
            return None
        return ValidationError(self.out_of_order % {"status": record.get_status_display()}, code="out_of_order")

    def require_status(self, record, *allowed) -> None:
        refusal = self.status_refusal(record, allowed)
        if refusal is not None:
            raise refusal

    def require_fresh(self, record, version) -> None:
        """A form carries the version it was rendered from; a changed row means a stale form.
        Checked under the row lock, so two people submitting the same form cannot both pass.
        A missing version (an old page or a forged post) is refused like a stale one; only
        ``NO_FORM``, which no form can send, skips the check. A version rendered by a template is
        localised (a decimal comma in Norwegian); that formatting is not a change."""
        if self.stale is None or version is NO_FORM:
            return
        if not isinstance(version, str) or not version.strip():
            raise ValidationError(str(MISSING_VERSION), code="stale")
        if version.strip().replace(",", ".") != record_version(record):
            raise ValidationError(str(self.stale), code="stale")

    def url(self, record) -> str:
        return reverse(self.url_name, args=[record.code])

    def flow_class(self):
        from workflows.processes import process_named

        return process_named(self.process).flow_class()

    def notify(self, record, *, service, perm: str, key: str, message: str, topic: str = "") -> None:
        """Tell ``service``'s holders of ``perm`` now (one notice per record, ``key`` and service).

        The notice's heading names the step: the earliest deadline ``service`` owes on the record
        now (its policy's title and due time), else ``topic`` (a gettext_noop msgid).
        """
        reminders_schedule([self.notice_row(record, service=service, perm=perm, key=key, message=message, topic=topic)])

    def notice_row(self, record, *, service, perm: str, key: str, message: str, topic: str = "", owed=None):
        """The unsaved reminder of ``notify``. ``owed``: the record's open deadlines as
        ``deadlines.next_deadline_refresh(owed=True)`` returned them, else they are read here."""
        if owed is not None:
            first = deadlines.owed_first(owed, service)
        else:
            deadline = (
                deadlines.open_deadlines(record)
                .filter(responsible_service=service, met_at__isnull=True, cancelled_at__isnull=True)
                .first()
            )
            first = (deadline.policy.title, deadline.due_at) if deadline else None
        return reminder_row(
            key=f"{self.process}:{record.pk}:{key}:{service.pk}", obligation=f"{self.process}:{record.pk}:info",
            kind=Reminder.Kind.INFO, message=message, service=service, audience=Reminder.Audience.STAFF,
            subject=record, required_perm=perm, due_at=timezone.now(), url=self.url(record),
            topic=first[0] if first else topic, deadline_at=first[1] if first else None,
        )

    def open_deadline(self, record, opening: Opening, met: dict | None = None, policy=None):
        """Open ``opening`` on ``record`` (if its ``when`` holds); returns the Deadline or None.
        ``policy``: its DeadlinePolicy if the caller has read it (else it is read here)."""
        arguments = self.opening_arguments(record, opening, met, policy)
        return deadlines.deadline_open(**arguments) if arguments is not None else None

    def opening_arguments(self, record, opening: Opening, met: dict | None = None, policy=None) -> dict | None:
        """``deadlines.deadline_open``'s arguments for ``opening`` on ``record``, or None if its
        ``when`` does not hold."""
        if opening.when is not None and not opening.when(record):
            return None
        return dict(
            subject=record, process=self.process, step=opening.step,
            starts_at=opening.starts(record, met or {}) if opening.starts else timezone.now(),
            responsible_service=getattr(record, opening.service), required_perm=opening.perm,
            url=self.url(record), reference=record.reference,
            also_escalate=opening.also_escalate(record) if opening.also_escalate else None, policy=policy,
        )

    def process_cancel(self, record) -> None:
        """Cancel the record's viewflow process and its open tasks."""
        process_cancel(self.flow_class(), record.process)


@contextmanager
def _run(step: Step, record, *, user, version, activation, acting_service):
    steps = step.steps
    if step.system != (acting_service is not None):
        raise ValueError(f"the step {step.name!r}: a system step, and only one, is given its acting service")
    # One transaction without a savepoint of its own (the service's is the transaction), whose
    # access-log rows are appended at its end in one INSERT: the log's chain is locked only from
    # there to the commit, so steps on other records do not wait for this one's work.
    # A refusal is raised after the block, not through it: it changes nothing, so a caller that
    # catches it (a withdrawal ending every open case it can) keeps a usable transaction.
    refusal = None
    with access_log_deferred():
        # Whether the user is a member of the acting services is read with the lock, unless the
        # request has read the user's memberships already (org.access.member_facts).
        ask = not step.system and request_memo(user) is None and user.is_authenticated and user.is_active
        record, policies = steps.locked(record, members=(user, step.actors) if ask else (), policies=[o.step for o in step.opens])
        if step.system:
            service = acting_service
        else:
            # Who acts comes first: someone who may not take the step learns nothing of the record's state.
            if ask:
                acting = (getattr(record, a) for a in step.actors if getattr(record, _MEMBER_OF + a))
                service = next((s for s in acting if s is not None), None)
            else:
                service = next((s for s in (getattr(record, a) for a in step.actors) if is_member(user, s)), None)
            if service is None:
                refusal = ValidationError(str(step.not_member), code="not_member")
        if refusal is None:
            refusal = step.refusal(record)
        if refusal is None:
            try:
                steps.require_fresh(record, version)
            except ValidationError as stale:
                refusal = stale
        if refusal is None:
            if activation is not None and not step.node:
                raise ValueError(f"the step {step.name!r} completes no task")
            run = Run(step, record, user, service)
            yield run
            met = {name: deadlines.deadline_meet(subject=record, process=steps.process, step=name) for name in step.meets}
            for name in step.cancels:
                deadlines.deadline_cancel(subject=record, process=steps.process, step=name)
            # The step's deadlines in one INSERT; their reminders with the notices in another, after
            # the refresh, whose statement reads the open deadlines the notices name.
            _opened, reminders = deadlines.deadlines_open([
                arguments for opening in step.opens
                if (arguments := steps.opening_arguments(record, opening, met, policy=policies.get(opening.step))) is not None
            ])
            if step.node:
                task_complete(steps.flow_class(), record.process, step.node, user, activation, process_locked=True)
            owed = deadlines.next_deadline_refresh(record, owed=bool(run.notices), fields=run.fields)
            reminders += [steps.notice_row(record, owed=owed, **notice) for notice in run.notices]
            reminders_schedule(reminders)
            if not run.purpose:
                raise ValueError(f"the step {step.name!r} ran without an access-log purpose")
            access_log_write(
                user=user, action="update", obj=record, person=getattr(record, "person", None), purpose=run.purpose, service=service,
            )
    if refusal is not None:
        raise refusal
