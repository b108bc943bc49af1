"""The de-identified BrukerPlan report: pure computation over mapping rows, no models, no queries.

``report_compute(rows)`` turns the mapping rows of a closed round into a JSON-serialisable dict
(stored by the round; reading it needs no recomputation). Every count in it has passed through
small-cell suppression (``workflows.services.suppression``): no published count is between 1 and
``threshold - 1``, and no hidden count can be worked out from the published ones. The report holds
category *keys*, never labels, so one stored report reads in every language: ``report_csv_rows``
and ``report_charts`` translate at the time they are called.

Linked tables. The three cross tables (age band, sex and service kind, each by living-conditions
index) share their column totals (the index distribution) and their grand total (the number
mapped); the age band, sex, service kind and index distributions *are* their margins, and every
other distribution has the number mapped as its total. They are suppressed together: a margin hidden
in one is hidden in all, repeated until the tables agree, so no table gives away what another hides.

Output (``SCHEMA_VERSION`` 1), every count an int or ``None`` (suppressed), every share a percentage
with one decimal or ``None`` (its count or its total is hidden, or the total is 0)::

    {"schema": "brukerplan-report", "schema_version": 1, "threshold": 5,
     "index_rule": {"areas": [...], "satisfactory_max_yellow": 2, "deficient_min_red": 3, "min_assessed": 5},
     "mapped": 39,
     "distributions": {NAME: {"categories": [key, ...], "counts": [...], "total": n, "shares": [...]}},
         # NAME in DISTRIBUTIONS: age_band, sex, service_kind, index, lar, tsb, ansvarsgruppe,
         # individual_plan, has_children (the last five with categories ["yes", "no"])
     "life_areas": {"categories": ["green", "yellow", "red", "not_assessed"],
                    "rows": [{"key": area, "counts": [...], "total": n, "shares": [...]}, ...]},
     "tables": {NAME: {"rows": [key, ...], "columns": [index key, ...], "cells": [[...]],
                       "row_totals": [...], "column_totals": [...], "total": n, "row_shares": [[...]]}},
         # NAME in TABLES: age_band_by_index, sex_by_index, service_kind_by_index
     "services": {"used": [{"key": k, "categories": ["yes", "no"], ...}], "expected_need": [...]},
     "comparison": None or report_compare(this report, the previous one)}
"""
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import NamedTuple
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows.services.suppression import DEFAULT_THRESHOLD, suppress_distribution, suppress_table

SCHEMA = "brukerplan-report"
SCHEMA_VERSION = 1

LIFE_AREAS = (
    "housing", "meaningful_activity", "finances", "physical_health", "mental_health", "substance_use",
    "social_functioning", "social_network", "violence",
)
LIFE_AREA_LABELS = {
    "housing": gettext_lazy("Housing"),
    "meaningful_activity": gettext_lazy("Meaningful activity"),
    "finances": gettext_lazy("Finances"),
    "physical_health": gettext_lazy("Physical health"),
    "mental_health": gettext_lazy("Mental health"),
    "substance_use": gettext_lazy("Substance use"),
    "social_functioning": gettext_lazy("Social functioning"),
    "social_network": gettext_lazy("Social network"),
    "violence": gettext_lazy("Violence"),
}
# A level is 1 (green, best), 2 (yellow) or 3 (red); None is "not assessed".
LEVELS = ("green", "yellow", "red", "not_assessed")
LEVEL_LABELS = {
    "green": gettext_lazy("Green (good)"),
    "yellow": gettext_lazy("Yellow (some difficulties)"),
    "red": gettext_lazy("Red (serious difficulties)"),
    "not_assessed": gettext_lazy("Not assessed"),
}
_LEVEL_KEY = {1: "green", 2: "yellow", 3: "red", None: "not_assessed"}

