"""The one keyset pager: every list pages by (sort key, id), never by OFFSET.

A page costs one query whatever the list's length: the cursor names the last row shown, and the
next page starts just after it on the list's (service, sort key, id) index.
"""
from datetime import date, datetime

from django.db.models import F, Q
from django.utils import timezone

PAGE_SIZE = 25


def cursor_encode(value: datetime | date | str, pk: int) -> str:
    """A cursor naming the row with sort key ``value`` and id ``pk``: "<id>_t<timestamp>" for a time,
    "<id>_d<iso date>" for a day, "<id>_s<text>" for a text key (a name). Any other key is a
    programming error (a cursor that names nothing would show the first page again, for ever)."""
    if isinstance(value, datetime):
        return f"{pk}_t{value.timestamp()}"
    if isinstance(value, date):
        return f"{pk}_d{value.isoformat()}"
    if isinstance(value, str):
        return f"{pk}_s{value}"
    raise TypeError(f"no cursor for a sort key of type {type(value).__name__}")


def cursor_decode(cursor: str | None) -> tuple[datetime | date | str, int] | None:
    """The (sort key, id) a cursor names; None for no cursor or a forged one (the first page)."""
    if not cursor:
        return None
    pk, _sep, rest = cursor.partition("_")
    try:
        pk = int(pk)
        if rest.startswith("t"):
            return datetime.fromtimestamp(float(rest[1:]), tz=timezone.get_current_timezone()), pk
        if rest.startswith("d"):
            return date.fromisoformat(rest[1:]), pk
        if rest.startswith("s"):
            return rest[1:], pk
        return None
    except (ValueError, OverflowError):
        return None


def _value(row, field: str):
    for part in field.split("__"):
        row = getattr(row, part)
    return row


def rows_after(qs, field: str, key: tuple, *, descending: bool):
    """The rows of ``qs`` that come after the row ``key`` (its sort key and id, as ``cursor_decode``
    gives them) in the order by ``field`` then id."""
    value, pk = key
    if descending:
        # The redundant ``__lte`` lets the index start at the cursor instead of filtering up to it.
        return qs.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk}), **{f"{field}__lte": value})
    return qs.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}), **{f"{field}__gte": value})


def keyset_page(qs, field: str, cursor: str | None, *, descending: bool, page_size: int = PAGE_SIZE):
    """One page of ``qs`` ordered by ``field`` then id, after ``cursor``. Returns ``(rows, next_cursor)``.

    Rows whose ``field`` is NULL are left out: their place in the order differs between databases,
    and no cursor could name them. (Saying so also lets a (…, field, id) index serve the order.)
    Callers must not add the same condition: PostgreSQL counts a repeated predicate twice, thinks
    the list tiny, and sorts every candidate instead of walking the index (the intake list's second
    page went from 8 to 37 ms at 100,000 concerns).
    """
    qs = qs.filter(**{f"{field}__isnull": False})
    key = cursor_decode(cursor)
    if key:
        qs = rows_after(qs, field, key, descending=descending)
    qs = qs.order_by(F(field).desc(), "-pk") if descending else qs.order_by(field, "pk")
    rows = list(qs[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = cursor_encode(_value(rows[-1], field), rows[-1].pk) if (more and rows) else None
    return rows, next_cursor
