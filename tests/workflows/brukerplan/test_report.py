"""The BrukerPlan report: its figures equal a plain count, one mapping per person, suppression in
every table and across the linked ones, the comparison, the CSV rows and the charts."""
import json
import random
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import translation

from workflows.brukerplan.report import (
    AGE_BANDS, FLAGS, INDEX_CATEGORIES, LIFE_AREAS, IndexRule, MappingRow, hidden_marker, report_charts,
    report_compare, report_compute, report_csv_rows,
)

from .verify import linearly_determined

KINDS = ("rustjeneste", "nav", "fastlege")
MAPPED = datetime(2024, 12, 10, 12, 0)


def person_id(k):
    return f"person-{k:05d}-fnr"  # distinctive, so a leak into the output would be found


def make_rows(n, seed, *, persons=None, levels=(1, 1, 2, 3, None)):
    rng = random.Random(seed)
    persons = persons or n
    return [
        MappingRow(
            person_id=person_id(rng.randrange(persons) if persons < n else k), service_id=rng.randint(1, 9),
            service_kind=rng.choice(KINDS), mapped_at=MAPPED + timedelta(hours=rng.randrange(300)),
            sex=rng.choice(("female", "male", "male", "other", "")), age=rng.randint(16, 85),
            has_children=rng.random() < 0.15, levels={area: rng.choice(levels) for area in LIFE_AREAS},
            lar=rng.random() < 0.25, tsb=rng.random() < 0.35, ansvarsgruppe=rng.random() < 0.7,
            individual_plan=rng.random() < 0.4, services_used=tuple(rng.sample(("lar", "dps", "bolig"), 2)),
            expected_need=("bolig",) if rng.random() < 0.5 else (),
        )
        for k in range(n)
    ]


def plain_winners(rows):
    """The mapping that counts per person, the rule written out the long way."""
    by_person = {}
    for row in rows:
        by_person.setdefault(row.person_id, []).append(row)
    winners = []
    for mappings in by_person.values():
        latest = max(m.mapped_at for m in mappings)
        at_latest = [m for m in mappings if m.mapped_at == latest]
        winners.append(min(at_latest, key=lambda m: m.service_id))
    return winners


def plain_index(levels):
    values = [levels[a] for a in LIFE_AREAS]
    assessed = [v for v in values if v is not None]
    if len(assessed) < 5:
        return "not_assessed"
    if assessed.count(3) >= 3:
        return "deficient"
    if assessed.count(3) == 0 and assessed.count(2) <= 2:
        return "satisfactory"
    return "challenges"


def plain_band(age):
    if age <= 17:
        return "16-17"
    if age <= 22:
        return "18-22"
    if age <= 29:
        return "23-29"
    if age <= 39:
        return "30-39"
    if age <= 49:
        return "40-49"
    if age <= 66:
        return "50-66"
    return "67+"


def published_counts(report):
    """Every count the report publishes (None for hidden ones)."""
    yield report["mapped"]
    for dist in report["distributions"].values():
        yield from dist["counts"]
        yield dist["total"]
    for row in report["life_areas"]["rows"]:
        yield from row["counts"]
        yield row["total"]
    for table in report["tables"].values():
        for cells in table["cells"]:
            yield from cells
        yield from table["row_totals"]
        yield from table["column_totals"]
        yield table["total"]
    for section in report["services"].values():
        for row in section:
            yield from row["counts"]
            yield row["total"]


