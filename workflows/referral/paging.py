"""Next and previous pages of the referral lists, by an opaque cursor.

The pages themselves come from the one keyset pager (org.paging.keyset_page): a page costs one
query on the list's index whatever the list's length. What this adds is the way back, and a
cursor a user cannot read or edit: the pager's position (a row id and its sort key) is signed
with the site's secret and a salt of its own, so a forged, edited or stale-format cursor is
refused as a whole and the list shows its first page (never an error, never another page).
"""
from datetime import date, datetime

from django.core import signing

from org.paging import PAGE_SIZE, cursor_encode, keyset_page

SALT = "workflows.referral.paging"


class Page(tuple):
    """``(rows, next_cursor)``, as every pager returns, with ``previous_cursor`` besides
    (None on the first page). Both cursors are opaque tokens for :func:`page_of`."""

    previous_cursor: str | None

    def __new__(cls, rows, next_cursor, previous_cursor=None):
        page = super().__new__(cls, (rows, next_cursor))
        page.previous_cursor = previous_cursor
        return page

    @property
    def rows(self):
        return self[0]

    @property
    def next_cursor(self):
        return self[1]


def _token(position: str, *, before: bool) -> str:
    return signing.dumps({"p": position, "b": before}, salt=SALT, compress=True)


def token_read(token: str | None) -> tuple[str, bool] | None:
    """The pager position and direction a token names; None for none or a forged one."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), str) or not isinstance(data.get("b"), bool):
        return None
    return data["p"], data["b"]


def _position(row, field: str) -> str:
    value = row
    for part in field.split("__"):
        value = getattr(value, part)
    if not isinstance(value, (datetime, date, str)):
        raise TypeError(f"no cursor for a sort key of type {type(value).__name__}")
    return cursor_encode(value, row.pk)


def page_of(qs, field: str, cursor: str | None, *, descending: bool, page_size: int = PAGE_SIZE) -> Page:
    """One page of ``qs`` ordered by ``field`` then id (NULL keys left out, as keyset_page does),
    after or before the row ``cursor`` names. One query."""
    read = token_read(cursor)
    if read is None:
        rows, raw_next = keyset_page(qs, field, None, descending=descending, page_size=page_size)
        return Page(rows, raw_next and _token(raw_next, before=False))
    position, before = read
    if not before:
        rows, raw_next = keyset_page(qs, field, position, descending=descending, page_size=page_size)
        # Something lies before the row the cursor names (that row at least).
        previous = _token(_position(rows[0], field), before=True) if rows else _token(position, before=True)
        return Page(rows, raw_next and _token(raw_next, before=False), previous)
    # The page before: the rows before the cursor's row, read backwards on the same index.
    rows, raw_more = keyset_page(qs, field, position, descending=not descending, page_size=page_size)
    rows.reverse()
    if not rows:
        # Nothing before it (the rows before were removed since): the first page.
        return page_of(qs, field, None, descending=descending, page_size=page_size)
    previous = _token(_position(rows[0], field), before=True) if raw_more else None
    return Page(rows, _token(_position(rows[-1], field), before=False), previous)
