"""Verification of the access log's hash chain."""
from dataclasses import dataclass

from audit import chain
from audit.models import AccessLog


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def access_log_verify(*, batch_size: int = 5000, using: str = "default") -> ChainReport:
    """Walk the chain in id order, ``batch_size`` rows at a time (constant memory), and stop at the
    first row whose hash does not match its content or whose prev_hash is not the row before's hash.

    An edited row fails its own hash; a deleted row or a row inserted outside the chain leaves the
    next row (or itself) pointing at the wrong predecessor. Deleting the newest rows cannot be seen
    from the chain alone: keep the printed head (id and hash) elsewhere and compare it next time.
    """
    fields = ("prev_hash", "row_hash", *chain.HASHED_FIELDS)
    prev = chain.GENESIS
    count = 0
    last_id = None
    qs = AccessLog.objects.using(using).order_by("id").values(*fields)
    while True:
        page = qs.filter(id__gt=last_id) if last_id is not None else qs
        rows = list(page[:batch_size])
        if not rows:
            break
        for row in rows:
            if row["prev_hash"] != prev:
                return ChainReport(count, last_id, prev, row["id"], "prev_hash does not match the row before it")
            if chain.row_hash(prev, row) != row["row_hash"]:
                return ChainReport(count, last_id, prev, row["id"], "content does not match its hash")
            prev = row["row_hash"]
            last_id = row["id"]
            count += 1
    return ChainReport(count, last_id, prev)