INDEX_CATEGORIES = ("satisfactory", "challenges", "deficient", "not_assessed")
INDEX_LABELS = {
    "satisfactory": gettext_lazy("Satisfactory living conditions"),
    "challenges": gettext_lazy("Extra challenges"),
    "deficient": gettext_lazy("Serious deficiencies"),
    "not_assessed": gettext_lazy("Too few areas assessed"),
}

# (key, lowest age, highest age or None): BrukerPlan maps from 16; 67 is the pension age.
AGE_BANDS = (("16-17", 16, 17), ("18-22", 18, 22), ("23-29", 23, 29), ("30-39", 30, 39),
             ("40-49", 40, 49), ("50-66", 50, 66), ("67+", 67, None))
AGE_UNKNOWN = "unknown"
SEXES = ("female", "male", "other")
SEX_LABELS = {"female": gettext_lazy("Women"), "male": gettext_lazy("Men"), "other": gettext_lazy("Other or unknown")}
YES_NO = ("yes", "no")
YES_NO_LABELS = {"yes": gettext_lazy("Yes"), "no": gettext_lazy("No")}

FLAGS = ("lar", "tsb", "ansvarsgruppe", "individual_plan", "has_children")
DISTRIBUTIONS = ("age_band", "sex", "service_kind", "index") + FLAGS
TABLES = ("age_band_by_index", "sex_by_index", "service_kind_by_index")
TITLES = {
    "age_band": gettext_lazy("Persons mapped by age"),
    "sex": gettext_lazy("Persons mapped by sex"),
    "service_kind": gettext_lazy("Persons mapped by kind of service"),
    "index": gettext_lazy("Living-conditions index"),
    "lar": gettext_lazy("In opioid maintenance treatment (LAR)"),
    "tsb": gettext_lazy("In specialised substance treatment (TSB)"),
    "ansvarsgruppe": gettext_lazy("Has an ansvarsgruppe"),
    "individual_plan": gettext_lazy("Has an individual plan"),
    "has_children": gettext_lazy("Cares for children under 18"),
    "life_areas": gettext_lazy("Level of functioning by life area"),
    "age_band_by_index": gettext_lazy("Living-conditions index by age"),
    "sex_by_index": gettext_lazy("Living-conditions index by sex"),
    "service_kind_by_index": gettext_lazy("Living-conditions index by kind of service"),
    "services_used": gettext_lazy("Services used in the last year"),
    "expected_need": gettext_lazy("Expected need for services next year"),
}


class MappingRow(NamedTuple):
    """One person's mapping by one service. ``levels`` maps a life area to 1, 2, 3 or None."""

    person_id: object
    service_id: int
    service_kind: str
    mapped_at: datetime | date
    sex: str  # "female", "male"; anything else counts as "other or unknown"
    age: int | None  # on the round's reference date
    has_children: bool
    levels: Mapping[str, int | None]
    lar: bool
    tsb: bool
    ansvarsgruppe: bool
    individual_plan: bool
    services_used: tuple[str, ...]
    expected_need: tuple[str, ...]


@dataclass(frozen=True)
class IndexRule:
    """The living-conditions index of one person, from the levels of ``areas``:

    - ``not_assessed`` when fewer than ``min_assessed`` of the areas have a level;
    - ``deficient`` (serious deficiencies) when at least ``deficient_min_red`` areas are red;
    - ``satisfactory`` when no area is red and at most ``satisfactory_max_yellow`` are yellow;
    - ``challenges`` (extra challenges) otherwise.

    BrukerPlan's own formula is not in our sources; this one is local, stated in every report it
    produced (``index_rule``) and configurable per round.
    """

    areas: tuple[str, ...] = LIFE_AREAS
    satisfactory_max_yellow: int = 2
    deficient_min_red: int = 3
    min_assessed: int = 5

    def classify(self, levels: Mapping[str, int | None]) -> str:
        assessed = yellow = red = 0
        for area in self.areas:
            level = levels.get(area)
            if level is None:
                continue
            assessed += 1
            if level == 2:
                yellow += 1
            elif level == 3:
                red += 1
        if assessed < self.min_assessed:
            return "not_assessed"
        if red >= self.deficient_min_red:
            return "deficient"
        if red == 0 and yellow <= self.satisfactory_max_yellow:
            return "satisfactory"
        return "challenges"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["areas"] = list(self.areas)
        return data