def joint_system(report):
    """The linked tables as one linear system an attacker would solve: variables and equations
    ({variable: coefficient} summing to zero), and the values published for the variables."""
    values, eqs = {}, []
    values["N"] = report["mapped"]
    columns = report["distributions"]["index"]["counts"]
    for j, v in enumerate(columns):
        values[("col", j)] = v
    eqs.append({**{("col", j): 1 for j in range(len(columns))}, "N": -1})
    for name, table in report["tables"].items():
        for i, cells in enumerate(table["cells"]):
            values[(name, "r", i)] = table["row_totals"][i]
            eq = {(name, i, j): 1 for j in range(len(cells))}
            eq[(name, "r", i)] = -1
            eqs.append(eq)
            for j, v in enumerate(cells):
                values[(name, i, j)] = v
        for j in range(len(columns)):
            eq = {(name, i, j): 1 for i in range(len(table["cells"]))}
            eq[("col", j)] = -1
            eqs.append(eq)
            assert table["column_totals"][j] == columns[j]
        eqs.append({**{(name, "r", i): 1 for i in range(len(table["cells"]))}, "N": -1})
        assert table["total"] == report["mapped"]
    others = [(f"flag:{f}", report["distributions"][f]) for f in FLAGS]
    others += [(f"area:{row['key']}", row) for row in report["life_areas"]["rows"]]
    others += [(f"{s}:{row['key']}", row) for s, rows in report["services"].items() for row in rows]
    for name, dist in others:
        assert dist["total"] == report["mapped"]
        for k, v in enumerate(dist["counts"]):
            values[(name, k)] = v
        eqs.append({**{(name, k): 1 for k in range(len(dist["counts"]))}, "N": -1})
    return values, eqs


