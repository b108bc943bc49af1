"""The stored BrukerPlan report: closing a round runs the task, which stores the report; its figures
equal a plain SQL count over the same mapping rows; progress is recorded; a cell of 3 is hidden in
the stored report and the CSV; the report pages answer 404 to everyone outside the municipality;
no person appears in the page, the CSV or the PDF.

Most tests seed the mapped rows in bulk (the mapping services are tested in test_services.py):
the report reads only mapped rows, and a few hundred persons mapped one by one would be slow.
"""
import csv
import datetime
import io
import itertools
import random
from collections import Counter

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from org.models import Service
from people.models import Person
from referrals.models import BrukerPlanMapping, BrukerPlanReport, BrukerPlanRound, LifeArea, help_kinds_encode, level_field
from tests.factories import make_org
from tests.workflows.brukerplan.scenario import NOW, make_round, map_person, person
from tests.workflows.brukerplan.test_report import plain_index as plain_index_of_areas
from workflows.brukerplan import report_document, services as svc, tasks
from workflows.brukerplan.report import LIFE_AREAS, hidden_marker


AREA_KEY = {"activity": "meaningful_activity"}
ANSWERS = ("yes", "no", "unknown")
_numbers = itertools.count()


def seed(bp, round_, n, *, seed_=1, lar_yes=None, levels=(1, 1, 2, 3)):
    """``n`` persons mapped by rus, NAV or both (about a third twice, with ties on ``mapped_at``),
    all values random but seeded; with ``lar_yes``, exactly that many persons have lar=True in every
    mapping of theirs. Names and numbers distinctive, so a leak into the output would be found."""
    rng = random.Random(seed_)
    persons = Person.objects.bulk_create([
        Person(given_name=f"Hemmelignavn{k:04d}", family_name="Lekkasjesen", national_id=f"{31129900000 + next(_numbers):011d}",
               birth_date=datetime.date(1980, 1, 1), municipality=bp.org.municipality) for k in range(n)
    ])
    rows = []
    for k, p in enumerate(persons):
        lar = (k < lar_yes) if lar_yes is not None else None
        for service in rng.choice([[bp.rus], [bp.nav], [bp.rus, bp.nav]]):
            worker = bp.rus_worker if service == bp.rus else bp.nav_worker
            fields = {level_field(area): rng.choice(levels) for area in LifeArea.values}
            rows.append(BrukerPlanMapping(
                round=round_, service=service, person=p, status="mapped", scope_reason="both", sex=rng.choice(("female", "male", "other")),
                age=rng.randint(16, 80), has_children=rng.random() < 0.3, lar=rng.random() < 0.3 if lar is None else lar,
                tsb=rng.random() < 0.4, ansvarsgruppe=rng.choice(ANSWERS), individual_plan=rng.choice(ANSWERS),
                services_used=help_kinds_encode(rng.sample(["gp", "lar", "work", "home_services"], 2)),
                expected_need=help_kinds_encode(["work"] if rng.random() < 0.5 else []),
                marked_at=NOW, marked_by=worker, mapped_at=NOW - datetime.timedelta(hours=rng.randrange(3)), mapped_by=worker, **fields,
            ))
    BrukerPlanMapping.objects.bulk_create(rows)
    return persons


def close_and_compute(bp, round_, django_capture_on_commit_callbacks):
    """Close the round as the coordinator; the task runs in-process after the commit (eager Celery)."""
    with django_capture_on_commit_callbacks(execute=True):
        svc.round_close(user=bp.coordinator, round=round_)
    return BrukerPlanReport.objects.get(round=round_)


