"""The one keyset pager: every list pages by (sort key, id), never by OFFSET.

A page costs one query whatever the list's length: the cursor names the last row shown, and the
next page starts just after it on the list's (service, sort key, id) index.
"""
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

PAGE_SIZE = 25


def cursor_encode(value: datetime | None, pk: int) -> str:
    return f"{value.timestamp() if value else ''}_{pk}"


def cursor_decode(cursor: str | None) -> tuple[datetime | None, int] | None:
    """The (sort key, id) a cursor names; None for no cursor or a forged one (the first page)."""
    if not cursor:
        return None
    try:
        ts, pk = cursor.split("_", 1)
        return (datetime.fromtimestamp(float(ts), tz=timezone.get_current_timezone()) if ts else None, int(pk))
    except (ValueError, OverflowError):
        return None


def keyset_page(qs, field: str, cursor: str | None, *, descending: bool, page_size: int = PAGE_SIZE):
    """One page of ``qs`` ordered by ``field`` then id, after ``cursor``. Returns ``(rows, next_cursor)``.

    Rows whose ``field`` is NULL never appear (filter them out, or the order differs between
    databases); the caller's queryset says so, which also lets the index serve the order.
    """
    key = cursor_decode(cursor)
    if key and key[0]:
        if descending:
            # The redundant ``__lte`` lets the index start at the cursor instead of filtering up to it.
            qs = qs.filter(Q(**{f"{field}__lt": key[0]}) | Q(**{field: key[0], "pk__lt": key[1]}), **{f"{field}__lte": key[0]})
        else:
            qs = qs.filter(Q(**{f"{field}__gt": key[0]}) | Q(**{field: key[0], "pk__gt": key[1]}), **{f"{field}__gte": key[0]})
    qs = qs.order_by(F(field).desc(), "-pk") if descending else qs.order_by(field, "pk")
    rows = list(qs[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = cursor_encode(getattr(rows[-1], field), rows[-1].pk) if (more and rows) else None
    return rows, next_cursor
