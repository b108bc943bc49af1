"""The stored report's cross tables, age bands and services, against a count written apart from the
code, over a round whose own scale is not the defaults' (a fourth level, and level 3 counted green):
the report counts each level by its colour on the round's scale, not by its number."""
from collections import Counter

from django.db import connection

from referrals.models import BrukerPlanMapping, BrukerPlanReport, BrukerPlanScaleLevel, LifeArea, help_kinds_decode, level_field
from tests.workflows.brukerplan.scenario import make_round
from tests.workflows.brukerplan.test_report import plain_band as band
from tests.workflows.brukerplan.test_report_store import plain_index, seed, winners_by_sql
from workflows.brukerplan import services as svc, tasks

# The round's scale in this test, by level number: the colour's place in the index (1 green, 2 yellow, 3 red).
SCALE = {1: 1, 2: 2, 3: 1, 4: 3}


def help_by_sql(round_) -> list[tuple[int, int]]:
    """(services used, expected need) bit sets of each person's counted mapping: the same window as
    winners_by_sql, in its own query."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT services_used, expected_need FROM (
                SELECT services_used, expected_need,
                       row_number() OVER (PARTITION BY person_id ORDER BY mapped_at DESC, service_id ASC) AS rank
                FROM {BrukerPlanMapping._meta.db_table} WHERE round_id = %s AND status = 'mapped') w
            WHERE rank = 1""", [round_.pk])
        return cursor.fetchall()


def compare_table(table, expected: Counter) -> int:
    compared = 0
    for row, cells in zip(table["rows"], table["cells"]):
        for column, published in zip(table["columns"], cells):
            if published is not None:
                assert published == expected[(row, column)], (row, column)
                compared += 1
    return compared


class ReportFiguresTests:
    def test_its_cross_tables_age_bands_and_services_equal_a_plain_count_on_the_rounds_own_scale(self, bp, postgresql_only):
        round_ = make_round(bp)
        BrukerPlanScaleLevel.objects.filter(round=round_, level=3).update(colour="green")
        BrukerPlanScaleLevel.objects.bulk_create([
            BrukerPlanScaleLevel(round=round_, area=area, level=4, colour="red", description="Alvorlige problemer") for area in LifeArea.values
        ])
        seed(bp, round_, 500, seed_=7, levels=(1, 2, 3, 4, 4))
        svc.round_close(user=bp.coordinator, round=round_)
        tasks.round_report_compute(round_.pk)
        data = BrukerPlanReport.objects.get(round=round_, status="done").data
        winners = winners_by_sql(round_)
        assert data["mapped"] == len(winners) == 500

        index = [plain_index([SCALE[w[level_field(a)]] for a in LifeArea.values]) for w in winners]
        assert "deficient" in index and "satisfactory" in index  # level 3 counted green, 4 red: both occur
        compared = compare_table(data["tables"]["age_band_by_index"], Counter((band(w["age"]), i) for w, i in zip(winners, index)))
        compared += compare_table(data["tables"]["sex_by_index"], Counter((w["sex"], i) for w, i in zip(winners, index)))
        compared += compare_table(data["tables"]["service_kind_by_index"], Counter((w["kind"], i) for w, i in zip(winners, index)))
        ages = Counter(band(w["age"]) for w in winners)
        dist = data["distributions"]["age_band"]
        for key, published in zip(dist["categories"], dist["counts"]):
            if published is not None:
                assert published == ages[key], key
                compared += 1
        colours = {1: "green", 2: "yellow", 3: "red"}
        housing = next(row for row in data["life_areas"]["rows"] if row["key"] == "housing")
        counts = Counter(colours[SCALE[w[level_field("housing")]]] for w in winners)
        for key, published in zip(data["life_areas"]["categories"], housing["counts"]):
            if published is not None:
                assert published == counts[key], key
                compared += 1
        helps = help_by_sql(round_)
        for name, column in (("used", 0), ("expected_need", 1)):
            for entry in data["services"][name]:
                having = sum(entry["key"] in help_kinds_decode(row[column]) for row in helps)
                for key, published in zip(entry["categories"], entry["counts"]):
                    if published is not None:
                        assert published == (having if key == "yes" else len(helps) - having), (name, entry["key"], key)
                        compared += 1
        assert compared >= 40
