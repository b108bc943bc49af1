#!/usr/bin/env python
"""Benchmark the BrukerPlan report's pure computation (workflows/brukerplan/report.py), no database.

Run by hand (pytest does not collect it):

    .venv/bin/python bench/bench_brukerplan_report.py --rows 60000 --runs 3

Builds ``--rows`` seeded mapping rows (about 5 % of persons mapped twice, so the dedupe works), then
times ``report_compute`` (dedupe, counts, suppression of every table, comparison with a previous
report), ``report_csv_rows`` and ``report_charts``, printing the median of ``--runs`` and the
progress calls. The round's Celery task adds the query that reads the rows; this measures the rest.
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from workflows.brukerplan.report import (  # noqa: E402
    LIFE_AREAS, MappingRow, report_charts, report_compute, report_csv_rows,
)


def rows(n, seed):
    rng = random.Random(seed)
    start = datetime(2024, 12, 1, 8)
    return [
        MappingRow(
            person_id=k if rng.random() > 0.05 else rng.randrange(n), service_id=rng.randint(1, 40),
            service_kind=rng.choice(("rustjeneste", "nav", "fastlege", "barnevern", "other")),
            mapped_at=start + timedelta(minutes=rng.randrange(20000)), sex=rng.choice(("female", "male", "male", "other")),
            age=rng.randint(16, 90), has_children=rng.random() < 0.1,
            levels={area: rng.choice((1, 1, 2, 3, None)) for area in LIFE_AREAS}, lar=rng.random() < 0.2,
            tsb=rng.random() < 0.3, ansvarsgruppe=rng.random() < 0.6, individual_plan=rng.random() < 0.4,
            services_used=tuple(rng.sample(("lar", "dps", "bolig", "nav_tiltak", "hjemmetjeneste"), 2)),
            expected_need=("bolig",) if rng.random() < 0.5 else (),
        )
        for k in range(n)
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = rows(args.rows, seed=1)
    previous = report_compute(rows(args.rows // 2, seed=2))
    times, calls = [], []
    for _ in range(args.runs):
        calls.clear()
        started = time.perf_counter()
        report = report_compute(data, previous=previous, progress=lambda done, total: calls.append(done))
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    csv_rows = list(report_csv_rows(report))
    csv_time = time.perf_counter() - started
    started = time.perf_counter()
    charts = report_charts(report)
    chart_time = time.perf_counter() - started
    print(f"rows {args.rows}, persons {report['mapped']}: report_compute median {statistics.median(times):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}), {len(calls)} progress calls")
    print(f"report_csv_rows {len(csv_rows)} rows in {csv_time * 1000:.1f} ms; "
          f"report_charts {len(charts)} charts in {chart_time * 1000:.1f} ms")


if __name__ == "__main__":
    main()