def age_band(age: int | None) -> str:
    """The band key of ``age``; ``unknown`` for None. Raises ``ValueError`` below the lowest band."""
    if age is None:
        return AGE_UNKNOWN
    for key, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return key
    raise ValueError(_("BrukerPlan maps persons from %(low)s years; an age of %(age)s cannot be in a round.")
                     % {"low": AGE_BANDS[0][1], "age": age})


def rows_dedupe(rows: Iterable[MappingRow], *, progress: Callable[[int, int], None] | None = None,
                progress_every: int = 1000, total: int | None = None) -> list[MappingRow]:
    """One mapping per person: the latest ``mapped_at`` wins; on a tie, the lowest ``service_id``
    (a rule that gives the same answer in whatever order the rows come). Calls ``progress(done,
    total)`` every ``progress_every`` rows and once at the end."""
    if total is None and hasattr(rows, "__len__"):
        total = len(rows)
    kept: dict = {}
    done = 0
    for row in rows:
        current = kept.get(row.person_id)
        if current is None or (row.mapped_at, -row.service_id) > (current.mapped_at, -current.service_id):
            kept[row.person_id] = row
        done += 1
        if progress is not None and done % progress_every == 0:
            progress(done, total if total is not None else done)
    if progress is not None:
        progress(done, total if total is not None and total >= done else done)
    return list(kept.values())