def winners_by_sql(round_):
    """The mapping that counts per person, by a query written apart from the selector's: a window
    over each person's mapped rows, the latest ``mapped_at`` first, then the lowest service id."""
    mapping, service = BrukerPlanMapping._meta.db_table, Service._meta.db_table
    levels = ", ".join(f"m.{level_field(area)}" for area in LifeArea.values)
    sql = f"""
        SELECT sex, age, has_children, lar, tsb, ansvarsgruppe, individual_plan, kind, {levels.replace('m.', '')}
        FROM (SELECT m.sex, m.age, m.has_children, m.lar, m.tsb, m.ansvarsgruppe, m.individual_plan, s.kind, {levels},
                     row_number() OVER (PARTITION BY m.person_id ORDER BY m.mapped_at DESC, m.service_id ASC) AS rank
              FROM {mapping} m JOIN {service} s ON s.id = m.service_id
              WHERE m.round_id = %s AND m.status = 'mapped') w
        WHERE rank = 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [round_.pk])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def plain_index(levels):
    """test_report's plain index of a person's nine levels, given in LifeArea's order (the index
    reads the levels, not which area holds which)."""
    return plain_index_of_areas(dict(zip(LIFE_AREAS, levels, strict=True)))


class ReportBuildTests:
    def test_closing_the_round_stores_the_report_through_the_task(self, bp, eager_celery, django_capture_on_commit_callbacks):
        ola, kari = person(bp, datetime.date(1986, 5, 1)), person(bp, datetime.date(1996, 5, 1), given="Kari")
        serve(bp, ola)
        round_ = make_round(bp)
        map_person(bp, round_, bp.rus, ola)
        map_person(bp, round_, bp.nav, ola, sex="male")
        map_person(bp, round_, bp.rus, kari)
        report = close_and_compute(bp, round_, django_capture_on_commit_callbacks)
        assert report.status == "done" and report.computed_at is not None and report.error == ""
        assert (report.done, report.total) == (2, 2)  # ola mapped twice, counted once
        assert report.data["schema"] == "brukerplan-report"
        # Every participating service's kind is a category, however few persons it mapped.
        assert report.data["distributions"]["service_kind"]["categories"] == sorted([bp.rus.kind, bp.nav.kind])
        # Two persons: every count is a small cell, hidden.
        assert report.data["mapped"] is None

    def test_its_figures_equal_a_plain_sql_count_over_the_same_rows(self, bp, postgresql_only):
        round_ = make_round(bp)
        seed(bp, round_, 400)
        svc.round_close(user=bp.coordinator, round=round_)
        tasks.round_report_compute(round_.pk)
        data = BrukerPlanReport.objects.get(round=round_, status="done").data
        winners = winners_by_sql(round_)
        assert data["mapped"] == len(winners) == 400

        expected = {
            "sex": Counter(w["sex"] for w in winners),
            "lar": Counter("yes" if w["lar"] else "no" for w in winners),
            "tsb": Counter("yes" if w["tsb"] else "no" for w in winners),
            "has_children": Counter("yes" if w["has_children"] else "no" for w in winners),
            "ansvarsgruppe": Counter("yes" if w["ansvarsgruppe"] == "yes" else "no" for w in winners),
            "individual_plan": Counter("yes" if w["individual_plan"] == "yes" else "no" for w in winners),
            "service_kind": Counter(w["kind"] for w in winners),
            "index": Counter(plain_index([w[level_field(a)] for a in LifeArea.values]) for w in winners),
        }
        compared = 0
        for name, counts in expected.items():
            dist = data["distributions"][name]
            for key, published in zip(dist["categories"], dist["counts"]):
                if published is not None:
                    assert published == counts[key], (name, key)
                    compared += 1
        colours = {1: "green", 2: "yellow", 3: "red", None: "not_assessed"}
        for row in data["life_areas"]["rows"]:
            area = next(a for a in LifeArea.values if AREA_KEY.get(a, a) == row["key"])
            counts = Counter(colours[w[level_field(area)]] for w in winners)
            for key, published in zip(row["categories"], row["counts"]):
                if published is not None:
                    assert published == counts[key], (area, key)
                    compared += 1
        assert {row["key"] for row in data["life_areas"]["rows"]} == set(LIFE_AREAS)
        assert compared >= 40  # most of the figures are published at 400 persons, and each was checked

    def test_it_records_its_progress_while_the_rows_stream(self, bp, monkeypatch):
        round_ = make_round(bp)
        seed(bp, round_, 60)
        svc.round_close(user=bp.coordinator, round=round_)
        seen = []
        rows = svc._report_rows

        def watched(round_):
            for k, row in enumerate(rows(round_), start=1):
                if k % 20 == 0:
                    seen.append(BrukerPlanReport.objects.values_list("status", "done", "total").get(round=round_))
                yield row

        monkeypatch.setattr(svc, "_report_rows", watched)
        report = svc.report_build(round_, progress_seconds=0, progress_every=10)
        assert [s for s, _d, _t in seen] == ["running"] * 3
        assert [t for _s, _d, t in seen] == [60] * 3
        assert [d for _s, d, _t in seen] == [10, 30, 50]  # written every 10 rows, read before the next write
        assert (report.status, report.done, report.total) == ("done", 60, 60)

    def test_it_hides_a_cell_of_3_and_its_complement_in_the_store_and_the_csv(self, bp):
        round_ = make_round(bp)
        seed(bp, round_, 40, lar_yes=3)
        svc.round_close(user=bp.coordinator, round=round_)
        report = svc.report_build(round_)
        lar = report.data["distributions"]["lar"]
        assert report.data["mapped"] == 40
        # 3 in LAR is hidden; 37 not in LAR is hidden too, or 40 − 37 would give the 3 away.
        assert lar["counts"] == [None, None] and lar["shares"] == [None, None]
        rows = [r for r in report_document.csv_rows(report.data) if r and r[0] == "In opioid maintenance treatment (LAR)"]
        assert [r[3] for r in rows] == [hidden_marker(), hidden_marker()]
        assert all("3" != str(v) and "37" != str(v) for r in rows for v in r)

    def test_it_marks_the_report_failed_without_a_person_in_the_message(self, bp, monkeypatch):
        round_ = make_round(bp)
        seed(bp, round_, 10)
        svc.round_close(user=bp.coordinator, round=round_)

        def broken(round_):
            raise RuntimeError("Hemmelignavn0001")

        monkeypatch.setattr(svc, "_report_rows", broken)
        report = svc.report_build(round_)
        assert report.status == "failed" and "RuntimeError" in report.error and "Hemmelignavn" not in report.error

    def test_it_compares_with_the_previous_rounds_stored_report(self, bp):
        first = make_round(bp, title="BrukerPlan 2025")
        seed(bp, first, 100, seed_=2)
        first = svc.round_close(user=bp.coordinator, round=first)
        svc.report_build(first)
        second = make_round(bp, previous_round=first)
        seed(bp, second, 100, seed_=3)
        svc.round_close(user=bp.coordinator, round=second)
        data = svc.report_build(second).data
        before = BrukerPlanReport.objects.get(round=first).data
        assert data["comparison"]["mapped"] == {"current": 100, "previous": 100}
        compared = 0
        for name in ("sex", "index", "lar"):
            now, then = data["distributions"][name], before["distributions"][name]
            previous_share = dict(zip(then["categories"], then["shares"]))
            diff = data["comparison"]["distributions"][name]
            assert diff["categories"] == now["categories"]
            for key, count, share, difference in zip(now["categories"], now["counts"], now["shares"], diff["differences"]):
                if difference is not None:
                    assert share == round(100 * count / 100, 1)  # the share is of the 100 persons mapped
                    assert difference == round(share - previous_share[key], 1), (name, key)
                    compared += 1
        assert compared >= 4

    def test_it_is_not_built_for_an_open_round(self, bp):
        round_ = make_round(bp)
        assert svc.report_build(round_) is None
        assert not BrukerPlanReport.objects.filter(round=round_).exists()


class ReportRecomputeTests:
    def test_the_coordinator_recomputes_a_failed_report(self, bp, django_capture_on_commit_callbacks, monkeypatch):
        enqueued = []
        monkeypatch.setattr(tasks.round_report_compute, "delay", lambda round_id: enqueued.append(round_id))
        round_ = make_round(bp)
        svc.round_close(user=bp.coordinator, round=round_)
        BrukerPlanReport.objects.create(round=round_, status="failed", error="x")
        with django_capture_on_commit_callbacks(execute=True):
            report = svc.report_recompute(user=bp.coordinator, round=round_)
        assert report.status == "pending" and report.error == "" and enqueued[-1] == round_.pk

    def test_it_refuses_a_participating_service_and_an_open_round(self, bp):
        from django.core.exceptions import ValidationError

        round_ = make_round(bp)
        with pytest.raises(ValidationError):
            svc.report_recompute(user=bp.coordinator, round=round_)
        svc.round_close(user=bp.coordinator, round=round_)
        with pytest.raises(ValidationError):
            svc.report_recompute(user=bp.rus_worker, round=round_)
        assert not BrukerPlanReport.objects.filter(round=round_).exists()


@pytest.fixture
def done_round(bp):
    round_ = make_round(bp)
    persons = seed(bp, round_, 120)
    svc.round_close(user=bp.coordinator, round=round_)
    svc.report_build(round_)
    return round_, persons


def urls(round_):
    return [reverse(f"brukerplan:{name}", args=[round_.code]) for name in ("report", "report_progress", "report_csv", "report_pdf")]


class ReportPageTests:
    def test_the_coordinator_reads_the_report_with_charts_tables_and_the_index_rule(self, bp, client, done_round):
        round_, _persons = done_round
        client.force_login(bp.coordinator)
        page = client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()
        assert page.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
        assert 'data-testid="report-table-sex_by_index"' in page and 'data-testid="report-index-rule"' in page
        assert page.count('<table class="sh-table">') == 15  # every chart has its table, and every figure is in one
        assert reverse("brukerplan:report_csv", args=[round_.code]) in page

    def test_anyone_in_the_municipality_reads_a_done_report_and_its_downloads(self, bp, client, done_round):
        round_, _persons = done_round
        client.force_login(bp.org.reporter)  # a barnehage: no role on the round, but in the municipality
        for url in urls(round_):
            assert client.get(url).status_code == 200, url
        csv_response = client.get(reverse("brukerplan:report_csv", args=[round_.code]))
        assert csv_response["Content-Type"].startswith("text/csv") and csv_response.streaming
        pdf_response = client.get(reverse("brukerplan:report_pdf", args=[round_.code]))
        assert pdf_response["Content-Type"] == "application/pdf" and pdf_response.content.startswith(b"%PDF")

    def test_outsiders_get_404_on_every_report_url(self, bp, client, done_round):
        round_, _persons = done_round
        elsewhere = make_org("9997")
        client.force_login(elsewhere.reporter)
        for url in urls(round_) + [reverse("brukerplan:report_recompute", args=[round_.code])]:
            response = client.post(url) if url.endswith("beregn-pa-nytt/") else client.get(url)
            assert response.status_code == 404, url

    def test_a_forged_code_and_a_municipality_member_before_it_is_done_get_404(self, bp, client):
        import uuid

        round_ = make_round(bp)
        svc.round_close(user=bp.coordinator, round=round_)
        client.force_login(bp.org.reporter)
        for url in urls(round_):
            assert client.get(url).status_code == 404, url
        client.force_login(bp.coordinator)
        assert client.get(reverse("brukerplan:report", args=[uuid.uuid4()])).status_code == 404
        # The coordinator sees the pending report's progress, and no download yet.
        progress = client.get(reverse("brukerplan:report_progress", args=[round_.code])).json()
        assert progress["status"] == "pending" and progress["percent"] == 0
        page = client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()
        assert '<progress id="bp-report-progress" max="100" value="0"' in page and '<label for="bp-report-progress">' in page
        assert client.get(reverse("brukerplan:report_csv", args=[round_.code])).status_code == 404

    def test_a_readers_progress_of_a_round_of_3_gives_no_count(self, bp, client):
        # The report hides a mapped count of 3; the progress address must not give it away.
        round_ = make_round(bp)
        seed(bp, round_, 3)
        svc.round_close(user=bp.coordinator, round=round_)
        report = svc.report_build(round_)
        assert report.data["mapped"] is None
        client.force_login(bp.org.reporter)  # a barnehage: a reader of the municipality
        body = client.get(reverse("brukerplan:report_progress", args=[round_.code])).json()
        assert set(body) == {"status", "percent", "label"}
        assert (body["status"], body["percent"]) == ("done", 100) and "3" not in body["label"]

    def test_only_the_coordinator_may_ask_for_a_recompute(self, bp, client, done_round):
        round_, _persons = done_round
        client.force_login(bp.rus_worker)
        assert client.post(reverse("brukerplan:report_recompute", args=[round_.code])).status_code == 404
        client.force_login(bp.coordinator)
        assert client.post(reverse("brukerplan:report_recompute", args=[round_.code])).status_code == 302

    def test_no_person_appears_in_the_page_the_csv_or_the_pdf(self, bp, client, done_round, monkeypatch):
        from consent import pdf as layout
        from tests.consent.test_transparency_report import pdf_lines

        monkeypatch.setattr(layout, "FONT_DIR", "/nonexistent")  # the standard font: readable text
        round_, persons = done_round
        client.force_login(bp.coordinator)
        page = client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()
        csv_text = b"".join(client.get(reverse("brukerplan:report_csv", args=[round_.code])).streaming_content).decode("utf-8-sig")
        report = BrukerPlanReport.objects.get(round=round_)
        with translation.override("en"):
            pdf_text = "\n".join(pdf_lines(report_document.report_pdf(round_, report, compress=False)))
        assert "Persons mapped: 120" in pdf_text
        mapping_codes = [str(c) for c in BrukerPlanMapping.objects.filter(round=round_).values_list("code", flat=True)]
        assert len(list(csv.reader(io.StringIO(csv_text), delimiter=";"))) > 100
        for output in (page, csv_text, pdf_text, str(report.data)):
            assert "Hemmelignavn" not in output and "Lekkasjesen" not in output
            for p in persons[:20]:
                assert p.national_id not in output and str(p.code) not in output
            assert not any(code in output for code in mapping_codes[:20])


class ReadersFindTheReportTests:
    """A member of the municipality with no role on the round reads its report once it has figures:
    the rounds list shows it, the menu leads there, and the report's page leads back to the list."""

    def test_a_reader_finds_the_municipalitys_reports_on_the_rounds_list_and_in_the_menu(self, bp, client, done_round):
        round_, _persons = done_round
        waiting = make_round(bp, title="BrukerPlan 2027")
        svc.round_close(user=bp.coordinator, round=waiting)  # closed, no figures yet: not listed
        client.force_login(bp.org.reporter)  # a barnehage worker: a reader of the municipality
        html = client.get(reverse("brukerplan:index")).content.decode()
        assert html.count('data-testid="report-row"') == 1
        assert f'href="{reverse("brukerplan:report", args=[round_.code])}"' in html
        assert reverse("brukerplan:report", args=[waiting.code]) not in html
        assert 'data-testid="menu-brukerplan"' in html and 'data-testid="round-new"' not in html

    def test_an_outsider_finds_no_report_and_no_section(self, bp, client, done_round):
        round_, _persons = done_round
        client.force_login(make_org("9997").reporter)
        html = client.get(reverse("brukerplan:index")).content.decode()
        assert 'data-testid="report-row"' not in html and reverse("brukerplan:report", args=[round_.code]) not in html
        assert 'data-testid="menu-brukerplan"' not in html

    def test_the_report_leads_a_reader_back_to_the_list_and_the_coordinator_to_the_round(self, bp, client, done_round):
        round_, _persons = done_round
        round_url, index_url = reverse("brukerplan:round", args=[round_.code]), reverse("brukerplan:index")

        def back(user):
            client.force_login(user)
            html = client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()
            return html.split('data-testid="report-back">', 1)[1].split("</p>", 1)[0]

        assert f'href="{index_url}"' in back(bp.org.reporter) and round_url not in back(bp.org.reporter)
        assert client.get(round_url).status_code == 404  # why: the reader has no round page
        assert f'href="{round_url}"' in back(bp.coordinator)


