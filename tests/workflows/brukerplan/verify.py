"""An attacker's tools, written apart from the suppression code: what the published numbers of a
table give away by linear algebra (every sum and difference of them) and by brute force."""
from fractions import Fraction
from itertools import product


def extended(cells):
    """The table with its margins: row i's total at [i][-1], the column totals in the last row."""
    rows = [list(row) + [sum(row)] for row in cells]
    rows.append([sum(col) for col in zip(*rows)])
    return rows


def published_extended(table):
    rows = [list(row) + [total] for row, total in zip(table.cells, table.row_totals)]
    rows.append(list(table.column_totals) + [table.total])
    return rows


def equations(n_rows, n_cols):
    """Each line of the extended table: its cells minus its total is zero (as {(i, j): coefficient})."""
    eqs = []
    for i in range(n_rows + 1):
        eq = {(i, j): 1 for j in range(n_cols)}
        eq[(i, n_cols)] = -1
        eqs.append(eq)
    for j in range(n_cols + 1):
        eq = {(i, j): 1 for i in range(n_rows)}
        eq[(n_rows, j)] = -1
        eqs.append(eq)
    return eqs


def rank(rows):
    rows = [list(map(Fraction, row)) for row in rows]
    r = 0
    width = len(rows[0]) if rows else 0
    for c in range(width):
        pivot = next((k for k in range(r, len(rows)) if rows[k][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        for k in range(len(rows)):
            if k != r and rows[k][c] != 0:
                f = rows[k][c] / rows[r][c]
                rows[k] = [a - f * b for a, b in zip(rows[k], rows[r])]
        r += 1
    return r


def linearly_determined(eqs, hidden):
    """The hidden variables whose value some linear combination of the published numbers gives:
    those whose unit vector lies in the span of the equations restricted to the hidden variables."""
    hidden = sorted(hidden, key=repr)
    matrix = [[eq.get(key, 0) for key in hidden] for eq in eqs]
    base = rank(matrix)
    found = []
    for k, key in enumerate(hidden):
        unit = [1 if m == k else 0 for m in range(len(hidden))]
        if rank(matrix + [unit]) == base:
            found.append(key)
    return found


def completions(published, bound):
    """Every extended table with the published entries, hidden entries 1..bound, lines adding up."""
    n_rows, n_cols = len(published) - 1, len(published[0]) - 1
    hidden_inner = [(i, j) for i in range(n_rows) for j in range(n_cols) if published[i][j] is None]
    for values in product(range(1, bound + 1), repeat=len(hidden_inner)):
        cells = [[published[i][j] for j in range(n_cols)] for i in range(n_rows)]
        for (i, j), v in zip(hidden_inner, values):
            cells[i][j] = v
        ext = extended(cells)
        if all(published[i][j] in (None, ext[i][j]) and (published[i][j] is not None or ext[i][j] >= 1)
               for i in range(n_rows + 1) for j in range(n_cols + 1)):
            yield ext