def report_compute(
    rows: Iterable[MappingRow], *, previous: Mapping | None = None, index_rule: IndexRule = IndexRule(),
    threshold: int = DEFAULT_THRESHOLD, progress: Callable[[int, int], None] | None = None,
    progress_every: int = 1000, total: int | None = None, service_kinds: Iterable[str] = (),
    service_types: Iterable[str] = (),
) -> dict:
    """The report over ``rows`` (see the module docstring for its shape).

    ``service_kinds`` and ``service_types`` are the round's full lists of service kinds and of the
    services in "services used"/"expected need": every one is a category even at 0, so the list of
    categories does not itself tell that someone used a rare service. A key met in the rows and not
    in the list is added after them.

    ``rows`` may repeat a person (see ``rows_dedupe``). ``previous`` is an earlier round's stored
    report: the result's ``comparison`` is ``report_compare(result, previous)``. ``progress(done,
    total)`` is called every ``progress_every`` input rows (``total`` is ``len(rows)`` when rows has
    a length, else the given ``total``). Raises ``ValueError`` for an age below 16 or a level other
    than 1, 2, 3 or None. Side effects: none.
    """
    persons = rows_dedupe(rows, progress=progress, progress_every=progress_every, total=total)
    ages = [key for key, _low, _high in AGE_BANDS]
    index_col = {key: j for j, key in enumerate(INDEX_CATEGORIES)}
    level_col = {key: j for j, key in enumerate(LEVELS)}
    def keys(given, found):
        given = list(dict.fromkeys(given))
        return given + sorted(found - set(given))

    kinds = keys(service_kinds, {p.service_kind for p in persons})
    used_keys = keys(service_types, {s for p in persons for s in p.services_used})
    need_keys = keys(service_types, {s for p in persons for s in p.expected_need})

    by_age = {key: [0] * len(INDEX_CATEGORIES) for key in ages + [AGE_UNKNOWN]}
    by_sex = {key: [0] * len(INDEX_CATEGORIES) for key in SEXES}
    by_kind = {key: [0] * len(INDEX_CATEGORIES) for key in kinds}
    areas = {area: [0] * len(LEVELS) for area in LIFE_AREAS}
    flags = {flag: 0 for flag in FLAGS}
    used = dict.fromkeys(used_keys, 0)
    need = dict.fromkeys(need_keys, 0)
    for p in persons:
        j = index_col[index_rule.classify(p.levels)]
        by_age[age_band(p.age)][j] += 1
        by_sex[p.sex if p.sex in ("female", "male") else "other"][j] += 1
        by_kind[p.service_kind][j] += 1
        for area in LIFE_AREAS:
            level = p.levels.get(area)
            if level not in _LEVEL_KEY:
                raise ValueError(_("A life-area level is 1, 2, 3 or empty, not “%(level)s”.") % {"level": level})
            areas[area][level_col[_LEVEL_KEY[level]]] += 1
        flags["lar"] += bool(p.lar)
        flags["tsb"] += bool(p.tsb)
        flags["ansvarsgruppe"] += bool(p.ansvarsgruppe)
        flags["individual_plan"] += bool(p.individual_plan)
        flags["has_children"] += bool(p.has_children)
        for s in set(p.services_used):
            used[s] += 1
        for s in set(p.expected_need):
            need[s] += 1
    if not any(by_age[AGE_UNKNOWN]):
        del by_age[AGE_UNKNOWN]
    n = len(persons)

    tables_raw = {"age_band_by_index": by_age, "sex_by_index": by_sex, "service_kind_by_index": by_kind}
    distributions_raw = {f"area:{area}": counts for area, counts in areas.items()}
    distributions_raw.update({f"flag:{flag}": [count, n - count] for flag, count in flags.items()})
    distributions_raw.update({f"used:{key}": [count, n - count] for key, count in used.items()})
    distributions_raw.update({f"need:{key}": [count, n - count] for key, count in need.items()})

    # Suppress the linked tables together until the hidden shared margins agree (module docstring).
    hidden_columns: set[int] = set()
    hide_total = False
    while True:
        tables = {
            name: suppress_table(list(grid.values()), threshold=threshold,
                                 hidden_column_totals=sorted(hidden_columns), hide_total=hide_total)
            for name, grid in tables_raw.items()
        }
        dists = {name: suppress_distribution(counts, threshold=threshold, hide_total=hide_total)
                 for name, counts in distributions_raw.items()}
        columns = {j for t in tables.values() for j, v in enumerate(t.column_totals) if v is None}
        total_hidden = any(t.total is None for t in tables.values()) or any(d.total is None for d in dists.values())
        total_hidden = total_hidden and n > 0
        if columns <= hidden_columns and total_hidden == hide_total:
            break
        hidden_columns |= columns
        hide_total = hide_total or total_hidden

    def table_dict(name):
        t = tables[name]
        return {
            "rows": list(tables_raw[name]), "columns": list(INDEX_CATEGORIES),
            "cells": [list(r) for r in t.cells], "row_totals": list(t.row_totals),
            "column_totals": list(t.column_totals), "total": t.total,
            "row_shares": [[_share(c, rt) for c in r] for r, rt in zip(t.cells, t.row_totals)],
        }

    def margin_dict(categories, counts, total_):
        return {"categories": list(categories), "counts": list(counts), "total": total_,
                "shares": [_share(c, total_) for c in counts]}

    def dist_dict(name, categories):
        d = dists[name]
        return margin_dict(categories, d.counts, d.total)

    mapped = tables["sex_by_index"].total
    distributions = {
        "age_band": margin_dict(tables_raw["age_band_by_index"], tables["age_band_by_index"].row_totals, mapped),
        "sex": margin_dict(SEXES, tables["sex_by_index"].row_totals, mapped),
        "service_kind": margin_dict(kinds, tables["service_kind_by_index"].row_totals, mapped),
        "index": margin_dict(INDEX_CATEGORIES, tables["sex_by_index"].column_totals, mapped),
    }
    distributions.update({flag: dist_dict(f"flag:{flag}", YES_NO) for flag in FLAGS})
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "threshold": threshold,
        "index_rule": index_rule.as_dict(),
        "mapped": mapped,
        "distributions": distributions,
        "life_areas": {
            "categories": list(LEVELS),
            "rows": [{"key": area, **dist_dict(f"area:{area}", LEVELS)} for area in LIFE_AREAS],
        },
        "tables": {name: table_dict(name) for name in TABLES},
        "services": {
            "used": [{"key": key, **dist_dict(f"used:{key}", YES_NO)} for key in used_keys],
            "expected_need": [{"key": key, **dist_dict(f"need:{key}", YES_NO)} for key in need_keys],
        },
        "comparison": None,
    }
    if previous is not None:
        report["comparison"] = report_compare(report, previous)
    return report


