"""Small-cell suppression: no published entry between 1 and 4, and no hidden entry recoverable from
what is published (checked with the attacker's tools in verify.py, written apart from the code)."""
import random
from itertools import product

import pytest

from workflows.services.suppression import suppress_distribution, suppress_table

from .verify import completions, equations, extended, linearly_determined, published_extended


def hidden_keys(published):
    return {(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v is None}


def assert_protected(cells, table, *, brute_force=False):
    truth = extended(cells)
    published = published_extended(table)
    n_rows, n_cols = len(cells), len(cells[0])
    hidden = hidden_keys(published)
    for i, j in product(range(n_rows + 1), range(n_cols + 1)):
        value = published[i][j]
        assert value is None or value == truth[i][j]
        assert value is None or not 0 < value < 5, f"small entry {value} shown at {(i, j)}"
        if value is None:
            assert truth[i][j] >= 1, "a zero is never hidden"
    # Every line with a hidden entry holds at least two.
    for line in [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows + 1)] + \
            [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]:
        assert sum(key in hidden for key in line) != 1, f"a line with one hidden entry: {line}"
    # No sum or difference of published numbers, with any coefficients, gives a hidden entry.
    assert linearly_determined(equations(n_rows, n_cols), hidden) == []
    if brute_force:
        bound = max(max(row) for row in cells) + 1  # a hidden cell moves by one at a time
        seen = {key: set() for key in hidden}
        for ext in completions(published, bound):
            for key in hidden:
                seen[key].add(ext[key[0]][key[1]])
        for key, values in seen.items():
            assert truth[key[0]][key[1]] in values
            assert len(values) >= 2, f"hidden entry {key} is pinned to {values}"


class SuppressTableTests:
    def test_it_hides_a_cell_of_3_so_no_subtraction_from_any_total_recovers_it(self):
        cells = [[3, 12, 9], [14, 20, 7]]
        table = suppress_table(cells)
        assert table.cells[0][0] is None
        published = published_extended(table)
        known = [v for row in published for v in row if v is not None]
        # Every subtraction and sum of published numbers (coefficients -1, 0, 1) that gives 3 on the
        # true table gives something else on another table consistent with everything published.
        others = [ext for ext in completions(published, 21) if ext[0][0] != 3]
        assert others, "no other table fits the published numbers"
        positions = [(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v is not None]
        for signs in product((-1, 0, 1), repeat=len(known)):
            if sum(s * v for s, v in zip(signs, known)) != 3:
                continue
            assert any(sum(s * ext[i][j] for s, (i, j) in zip(signs, positions)) != ext[0][0] for ext in others)
        assert_protected(cells, table, brute_force=True)

    def test_it_hides_a_partner_in_a_row_and_a_column_with_a_single_small_cell(self):
        cells = [[30, 10, 2], [12, 20, 40], [50, 60, 70]]
        table = suppress_table(cells)
        assert table.cells[0][2] is None
        assert table.cells[0][1] is None  # the row's next smallest
        assert table.cells[1][2] is None or table.cells[2][2] is None
        assert table.total == 294 and table.row_totals == (42, 72, 180)
        assert_protected(cells, table)

    def test_it_hides_everything_but_zeros_in_an_all_small_table(self):
        cells = [[1, 2], [3, 0]]
        table = suppress_table(cells)
        assert table.cells == ((None, None), (None, 0))
        assert table.row_totals == (None, None) and table.column_totals == (None, None)
        assert table.total == 6  # six persons are not a small group
        assert_protected(cells, table, brute_force=True)

    def test_it_hides_a_total_under_5_and_its_partners(self):
        cells = [[2, 1, 0], [10, 11, 12]]
        table = suppress_table(cells)
        assert table.row_totals[0] is None and table.cells[0][:2] == (None, None)
        assert_protected(cells, table, brute_force=True)

    def test_it_hides_a_grand_total_under_5(self):
        cells = [[3]]
        table = suppress_table(cells)
        assert table == suppress_table([[3]]) and table.total is None
        assert_protected(cells, table, brute_force=True)

    def test_it_shows_a_table_with_nothing_small_unchanged(self):
        table = suppress_table([[5, 0], [7, 9]])
        assert table.cells == ((5, 0), (7, 9)) and table.total == 21

    def test_it_keeps_forced_margins_hidden(self):
        cells = [[10, 12], [11, 13]]
        table = suppress_table(cells, hidden_column_totals=[0])
        assert table.column_totals[0] is None
        assert_protected(cells, table)

    def test_it_refuses_a_negative_or_ragged_table(self):
        with pytest.raises(ValueError):
            suppress_table([[1, -1]])
        with pytest.raises(ValueError):
            suppress_table([[1, 2], [3]])

    def test_it_protects_every_hidden_entry_of_many_random_tables(self):
        rng = random.Random(20241215)
        small = 0
        for _ in range(400):
            n_rows, n_cols = rng.randint(1, 5), rng.randint(1, 5)
            cells = [[rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 30)) for _ in range(n_cols)] for _ in range(n_rows)]
            table = suppress_table(cells)
            small += any(0 < v < 5 for row in cells for v in row)
            assert_protected(cells, table)
        assert small > 300

    def test_it_leaves_no_hidden_entry_pinned_in_small_random_tables_by_brute_force(self):
        rng = random.Random(7)
        checked = 0
        while checked < 60:
            n_cols = rng.randint(1, 3)
            cells = [[rng.choice((0, 1, 2, 3, 4, 5, 6, 7)) for _ in range(n_cols)] for _ in range(2)]
            table = suppress_table(cells)
            if sum(v is None for row in table.cells for v in row) > 4:
                continue
            assert_protected(cells, table, brute_force=True)
            checked += 1


class SuppressDistributionTests:
    def test_it_hides_a_small_count_and_the_next_smallest(self):
        dist = suppress_distribution([3, 10, 20])
        assert dist.counts == (None, None, 20) and dist.total == 33

    def test_it_hides_the_total_when_it_is_small(self):
        assert suppress_distribution([3, 0, 0]) == suppress_distribution([3, 0, 0])
        dist = suppress_distribution([3, 0, 0])
        assert dist.counts == (None, 0, 0) and dist.total is None

    def test_it_shows_an_empty_distribution(self):
        dist = suppress_distribution([0, 0])
        assert dist.counts == (0, 0) and dist.total == 0

    def test_it_protects_every_hidden_count_of_many_random_distributions(self):
        rng = random.Random(11)
        for _ in range(500):
            counts = [rng.choice((0, 1, 2, 3, 4, 5, 9, 20)) for _ in range(rng.randint(1, 6))]
            dist = suppress_distribution(counts)
            shown = list(dist.counts) + [dist.total]
            truth = counts + [sum(counts)]
            hidden = [k for k, v in enumerate(shown) if v is None]
            assert all(v is None or v == t for v, t in zip(shown, truth))
            assert not any(v is not None and 0 < v < 5 for v in shown)
            assert len(hidden) != 1
            # A hidden count moves by one with a hidden partner that can follow it (the total, or a
            # count of at least 2 that can give one up), so it is never pinned.
            n = len(counts)
            for k in hidden:
                if k == n:
                    assert any(j < n for j in hidden)
                else:
                    assert n in hidden or any(j != k and j < n and truth[j] >= 2 for j in hidden) or truth[k] >= 2 and len(hidden) >= 2