def serve(bp, p):
    """ola is served by NAV too, so NAV may map him."""
    from tests.workflows.brukerplan.scenario import serve as serve_

    serve_(bp, p, bp.nav)


def at(minutes: float = 0, seconds: float = 0):
    """Frozen time ``minutes`` and ``seconds`` after the scenario's now."""
    import time_machine

    return time_machine.travel(NOW + datetime.timedelta(minutes=minutes, seconds=seconds), tick=False)


def stored(round_):
    return BrukerPlanReport.objects.get(round=round_)


class ReportClaimTests:
    """Which report a task may claim: none yet, pending, or running with no progress for
    REPORT_STALE_AFTER; never a done report (a redelivered task) nor a failed one (the coordinator
    recomputes)."""

    def test_a_redelivered_task_leaves_a_done_report_as_it_is(self, bp, done_round):
        round_, _persons = done_round
        before = stored(round_)
        with at(minutes=30):
            assert svc.report_build(round_) is None
            tasks.round_report_compute(round_.pk)
        after = stored(round_)
        assert (after.status, after.started_at, after.computed_at, after.data) == ("done", before.started_at, before.computed_at, before.data)

    def test_a_task_leaves_a_failed_report_for_the_coordinator(self, bp):
        round_ = make_round(bp)
        svc.round_close(user=bp.coordinator, round=round_)
        BrukerPlanReport.objects.create(round=round_, status="failed", error="x", progress_at=NOW)
        with at(minutes=30):
            assert svc.report_build(round_) is None
        assert (stored(round_).status, stored(round_).error) == ("failed", "x")

    def test_it_takes_over_a_computation_gone_stale_and_not_a_live_one(self, bp):
        round_ = make_round(bp)
        seed(bp, round_, 10)
        svc.round_close(user=bp.coordinator, round=round_)
        first = svc._report_claim(round_)  # its worker is then killed
        with at(minutes=9):
            assert svc.report_build(round_) is None
            assert stored(round_).started_at == first.started_at
        with at(minutes=11):
            report = svc.report_build(round_)
        assert report.status == "done" and report.started_at == NOW + datetime.timedelta(minutes=11)