def _share(count, total):
    if count is None or not total:
        return None
    return round(100 * count / total, 1)


def report_compare(current: Mapping, previous: Mapping) -> dict | None:
    """The change in shares (percentage points, current minus previous) for every category published
    in both reports, matched by key; ``None`` where either share is hidden or the category is missing
    from the previous report. Returns None when ``previous`` is not a BrukerPlan report.

    Shape: {"mapped": {"current": n, "previous": n}, "distributions": {NAME: {"categories": [...],
    "differences": [...]}}, "life_areas": {AREA: {"categories": [...], "differences": [...]}}}.
    """
    if not isinstance(previous, Mapping) or previous.get("schema") != SCHEMA:
        return None

    def differences(cur, prev):
        before = dict(zip(prev.get("categories", ()), prev.get("shares", ()))) if prev else {}
        diffs = []
        for key, share in zip(cur["categories"], cur["shares"]):
            old = before.get(key)
            diffs.append(None if share is None or old is None else round(share - old, 1))
        return {"categories": list(cur["categories"]), "differences": diffs}

    prev_areas = {row["key"]: row for row in previous.get("life_areas", {}).get("rows", ())}
    return {
        "mapped": {"current": current["mapped"], "previous": previous.get("mapped")},
        "distributions": {
            name: differences(dist, previous.get("distributions", {}).get(name))
            for name, dist in current["distributions"].items()
        },
        "life_areas": {row["key"]: differences(row, prev_areas.get(row["key"])) for row in current["life_areas"]["rows"]},
    }


# --- reading a stored report: labels, CSV, charts --------------------------------------------------


def category_label(kind: str, key: str, *, service_kind_labels: Mapping[str, str] | None = None,
                   service_labels: Mapping[str, str] | None = None) -> str:
    """The label of a category key in the active language (``kind`` names the table or distribution)."""
    if kind == "index":
        return str(INDEX_LABELS.get(key, key))
    if kind == "age_band":
        if key == AGE_UNKNOWN:
            return _("Age unknown")
        low, _sep, high = key.partition("-")
        if key.endswith("+"):
            return _("%(low)s years and older") % {"low": key[:-1]}
        return _("%(low)s–%(high)s years") % {"low": low, "high": high}
    if kind == "sex":
        return str(SEX_LABELS.get(key, key))
    if kind == "service_kind":
        return str((service_kind_labels or {}).get(key, key))
    if kind == "level":
        return str(LEVEL_LABELS.get(key, key))
    if kind == "life_area":
        return str(LIFE_AREA_LABELS.get(key, key))
    if kind == "service":
        return str((service_labels or {}).get(key, key))
    return str(YES_NO_LABELS.get(key, key))


def hidden_marker() -> str:
    return _("hidden")


