"""The access log's object types across renames.

``AccessLog.object_type`` is the model label of the day a row was written, and the log is
append-only and hash-chained, so a row is never rewritten when a model moves app. Reads go through
here: an object's rows are looked up under its current label and every label it had before.
"""

# Labels written before the kernel models moved out of ``referrals`` (issue 13).
FORMER_LABELS = {
    "org.municipality": ("referrals.municipality",),
    "org.service": ("referrals.service",),
    "org.membership": ("referrals.membership",),
    "people.person": ("referrals.person",),
    "people.personrecord": ("referrals.personrecord",),
    "people.guardianship": ("referrals.guardianship",),
}
CURRENT_LABEL = {old: new for new, olds in FORMER_LABELS.items() for old in olds}


def labels_of(label: str) -> tuple[str, ...]:
    """The current label and every former one, for filtering the log by object type."""
    return (label, *FORMER_LABELS.get(label, ()))


def current_label(label: str) -> str:
    """The label a logged object type has today."""
    return CURRENT_LABEL.get(label, label)