class ReportFiguresTests:
    def test_it_equals_a_plain_count_over_the_same_rows(self):
        rows = make_rows(3000, seed=5, persons=2600)
        report = report_compute(rows)
        winners = plain_winners(rows)
        assert report["mapped"] == len(winners)
        n = len(winners)

        def check(published, expected):
            assert published is None or published == expected
            return published is not None

        shown = 0
        for flag in FLAGS:
            yes = sum(1 for w in winners if getattr(w, flag))
            dist = report["distributions"][flag]
            shown += check(dist["counts"][0], yes) + check(dist["counts"][1], n - yes)
            if dist["counts"][0] is not None:
                assert dist["shares"][0] == round(100 * yes / n, 1)
        for band, _low, _high in AGE_BANDS:
            k = report["distributions"]["age_band"]["categories"].index(band)
            shown += check(report["distributions"]["age_band"]["counts"][k], sum(1 for w in winners if plain_band(w.age) == band))
        for sex in ("female", "male"):
            k = report["distributions"]["sex"]["categories"].index(sex)
            shown += check(report["distributions"]["sex"]["counts"][k], sum(1 for w in winners if w.sex == sex))
        k = report["distributions"]["sex"]["categories"].index("other")
        shown += check(report["distributions"]["sex"]["counts"][k], sum(1 for w in winners if w.sex not in ("female", "male")))
        for row in report["life_areas"]["rows"]:
            for level, count in zip((1, 2, 3, None), row["counts"]):
                shown += check(count, sum(1 for w in winners if w.levels[row["key"]] == level))
        table = report["tables"]["service_kind_by_index"]
        for i, kind in enumerate(table["rows"]):
            for j, index in enumerate(table["columns"]):
                expected = sum(1 for w in winners if w.service_kind == kind and plain_index(w.levels) == index)
                shown += check(table["cells"][i][j], expected)
        table = report["tables"]["age_band_by_index"]
        for i, band in enumerate(table["rows"]):
            for j, index in enumerate(table["columns"]):
                shown += check(table["cells"][i][j], sum(1 for w in winners if plain_band(w.age) == band and plain_index(w.levels) == index))
        used = {row["key"]: row["counts"][0] for row in report["services"]["used"]}
        for key in ("lar", "dps", "bolig"):
            shown += check(used[key], sum(1 for w in winners if key in w.services_used))
        assert shown > 80  # the comparison was not vacuous

    def test_it_has_the_shape_of_randabergs_2024_figures(self):
        # 39 mapped: 24 men and 15 women; 15 with satisfactory living conditions, 9 in LAR,
        # 27 with an ansvarsgruppe, 16 with a plan.
        rows = []
        for k in range(39):
            good = {area: 1 for area in LIFE_AREAS}
            poor = {**good, "housing": 3, "finances": 2}
            rows.append(MappingRow(
                person_id=person_id(k), service_id=1, service_kind="rustjeneste", mapped_at=MAPPED,
                sex="male" if k < 24 else "female", age=30 + k % 20, has_children=k < 5,
                levels=good if k < 15 else poor, lar=k % 39 < 9, tsb=False, ansvarsgruppe=k < 27,
                individual_plan=k >= 23, services_used=(), expected_need=()))
        report = report_compute(rows)
        assert report["mapped"] == 39
        assert report["distributions"]["sex"]["counts"] == [15, 24, 0]
        assert report["distributions"]["index"]["shares"][0] == 38.5
        assert report["distributions"]["lar"]["shares"] == [23.1, 76.9]
        assert report["distributions"]["ansvarsgruppe"]["shares"][0] == 69.2
        assert report["distributions"]["individual_plan"]["shares"][0] == 41.0

    def test_it_keeps_the_latest_mapping_of_a_person_and_on_a_tie_the_lowest_service(self):
        base = make_rows(1, seed=1)[0]._replace(person_id="p1", levels={a: 1 for a in LIFE_AREAS})
        older = base._replace(service_id=2, mapped_at=MAPPED, lar=True, service_kind="nav")
        newer = base._replace(service_id=3, mapped_at=MAPPED + timedelta(days=1), lar=False, service_kind="fastlege")
        tie_low = base._replace(service_id=1, mapped_at=MAPPED + timedelta(days=1), lar=False, service_kind="rustjeneste")
        fillers = [base._replace(person_id=f"f{k}", service_kind="rustjeneste", lar=False) for k in range(10)]
        for order in ([older, newer, tie_low], [tie_low, newer, older], [newer, older, tie_low]):
            report = report_compute(fillers + order)
            assert report["mapped"] == 11
            assert report["distributions"]["lar"]["counts"] == [0, 11]
            assert report["distributions"]["service_kind"]["categories"] == ["rustjeneste"]

    def test_it_lists_every_given_service_kind_and_service_even_at_zero(self):
        rows = [r._replace(service_kind="nav", services_used=("dps",), expected_need=()) for r in make_rows(8, seed=5)]
        report = report_compute(rows, service_kinds=["rustjeneste", "nav"], service_types=["lar", "dps"])
        assert report["distributions"]["service_kind"]["categories"] == ["rustjeneste", "nav"]
        assert report["distributions"]["service_kind"]["counts"] == [0, 8]
        assert [row["key"] for row in report["services"]["used"]] == ["lar", "dps"]
        assert [row["counts"][0] for row in report["services"]["expected_need"]] == [0, 0]

    def test_it_calls_progress_every_n_rows_and_at_the_end(self):
        calls = []
        report_compute(make_rows(250, seed=2), progress=lambda done, total: calls.append((done, total)), progress_every=100)
        assert calls == [(100, 250), (200, 250), (250, 250)]

    def test_it_refuses_a_level_outside_the_scale_and_an_age_under_16(self):
        row = make_rows(1, seed=3)[0]
        with pytest.raises(ValueError):
            report_compute([row._replace(levels={**row.levels, "housing": 4})])
        with pytest.raises(ValueError):
            report_compute([row._replace(age=15)])

    def test_it_applies_a_configured_index_rule(self):
        rows = [r._replace(levels={**{a: 1 for a in LIFE_AREAS}, "housing": 2, "finances": 2}) for r in make_rows(6, seed=4)]
        assert report_compute(rows)["distributions"]["index"]["counts"][0] == 6
        strict = report_compute(rows, index_rule=IndexRule(satisfactory_max_yellow=1))
        assert strict["distributions"]["index"]["counts"][:2] == [0, 6]
        assert strict["index_rule"]["satisfactory_max_yellow"] == 1

    def test_it_is_json_and_carries_its_schema_version(self):
        report = report_compute(make_rows(80, seed=6))
        assert json.loads(json.dumps(report)) == report
        assert report["schema"] == "brukerplan-report" and report["schema_version"] == 1