def report_csv_rows(report: Mapping, *, service_kind_labels: Mapping[str, str] | None = None,
                    service_labels: Mapping[str, str] | None = None):
    """The report as CSV rows (lists of str/int), header first, then every table, then notes.
    A hidden count or share reads ``hidden_marker()``: not "<5", because a count hidden to protect
    a neighbour may be large, and a marker that told the two apart would point at the small ones.
    Shares are formatted in the active locale. Labels that start like a formula are quoted."""
    labels = {"service_kind_labels": service_kind_labels, "service_labels": service_labels}
    mark = hidden_marker()

    def num(value):
        return mark if value is None else value

    def pct(value):
        return mark if value is None else formats.number_format(value, 1)

    def change(value):
        return "" if value is None else formats.number_format(value, 1)

    comparison = report.get("comparison") or {}
    yield [_("Table"), _("Group"), _("Category"), _("Count"), _("Share (%)"),
           _("Change since the previous round (percentage points)")]
    yield [_("Persons mapped"), "", "", num(report["mapped"]), "", ""]
    for name, dist in report["distributions"].items():
        changes = comparison.get("distributions", {}).get(name, {}).get("differences") or [None] * len(dist["counts"])
        kind = name if name in ("age_band", "sex", "service_kind", "index") else "yes_no"
        for key, count, share, diff in zip(dist["categories"], dist["counts"], dist["shares"], changes):
            yield [_safe(TITLES[name]), "", _safe(category_label(kind, key, **labels)), num(count), pct(share), change(diff)]
    for row in report["life_areas"]["rows"]:
        changes = comparison.get("life_areas", {}).get(row["key"], {}).get("differences") or [None] * len(row["counts"])
        for key, count, share, diff in zip(row["categories"], row["counts"], row["shares"], changes):
            yield [_safe(TITLES["life_areas"]), _safe(category_label("life_area", row["key"])),
                   _safe(category_label("level", key)), num(count), pct(share), change(diff)]
    for name, table in report["tables"].items():
        row_kind = name.removesuffix("_by_index")
        for key, cells, shares, row_total in zip(table["rows"], table["cells"], table["row_shares"], table["row_totals"]):
            group = _safe(category_label(row_kind, key, **labels))
            for column, count, share in zip(table["columns"], cells, shares):
                yield [_safe(TITLES[name]), group, _safe(category_label("index", column)), num(count), pct(share), ""]
            yield [_safe(TITLES[name]), group, _("Total"), num(row_total), "", ""]
        for column, count in zip(table["columns"], table["column_totals"]):
            yield [_safe(TITLES[name]), _("Total"), _safe(category_label("index", column)), num(count), "", ""]
    for section, title in (("used", "services_used"), ("expected_need", "expected_need")):
        for row in report["services"][section]:
            yield [_safe(TITLES[title]), _safe(category_label("service", row["key"], **labels)),
                   _("Yes"), num(row["counts"][0]), pct(row["shares"][0]), ""]
    yield []
    yield [_("“%(marker)s”: fewer than %(threshold)s persons, or hidden so that a small number cannot be "
             "worked out from the totals.") % {"marker": mark, "threshold": report["threshold"]}]
    yield [index_rule_text(report["index_rule"])]


def index_rule_text(rule: Mapping) -> str:
    return _("Living-conditions index: satisfactory when no area is red and at most %(max_yellow)s are "
             "yellow; serious deficiencies when at least %(min_red)s areas are red; too few assessed when "
             "fewer than %(min_assessed)s areas have a level; extra challenges otherwise.") % {
        "max_yellow": rule["satisfactory_max_yellow"], "min_red": rule["deficient_min_red"],
        "min_assessed": rule["min_assessed"],
    }


def _safe(label) -> str:
    label = str(label)
    return "'" + label if label[:1] in ("=", "+", "-", "@") else label


# Colours reach 3:1 or more against white (WCAG 1.4.11); each level also has its own pattern and its
# name written beside the bar, so nothing is told by colour alone.
_STYLES = {
    "green": ("#1e6b34", "solid"), "satisfactory": ("#1e6b34", "solid"),
    "yellow": ("#8a5a00", "stripes"), "challenges": ("#8a5a00", "stripes"),
    "red": ("#b3261e", "cross"), "deficient": ("#b3261e", "cross"),
    "not_assessed": ("#595959", "dots"),
}


class Chart(NamedTuple):
    """An SVG chart; ``table`` names the report part that is its text alternative."""

    key: str
    title: str
    svg: str
    table: str


