"""Small-cell suppression for de-identified count tables (BrukerPlan's report, SLT's insights).

Pure functions over integers: no models, no database. Two shapes:

- ``suppress_table(cells)``: a two-way table of counts (rows x columns) published with its row
  totals, column totals and grand total;
- ``suppress_distribution(counts)``: a one-way distribution published with its total.

Each returns the table as it may be published: every entry is either its count or ``None``
(suppressed). The hidden number is never in the result, nor is *why* an entry is hidden: telling
"hidden because small" from "hidden to protect a neighbour" would tell a reader which hidden
cells are the small ones.

The rule
--------
1. **Primary suppression.** Every entry, cell or total, with ``0 < count < threshold`` (default 5)
   is hidden. A total counts as a group of people like any cell: a row of three people is a small
   group whether its three are spread over the columns or not.
2. **Zeros are shown.** A zero is nobody, so it identifies nobody, and hiding every zero would hide
   most of a sparse table for no one's sake. What a zero reveals is that *everyone else* in its row
   is in the other columns: a row with one non-zero cell says that all its people share that
   column's value. That is attribute disclosure about a group of at least ``threshold`` people (the
   cell is published, so it is at least ``threshold``), which this rule accepts, as the national
   statistics do. Because zeros are shown, a reader knows every hidden entry is at least 1; the
   guarantee below holds against a reader who knows that.
3. **Complementary suppression.** More entries are hidden, never a zero, until no hidden entry can
   be worked out from the published ones:
   a. a line (a row, a column, the row of column totals or the column of row totals) with exactly
      one hidden entry gives it away by subtraction, so the cheapest other non-zero entry of that
      line is hidden too (cheapest: an inner cell before a total, the grand total last; then the
      smallest count; then the first in reading order, so the result is deterministic);
   b. then every hidden entry is tested for being *pinned* (see below); for a pinned one, the
      cheapest set of shown non-zero entries that puts it on a cycle along which it can move is
      hidden (a shortest path in the network below; inner cells are cheaper than margins, the grand
      total dearest, small counts cheaper than large);
   c. a. and b. repeat until nothing changes. Each round hides at least one more entry, so it ends.

The guarantee
-------------
Take all published numbers (cells, row totals, column totals, grand total), the fact that every
count is a whole number, and the fact that every hidden entry is at least 1. For every hidden
entry there are then at least two tables consistent with all of that in which the entry has
different values. So no subtraction from a total, no sum or difference of published numbers,
indeed no reasoning from this one table, recovers a hidden count. Every line that holds a hidden
entry holds at least two.

How "pinned" is tested: a table with its margins is a circulation in a small network (source ->
row i -> column j -> sink -> source, the flows being row totals, cells, column totals and the grand
total), and the tables consistent with the published numbers are the circulations that keep the
published flows. A hidden entry can change by one exactly when it lies on a cycle of hidden entries
along which one unit can be pushed without taking any hidden entry below 1; the network is totally
unimodular, so "no such cycle" means "no other consistent table at all".

What it does not promise: it bounds nothing beyond uniqueness (a reader may learn that a hidden
entry is, say, at least 3), and tables that share cells or margins must be suppressed together
(pass the entries hidden in a linked table as ``hidden_row_totals``/``hidden_column_totals``/
``hide_total`` and repeat until the hidden margins agree), or one table can undo another.
"""
import heapq
from collections import deque
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5