class ReportSuppressionTests:
    @pytest.mark.parametrize("n,seed", [(3, 1), (12, 2), (39, 3), (60, 4), (150, 5), (400, 6)])
    def test_it_shows_no_small_count_and_no_hidden_count_follows_from_the_linked_tables(self, n, seed):
        report = report_compute(make_rows(n, seed=seed))
        counts = list(published_counts(report))
        assert not [c for c in counts if c is not None and 0 < c < 5]
        values, eqs = joint_system(report)
        hidden = {key for key, v in values.items() if v is None}
        assert linearly_determined(eqs, hidden) == []
        for eq in eqs:
            assert sum(key in hidden for key in eq) != 1
        for dist in report["distributions"].values():
            for count, share in zip(dist["counts"], dist["shares"]):
                assert count is not None or share is None

    def test_it_hides_everything_but_zeros_in_a_round_of_three(self):
        report = report_compute(make_rows(3, seed=1))
        assert report["mapped"] is None
        assert {c for c in published_counts(report)} <= {None, 0}


class ReportCompareTests:
    def test_it_gives_the_change_in_shares_published_in_both_rounds(self):
        before = report_compute(make_rows(200, seed=8))
        after = report_compute(make_rows(260, seed=9), previous=before)
        comparison = after["comparison"]
        assert comparison == report_compare(after, before)
        assert comparison["mapped"] == {"current": 260, "previous": 200}
        now, then = after["distributions"]["lar"]["shares"], before["distributions"]["lar"]["shares"]
        assert comparison["distributions"]["lar"]["differences"][0] == round(now[0] - then[0], 1)
        for name, diff in comparison["distributions"].items():
            cur = after["distributions"][name]
            prev = dict(zip(before["distributions"][name]["categories"], before["distributions"][name]["shares"]))
            for key, share, d in zip(cur["categories"], cur["shares"], diff["differences"]):
                assert (d is None) == (share is None or prev.get(key) is None)

    def test_it_compares_with_nothing_that_is_not_a_report(self):
        report = report_compute(make_rows(20, seed=8))
        assert report_compare(report, {"schema": "other"}) is None
        assert report_compute(make_rows(20, seed=8), previous={})["comparison"] is None


class ReportCsvTests:
    def test_it_writes_every_figure_with_hidden_counts_marked(self):
        with translation.override("en"):
            report = report_compute(make_rows(39, seed=3))
            rows = list(report_csv_rows(report, service_kind_labels={"nav": "=NAV"}))
            marker = hidden_marker()
        assert rows[0][:4] == ["Table", "Group", "Category", "Count"]
        counts = [row[3] for row in rows[1:] if len(row) > 3]
        assert marker in counts
        assert not [c for c in counts if isinstance(c, int) and 0 < c < 5]
        assert all(c == marker or isinstance(c, int) for c in counts)
        assert ["Persons mapped", "", "", 39, "", ""] in rows
        assert not any(str(cell).startswith("=") for row in rows for cell in row)
        assert "person-" not in json.dumps(rows, default=str)


class ReportChartsTests:
    def test_it_draws_well_formed_accessible_svg_without_persons_or_hidden_bars(self):
        report = report_compute(make_rows(39, seed=3))
        charts = report_charts(report)
        assert [c.key for c in charts] == ["life_areas", "index"]
        ns = "{http://www.w3.org/2000/svg}"
        for chart in charts:
            root = ET.fromstring(chart.svg)
            assert root.get("role") == "img"
            title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
            assert title is not None and title.text and desc is not None and desc.text
            assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
            assert "person-" not in chart.svg
        index = report["distributions"]["index"]
        bars = ET.fromstring(charts[1].svg).findall(f"{ns}rect")
        assert len(bars) == sum(share is not None for share in index["shares"])
        assert charts[1].table == "index"
