"""Delivery gates: what a subject's own app says, at delivery, about which services may still be told of it.

The sweep's own re-check is the permission: the recipient's service must still hold the reminder's
``required_perm`` on its subject (notifications.services). For most subjects that is the whole
truth, because withdrawing a consent revokes the grants that rested on it. Some access rests on
more than a grant: an individual plan is seen by a participating service only while the plan's
consent is *in force* for it, and a consent can lapse without any grant being revoked (its period
ends, the person's age makes the givers insufficient, the starting service's grant is its owner's).
The app that owns such a subject registers a gate for its model here (notifications may not import
the case records or the workflows; the dependency runs the other way, as with consent.reminders),
and the sweep asks it for every due reminder about that model before it writes a notification.

A gate: ``gate(pairs)`` with ``pairs`` a set of (subject id, service id) → the subset whose service
may still be told of the subject now. A reminder refused by its gate is delivered to no one (marked
sent, like one whose service lost its grant). A gate reads without locking: it runs while the sweep
holds the reminder's row, which the withdrawal that pauses a plan waits for (it cancels the plan's
reminders), so a lock taken here could deadlock with it.
"""
from collections import defaultdict
from collections.abc import Callable, Iterable

_gates: dict[str, Callable] = {}


def register_delivery_gate(model_label: str, gate: Callable) -> None:
    """Register ``gate`` for reminders whose subject is a ``model_label`` ("referrals.IndividualPlan")."""
    _gates[model_label.lower()] = gate


def delivery_gate_for(model) -> Callable | None:
    return _gates.get(model._meta.label_lower)


def reminders_allowed(reminders: Iterable, model_of: Callable) -> set[int]:
    """The ids of ``reminders`` their subject's gate lets through (all, for a subject without a
    gate). ``model_of(subject_type_id)`` gives the subject's model. One call per gated model."""
    reminders = list(reminders)
    allowed = set()
    by_type = defaultdict(list)
    for reminder in reminders:
        by_type[reminder.subject_type_id].append(reminder)
    for type_id, rows in by_type.items():
        gate = delivery_gate_for(model_of(type_id))
        if gate is None:
            allowed |= {r.pk for r in rows}
            continue
        passed = gate({(r.subject_id, r.service_id) for r in rows})
        allowed |= {r.pk for r in rows if (r.subject_id, r.service_id) in passed}
    return allowed