class ReportRecomputeKeepsTheFiguresTests:
    def test_readers_keep_the_page_csv_and_pdf_while_it_is_computed_again(self, bp, client, done_round, django_capture_on_commit_callbacks):
        round_, _persons = done_round
        before = stored(round_)
        with at(minutes=5):
            with django_capture_on_commit_callbacks(execute=False):
                svc.report_recompute(user=bp.coordinator, round=round_)
            client.force_login(bp.org.reporter)  # a barnehage: reads the municipality's report
            for claimed in (False, True):
                if claimed:
                    svc._report_claim(round_)
                assert stored(round_).status == ("running" if claimed else "pending")
                page = client.get(reverse("brukerplan:report", args=[round_.code]))
                assert page.status_code == 200
                html = page.content.decode()
                assert 'data-testid="report-mapped">120<' in html and 'data-testid="report-kept"' in html
                assert '<progress id="bp-report-progress"' in html  # the new computation's progress above the figures
                assert client.get(reverse("brukerplan:report_csv", args=[round_.code])).status_code == 200
                assert client.get(reverse("brukerplan:report_pdf", args=[round_.code])).status_code == 200
            client.force_login(bp.coordinator)  # the round's page links the figures kept
            html = client.get(reverse("brukerplan:round", args=[round_.code])).content.decode()
            assert 'data-testid="report-kept"' in html and f'href="{reverse("brukerplan:report", args=[round_.code])}"' in html
        report = stored(round_)
        assert (report.data, report.computed_at) == (before.data, before.computed_at)

    def test_a_failed_recompute_keeps_the_figures_and_says_it_failed(self, bp, client, done_round, monkeypatch):
        round_, _persons = done_round
        before = stored(round_)

        def broken(round_):
            raise RuntimeError("boom")

        with at(minutes=5):
            svc.report_recompute(user=bp.coordinator, round=round_)
            monkeypatch.setattr(svc, "_report_rows", broken)
            report = svc.report_build(round_)
            assert report.status == "failed" and (report.data, report.computed_at) == (before.data, before.computed_at)
            client.force_login(bp.org.reporter)
            html = client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()
        assert 'data-testid="report-mapped">120<' in html and 'role="alert"' in html


