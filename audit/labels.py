"""The access log's object types across renames.

``AccessLog.object_type`` is the model label of the day a row was written, and the log is
append-only and hash-chained, so a row is never rewritten when a model moves app. Reads go through
here: an object's rows are looked up under its current label and every label it had before.
"""
from django.utils.translation import gettext, gettext_noop

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


# --- purposes ---------------------------------------------------------------------------------
# The access log and the disclosure ledger store each purpose as a stable English key (marked for the
# catalogue where it is declared) and show it translated. The referral process stored its
# disclosures' purpose as the Norwegian word "henvisning"; the rows are append-only and keep it, so it
# is read here as the key it stands for.
STORED_AS = {"henvisning": gettext_noop("referral")}


def purpose_label(purpose: str) -> str:
    """A stored purpose in the active language ("referral completed" → "henvisning fullført")."""
    if not purpose:
        return ""
    return gettext(STORED_AS.get(purpose, purpose))