def report_charts(report: Mapping) -> list[Chart]:
    """Horizontal bar charts of the life-area levels and of the index: SVG with ``role="img"``,
    ``<title>`` and ``<desc>``, every bar labelled with its category and share. A hidden share
    draws no bar (its length would give the number away) and reads as hidden."""
    charts = []
    groups = [
        (category_label("life_area", row["key"]),
         [(key, category_label("level", key), share) for key, share in zip(row["categories"], row["shares"])])
        for row in report["life_areas"]["rows"]
    ]
    charts.append(Chart("life_areas", str(TITLES["life_areas"]), _bar_svg(
        "life-areas", str(TITLES["life_areas"]),
        _("Share of persons mapped at each level, for each life area. The same figures are in the table below the chart."),
        groups), "life_areas"))
    index = report["distributions"]["index"]
    groups = [("", [(key, category_label("index", key), share) for key, share in zip(index["categories"], index["shares"])])]
    charts.append(Chart("index", str(TITLES["index"]), _bar_svg(
        "index", str(TITLES["index"]),
        _("Share of persons mapped in each band of the living-conditions index. The same figures are in the table below the chart."),
        groups), "index"))
    return charts


def _bar_svg(ident: str, title: str, desc: str, groups) -> str:
    bar_h, gap, group_gap, label_w, bar_w, width = 16, 4, 14, 190, 300, 720
    rows = sum(len(bars) for _label, bars in groups) + sum(1 for label, _bars in groups if label)
    height = 10 + rows * (bar_h + gap) + len(groups) * group_gap
    mark = hidden_marker()
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="bp-{ident}-title bp-{ident}-desc">',
        f'<title id="bp-{ident}-title">{escape(title)}</title>',
        f'<desc id="bp-{ident}-desc">{escape(desc)}</desc>',
        "<defs>",
    ]
    for key, (colour, pattern) in _STYLES.items():
        pid = f"bp-{ident}-{key}"
        out.append(f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                   f'<rect width="6" height="6" fill="#ffffff"/>')
        if pattern == "solid":
            out.append(f'<rect width="6" height="6" fill="{colour}"/>')
        elif pattern == "stripes":
            out.append(f'<rect width="6" height="6" fill="{colour}" fill-opacity="0.35"/>'
                       f'<path d="M0,6 L6,0" stroke="{colour}" stroke-width="2"/>')
        elif pattern == "cross":
            out.append(f'<rect width="6" height="6" fill="{colour}" fill-opacity="0.35"/>'
                       f'<path d="M0,0 L6,6 M0,6 L6,0" stroke="{colour}" stroke-width="1.5"/>')
        else:
            out.append(f'<circle cx="3" cy="3" r="1.6" fill="{colour}"/>')
        out.append("</pattern>")
    out.append("</defs>")
    y = 10
    for label, bars in groups:
        if label:
            out.append(f'<text x="0" y="{y + bar_h - 4}" font-size="13" font-weight="bold" fill="#1a1a1a">{escape(label)}</text>')
            y += bar_h + gap
        for key, name, share in bars:
            colour = _STYLES.get(key, ("#1a1a1a", "solid"))[0]
            out.append(f'<text x="12" y="{y + bar_h - 4}" font-size="12" fill="#1a1a1a">{escape(name)}</text>')
            if share is None:
                text = mark
            else:
                length = round(bar_w * min(share, 100) / 100, 1)
                out.append(f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar_h}" '
                           f'fill="url(#bp-{ident}-{key})" stroke="{colour}" stroke-width="1"/>')
                text = f"{formats.number_format(share, 1)} %"
            out.append(f'<text x="{label_w + bar_w + 8}" y="{y + bar_h - 4}" font-size="12" fill="#1a1a1a">{escape(text)}</text>')
            y += bar_h + gap
        y += group_gap
    out.append("</svg>")
    return "".join(out)