class ReportFenceTests:
    def test_a_stale_worker_cannot_overwrite_the_run_that_took_over(self, bp, monkeypatch):
        round_ = make_round(bp)
        seed(bp, round_, 40)
        svc.round_close(user=bp.coordinator, round=round_)
        rows = svc._report_rows
        newer = []

        def slow(round_):
            for k, row in enumerate(rows(round_), start=1):
                if k == 15:  # the worker stalls; eleven minutes on, another run takes the report over
                    with at(minutes=11):
                        newer.append(svc._report_claim(round_))
                yield row

        monkeypatch.setattr(svc, "_report_rows", slow)
        returned = svc.report_build(round_, progress_seconds=0, progress_every=10)
        report = stored(round_)
        assert newer[0] is not None and report.started_at == newer[0].started_at == NOW + datetime.timedelta(minutes=11)
        assert (report.status, report.done, report.data, report.computed_at) == ("running", 0, None, None)
        assert returned.started_at == newer[0].started_at

    def test_a_stale_worker_cannot_mark_the_newer_run_failed(self, bp, monkeypatch):
        round_ = make_round(bp)
        seed(bp, round_, 10)
        svc.round_close(user=bp.coordinator, round=round_)

        def taken_over_then_broken(round_):
            with at(minutes=11):
                svc._report_claim(round_)
            raise RuntimeError("late")

        monkeypatch.setattr(svc, "_report_rows", taken_over_then_broken)
        svc.report_build(round_)
        assert (stored(round_).status, stored(round_).error) == ("running", "")

    def test_an_error_storing_the_result_marks_the_report_failed(self, bp, monkeypatch):
        round_ = make_round(bp)
        seed(bp, round_, 10)
        svc.round_close(user=bp.coordinator, round=round_)
        monkeypatch.setattr(svc, "report_compute", lambda rows, **kwargs: {"mapped": 10, "unstorable": object()})
        report = svc.report_build(round_)
        assert report.status == "failed" and "TypeError" in report.error and report.data is None