# Network nodes for the circulation view of a table.
_SOURCE, _SINK = ("s",), ("t",)


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table as it may be published: ``None`` marks a suppressed entry."""

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None

    def as_dict(self) -> dict:
        return {
            "cells": [list(row) for row in self.cells],
            "row_totals": list(self.row_totals),
            "column_totals": list(self.column_totals),
            "total": self.total,
        }


@dataclass(frozen=True)
class SuppressedDistribution:
    """A one-way distribution as it may be published: ``None`` marks a suppressed entry."""

    counts: tuple[int | None, ...]
    total: int | None

    def as_dict(self) -> dict:
        return {"counts": list(self.counts), "total": self.total}


def suppress_table(
    cells, *, threshold: int = DEFAULT_THRESHOLD, hidden_row_totals=(), hidden_column_totals=(),
    hide_total: bool = False,
) -> SuppressedTable:
    """Suppress a rows x columns table of non-negative counts (totals are computed from the cells).

    ``hidden_row_totals``/``hidden_column_totals`` (indexes) and ``hide_total`` force those margins
    hidden, for tables linked to others that hid them. Raises ``ValueError`` for a ragged table or a
    negative count. The guarantee is in the module docstring.
    """
    grid = [[_count(value) for value in row] for row in cells]
    n_rows = len(grid)
    n_cols = len(grid[0]) if grid else 0
    if any(len(row) != n_cols for row in grid):
        raise ValueError("Every row of the table must have the same number of columns.")
    # The extended table: row n_rows holds the column totals, column n_cols the row totals.
    row_totals = [sum(row) for row in grid]
    column_totals = [sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols)]
    ext = [row + [row_totals[i]] for i, row in enumerate(grid)]
    ext.append(column_totals + [sum(row_totals)])
    entries = {(i, j): ext[i][j] for i in range(n_rows + 1) for j in range(n_cols + 1)}

    def arc(key):
        i, j = key
        if i < n_rows and j < n_cols:
            return ("r", i), ("c", j)
        if j == n_cols and i < n_rows:
            return _SOURCE, ("r", i)
        if i == n_rows and j < n_cols:
            return ("c", j), _SINK
        return _SINK, _SOURCE

    def cost(key):
        i, j = key
        margins = (i == n_rows) + (j == n_cols)
        return (margins, entries[key], i, j)

    lines = [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows + 1)]
    lines += [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]
    forced = {(i, n_cols) for i in hidden_row_totals} | {(n_rows, j) for j in hidden_column_totals}
    if hide_total:
        forced.add((n_rows, n_cols))

    hidden = _protect(entries, arc, lines, cost, threshold, forced)
    shown = {key: (None if key in hidden else value) for key, value in entries.items()}
    return SuppressedTable(
        cells=tuple(tuple(shown[(i, j)] for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(shown[(i, n_cols)] for i in range(n_rows)),
        column_totals=tuple(shown[(n_rows, j)] for j in range(n_cols)),
        total=shown[(n_rows, n_cols)],
    )


def suppress_distribution(counts, *, threshold: int = DEFAULT_THRESHOLD, hide_total: bool = False) -> SuppressedDistribution:
    """Suppress a one-way distribution of non-negative counts published with its total (computed).

    ``hide_total`` forces the total hidden (a linked table hid it). Same rule and guarantee as
    ``suppress_table``: the distribution is one line, so a hidden count always has a hidden partner,
    and when the total is hidden with it the two may rise together.
    """
    values = [_count(value) for value in counts]
    n = len(values)
    entries = {j: value for j, value in enumerate(values)}
    entries[n] = sum(values)

    def arc(key):
        return (("a",), ("b",)) if key < n else (("b",), ("a",))

    def cost(key):
        return (key == n, entries[key], key)

    hidden = _protect(entries, arc, [list(entries)], cost, threshold, {n} if hide_total else set())
    return SuppressedDistribution(
        counts=tuple(None if j in hidden else values[j] for j in range(n)),
        total=None if n in hidden else entries[n],
    )


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"A count must be a whole number of at least 0, not {value!r}.")
    return value


def _protect(entries, arc, lines, cost, threshold, forced) -> set:
    """The keys to hide: primary, forced, then complementary until no hidden entry is pinned."""
    hidden = {key for key, value in entries.items() if 0 < value < threshold}
    hidden |= {key for key in forced if entries[key]}
    # A forced zero stays shown: it is nobody, and hiding it would protect no one (rule 2).
    while True:
        changed = False
        for line in lines:
            in_line = [key for key in line if key in hidden]
            if len(in_line) == 1:
                candidates = [key for key in line if key not in hidden and entries[key]]
                if candidates:
                    hidden.add(min(candidates, key=cost))
                    changed = True
        if changed:
            continue
        pinned = next((key for key in sorted(hidden, key=cost) if _pinned(key, hidden, entries, arc)), None)
        if pinned is None:
            return hidden
        more = _cheapest_release(pinned, hidden, entries, arc, cost)
        # Cannot be empty (a pinned entry's row total, column total and grand total, or the total
        # of a distribution, always close a cycle), but an endless loop in a report task would be
        # worse than a loud error.
        assert more, "suppression made no progress"
        hidden |= more


def _cheapest_release(key, hidden, entries, arc, cost) -> set:
    """The cheapest set of shown non-zero entries whose hiding puts ``key`` on a cycle along which it
    can change (a shortest path in the residual network, shown entries priced by ``cost``: an inner
    cell before any margin, the grand total last, small counts before large ones)."""
    ranked = {other: rank for rank, other in enumerate(sorted(entries, key=cost), start=1)}
    margin_price = len(entries) + 1  # ranks already put margins after cells; this keeps paths short too
    graph = {}
    for other, value in entries.items():
        if other == key or not value:
            continue
        price = 0 if other in hidden else ranked[other] + margin_price * (cost(other)[0] > 0)
        u, v = arc(other)
        graph.setdefault(u, []).append((v, price, other))
        if value >= 2:
            graph.setdefault(v, []).append((u, price, other))
    u, v = arc(key)
    best = _shortest(graph, v, u)
    if entries[key] >= 2:
        fall = _shortest(graph, u, v)
        if fall is not None and (best is None or fall[0] < best[0]):
            best = fall
    return set() if best is None else {other for other in best[1] if other not in hidden}


def _shortest(graph, start, goal):
    """(price, entries on the path) of the cheapest path from ``start`` to ``goal``, or None."""
    done = set()
    queue = [(0, 0, start, ())]
    tie = 0
    while queue:
        price, _tie, node, path = heapq.heappop(queue)
        if node == goal:
            return price, path
        if node in done:
            continue
        done.add(node)
        for nxt, step, entry in graph.get(node, ()):
            if nxt not in done:
                tie += 1
                heapq.heappush(queue, (price + step, tie, nxt, path + (entry,)))
    return None


def _pinned(key, hidden, entries, arc) -> bool:
    """True when no other consistent table (hidden entries >= 1) changes ``key``'s value.

    Residual network of the hidden entries: each may rise without limit (arc u -> v) and may fall by
    one when it is at least 2 (arc v -> u). ``key`` may rise when a path leads from its head back to
    its tail, and fall (when it is at least 2) when a path leads from its tail to its head.
    """
    graph = {}
    for other in hidden:
        if other == key:
            continue
        u, v = arc(other)
        graph.setdefault(u, []).append(v)
        if entries[other] >= 2:
            graph.setdefault(v, []).append(u)
    u, v = arc(key)
    if _reaches(graph, v, u):
        return False
    return not (entries[key] >= 2 and _reaches(graph, u, v))


def _reaches(graph, start, goal) -> bool:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False