class ReportRequeueTests:
    """The beat's safety net: a report whose task was lost, or whose worker died, is enqueued again."""

    def closed(self, bp, *, minutes_ago=0.0):
        round_ = make_round(bp, open_=False)
        BrukerPlanRound.objects.filter(pk=round_.pk).update(status="closed", closed_at=NOW - datetime.timedelta(minutes=minutes_ago))
        return round_

    def report(self, bp, status, minutes_ago, **fields):
        round_ = self.closed(bp, minutes_ago=minutes_ago + 1)
        at_ = NOW - datetime.timedelta(minutes=minutes_ago)
        if status == "done":
            fields.update(data={"schema": "brukerplan-report"}, computed_at=at_)
        BrukerPlanReport.objects.create(round=round_, status=status, progress_at=at_, started_at=at_, **fields)
        return round_

    def test_it_enqueues_again_the_reports_that_wait_too_long_and_no_other(self, bp, monkeypatch, django_capture_on_commit_callbacks):
        enqueued = []
        monkeypatch.setattr(tasks.round_report_compute, "delay", lambda round_id: enqueued.append(round_id))
        lost_message = self.report(bp, "pending", 2)
        waiting = self.report(bp, "pending", 0.5)
        dead_worker = self.report(bp, "running", 11)
        working = self.report(bp, "running", 8)
        done = self.report(bp, "done", 60)
        failed = self.report(bp, "failed", 60)
        never_started = self.closed(bp, minutes_ago=2)
        just_closed = self.closed(bp, minutes_ago=0.5)
        with django_capture_on_commit_callbacks(execute=True):
            assert svc.report_requeue_due() == 3
        assert sorted(enqueued) == sorted([lost_message.pk, dead_worker.pk, never_started.pk])
        for round_ in (lost_message, dead_worker, never_started):
            assert (stored(round_).status, stored(round_).progress_at) == ("pending", NOW)
        assert [stored(r).status for r in (waiting, working, done, failed)] == ["pending", "running", "done", "failed"]
        assert not BrukerPlanReport.objects.filter(round=just_closed).exists()
        # Enqueued again at most once a minute while no worker takes them.
        with django_capture_on_commit_callbacks(execute=True):
            assert svc.report_requeue_due() == 0
        with at(minutes=1, seconds=1), django_capture_on_commit_callbacks(execute=True):
            assert svc.report_requeue_due() == 5  # the three again, the waiting one, the one closed just now

    def test_a_lost_enqueue_delays_the_report_and_never_loses_it(self, bp, eager_celery, django_capture_on_commit_callbacks):
        round_ = make_round(bp)
        seed(bp, round_, 10)
        with django_capture_on_commit_callbacks(execute=False):  # the close's message is lost
            svc.round_close(user=bp.coordinator, round=round_)
        assert not BrukerPlanReport.objects.filter(round=round_).exists()
        with at(minutes=2), django_capture_on_commit_callbacks(execute=True):
            assert tasks.reports_requeue.apply().get() == 1
        assert stored(round_).status == "done" and stored(round_).data["mapped"] == 10

    def test_the_beat_runs_it_each_minute_on_the_sweeps_queue(self):
        from config.celery import BEAT_SCHEDULE, TASK_ROUTES

        entries = [e for e in BEAT_SCHEDULE.values() if e["task"] == "workflows.brukerplan.tasks.reports_requeue"]
        assert [e["schedule"] for e in entries] == [60.0]
        assert TASK_ROUTES["workflows.brukerplan.tasks.reports_requeue"] == {"queue": "sweeps"}


class ReportRecomputeButtonTests:
    def page(self, client, round_):
        return client.get(reverse("brukerplan:report", args=[round_.code])).content.decode()

    def test_the_coordinator_is_offered_a_recompute_of_a_report_that_waits_or_runs_too_long(self, bp, client):
        from tests.factories import member

        round_ = make_round(bp)
        svc.round_close(user=bp.coordinator, round=round_)
        report = BrukerPlanReport.objects.create(round=round_, status="pending", progress_at=NOW)
        client.force_login(bp.coordinator)
        assert 'data-testid="report-recompute"' not in self.page(client, round_)
        with at(minutes=2):
            assert 'data-testid="report-recompute"' in self.page(client, round_)
        BrukerPlanReport.objects.filter(pk=report.pk).update(status="running", started_at=NOW, progress_at=NOW)
        with at(minutes=9):
            assert 'data-testid="report-recompute"' not in self.page(client, round_)
        with at(minutes=11):
            assert 'data-testid="report-recompute"' in self.page(client, round_)
            client.force_login(member(bp.coordination))  # the coordinating service's staff: not the coordinator
            assert 'data-testid="report-recompute"' not in self.page(client, round_)
