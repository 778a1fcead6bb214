"""The staff reports: figures (on SQLite and PostgreSQL), the admin page, its CSV, the `report` command."""

import csv
import io
import zoneinfo
from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.tests.factories import UserFactory
from analyses import reports
from analyses.models import Analysis
from analyses.tests.factories import VideoFactory
from analyses.tests.stats_factories import analysis_at

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
RANGE = reports.DateRange(start=date(2025, 3, 1), end=date(2025, 3, 3), tz=TOKYO)


def tokyo(d, hh=12, mm=0):
    return datetime(2025, 3, d, hh, mm, tzinfo=TOKYO) if d > 0 else datetime(2025, 2, 28, hh, mm, tzinfo=TOKYO)


@pytest.fixture
def prices(settings):
    settings.GEMINI_PRICE_INPUT_PER_MTOK = 1.0
    settings.GEMINI_PRICE_OUTPUT_PER_MTOK = 10.0


@pytest.fixture
def data(prices):
    """Three days in Tokyo, two dancers, two videos, and rows just outside the range."""
    alice, bob = UserFactory(), UserFactory()
    chorus, intro = VideoFactory(title="Chorus"), VideoFactory(title="Intro")
    done = Analysis.Status.COMPLETED
    failed = Analysis.Status.FAILED
    # 1 March
    analysis_at(tokyo(1, 0, 0), user=alice, video=chorus, score=95, latency_ms=100)
    analysis_at(
        tokyo(1, 10),
        user=alice,
        video=chorus,
        score=100,
        latency_ms=200,
        provider="gemini",
        input_tokens=1000,
        output_tokens=200,
    )
    analysis_at(
        tokyo(1, 11), user=bob, video=chorus, status=failed, error_code="timeout", provider="gemini", input_tokens=50
    )
    # 3 March
    analysis_at(tokyo(3, 9), user=bob, video=intro, score=5, latency_ms=300)
    analysis_at(tokyo(3, 10), user=bob, video=intro, score=55, latency_ms=0, cached=True)
    analysis_at(
        tokyo(3, 11),
        user=bob,
        video=chorus,
        score=19,
        latency_ms=1000,
        provider="gemini",
        input_tokens=3000,
        output_tokens=400,
    )
    analysis_at(tokyo(3, 23, 59), user=alice, video=intro, status=failed, error_code="pose_not_visible")
    analysis_at(tokyo(3, 23, 59), user=alice, video=intro, status=failed, error_code="timeout")
    analysis_at(tokyo(3, 12), user=alice, video=intro, status=Analysis.Status.PENDING)
    # Outside: 28 February 23:59 and 4 March 00:00 in Tokyo.
    analysis_at(tokyo(0, 23, 59), user=bob, video=intro, score=0, latency_ms=9999, input_tokens=10**6)
    analysis_at(datetime(2025, 3, 4, 0, 0, tzinfo=TOKYO), score=0, latency_ms=9999)
    assert done  # the default status of analysis_at
    return {"alice": alice, "bob": bob, "chorus": chorus, "intro": intro}


def test_totals_count_the_range_in_the_reports_time_zone(data):
    totals = reports.report_build(RANGE)["totals"]
    assert totals["analyses"] == 9
    assert totals["completed"] == 5
    assert totals["failed"] == 3
    assert totals["unfinished"] == 1
    assert totals["active_users"] == 2
    assert totals["average_score"] == 54.8  # (95 + 100 + 5 + 55 + 19) / 5
    assert totals["failure_rate"] == round(3 / 8, 4)
    assert totals["cache_hits"] == 1
    assert totals["cache_hit_rate"] == 0.2


def test_latency_percentiles_skip_cache_hits_and_interpolate_like_percentile_cont(data):
    totals = reports.report_build(RANGE)["totals"]
    # Analyzer latencies 100, 200, 300, 1000 ms.
    assert totals["latency_p50_ms"] == 250.0
    assert totals["latency_p95_ms"] == 895.0  # 300 + 0.85 * 700


def test_gemini_tokens_and_the_estimated_cost_use_the_prices_from_settings(data):
    totals = reports.report_build(RANGE)["totals"]
    assert (totals["input_tokens"], totals["output_tokens"]) == (4050, 600)
    assert totals["gemini_analyses"] == 3
    assert totals["estimated_cost_usd"] == round(4050 / 1e6 * 1.0 + 600 / 1e6 * 10.0, 4)


def test_analyses_per_day_include_days_without_any(data):
    daily = reports.report_build(RANGE)["daily"]
    assert [d["date"] for d in daily] == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    first, second, third = daily
    assert (first["analyses"], first["completed"], first["failed"]) == (3, 2, 1)
    assert first["average_score"] == 97.5
    assert (first["input_tokens"], first["output_tokens"]) == (1050, 200)
    assert (second["analyses"], second["average_score"]) == (0, None)
    assert (third["analyses"], third["failed"]) == (6, 2)


def test_the_score_distribution_has_ten_bins_with_100_in_the_last(data):
    distribution = reports.report_build(RANGE)["score_distribution"]
    assert [b["bin"] for b in distribution] == [
        "0-9",
        "10-19",
        "20-29",
        "30-39",
        "40-49",
        "50-59",
        "60-69",
        "70-79",
        "80-89",
        "90-100",
    ]
    counts = {b["bin"]: b["analyses"] for b in distribution}
    assert counts == {**{b["bin"]: 0 for b in distribution}, "0-9": 1, "10-19": 1, "50-59": 1, "90-100": 2}


def test_failures_are_broken_down_by_error_code(data):
    failures = reports.report_build(RANGE)["failures_by_code"]
    assert failures == [
        {"error_code": "timeout", "analyses": 2, "share_of_failures": round(2 / 3, 4)},
        {"error_code": "pose_not_visible", "analyses": 1, "share_of_failures": round(1 / 3, 4)},
    ]


def test_top_videos_are_ranked_by_analyses(data):
    top = reports.report_build(RANGE)["top_videos"]
    assert [(v["title"], v["analyses"], v["users"]) for v in top] == [("Intro", 5, 2), ("Chorus", 4, 2)]
    assert top[0]["average_score"] == 30.0  # 5 and 55
    assert top[1]["youtube_id"] == data["chorus"].youtube_id


def test_an_empty_range_gives_zeros_not_errors(db):
    report = reports.report_build(RANGE)
    assert report["totals"]["analyses"] == 0
    assert report["totals"]["failure_rate"] is None
    assert report["totals"]["latency_p50_ms"] is None
    assert report["totals"]["estimated_cost_usd"] == 0
    assert len(report["daily"]) == 3


def test_the_report_runs_a_bounded_number_of_queries(data, django_assert_max_num_queries):
    # Totals (with the percentiles on PostgreSQL), per day, bins, failures, top videos and their
    # details, deleted accounts' counts per day; elsewhere the percentiles add a count and one query
    # per percentile. The AI budget adds four: its caps, today's and this month's spend, the top
    # dancers by spend, the count of its fallbacks.
    expected = (7 if connection.vendor == "postgresql" else 10) + 4
    with django_assert_max_num_queries(expected):
        reports.report_build(RANGE)
    with django_assert_max_num_queries(expected):
        reports.report_build(reports.DateRange(start=date(2024, 3, 1), end=date(2025, 3, 3), tz=TOKYO))


def test_the_latency_fallback_matches_percentile_cont_on_odd_and_single_counts(db):
    for value in (7, 3, 11):
        analysis_at(tokyo(2), latency_ms=value)
    assert reports.latency_percentiles(Analysis.objects.all()) == {"p50": 7.0, "p95": 10.6}
    Analysis.objects.exclude(latency_ms=3).delete()
    Analysis.objects.update(latency_ms=3)
    assert reports.latency_percentiles(Analysis.objects.all()) == {"p50": 3.0, "p95": 3.0}


# --- CSV --------------------------------------------------------------------------------------


def csv_rows(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(reports.CSV_HEADER)
    return {(section, key, metric): value for section, key, metric, value in rows[1:]}


def test_the_csv_holds_the_same_figures(data):
    report = reports.report_build(RANGE)
    rows = csv_rows(reports.report_csv(report))
    assert rows[("totals", "", "analyses")] == "9"
    assert rows[("totals", "", "latency_p95_ms")] == "895.0"
    assert rows[("daily", "2025-03-02", "analyses")] == "0"
    assert rows[("daily", "2025-03-03", "failed")] == "2"
    assert rows[("score_distribution", "90-100", "analyses")] == "2"
    assert rows[("failures_by_code", "timeout", "analyses")] == "2"
    assert rows[("top_videos", data["intro"].youtube_id, "title")] == "Intro"


def test_a_title_that_looks_like_a_formula_is_defused_in_the_csv(db):
    analysis_at(tokyo(1), video=VideoFactory(title="=HYPERLINK(1)"))
    text = reports.report_csv(reports.report_build(RANGE))
    assert "'=HYPERLINK(1)" in text


# --- the admin page -------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    return client


def test_the_admin_index_links_to_the_reports(staff_client):
    page = staff_client.get("/admin/").content.decode()
    assert 'href="/admin/reports/"' in page


def test_the_reports_page_shows_the_figures_and_charts(staff_client, data):
    response = staff_client.get("/admin/reports/", {"start": "2025-03-01", "end": "2025-03-03"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="analyses">9<' in page
    assert 'data-figure="active_users">2<' in page
    assert 'data-figure="latency_p50_ms">250.0<' in page
    assert 'id="chart-daily"' in page and 'id="chart-scores"' in page
    assert "analyses/chart.umd.min.js" in page
    assert 'id="report-data"' in page
    assert "cdn" not in page.lower()


def test_the_reports_page_defaults_to_the_last_30_days(staff_client, db):
    response = staff_client.get("/admin/reports/")
    assert response.status_code == 200
    assert len(response.context["report"]["daily"]) == 30


def test_a_backwards_range_is_refused_with_a_message(staff_client, db):
    response = staff_client.get("/admin/reports/", {"start": "2025-03-05", "end": "2025-03-01"})
    assert response.status_code == 200
    assert "must not be after" in response.content.decode()
    assert len(response.context["report"]["daily"]) == 30  # falls back to the default range


def test_the_csv_download_is_a_csv_attachment(staff_client, data):
    response = staff_client.get("/admin/reports.csv", {"start": "2025-03-01", "end": "2025-03-03"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="reports_20250301_20250303.csv"' in response["Content-Disposition"]
    assert csv_rows(response.content.decode())[("totals", "", "failed")] == "3"


@pytest.mark.parametrize("path", ["/admin/reports/", "/admin/reports.csv"])
def test_the_reports_are_for_staff_only(client, path):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.logout()
    assert client.get(path).status_code == 302


# --- the report command ----------------------------------------------------------------------------


def test_the_report_command_prints_a_table(data, capsys):
    call_command("report", "--start", "2025-03-01", "--end", "2025-03-03")
    out = capsys.readouterr()
    assert "Report 2025-03-01 to 2025-03-03 (Asia/Tokyo)" in out.out
    assert "Score distribution" in out.out and "Top videos" in out.out
    assert "Done: 2025-03-01 to 2025-03-03: 9 analyses, 2 active users, 3 failed." in out.err


def test_the_report_command_writes_the_same_csv_as_the_page(data, tmp_path, staff_client):
    target = tmp_path / "report.csv"
    call_command("report", "--start", "2025-03-01", "--end", "2025-03-03", "--format", "csv", "-o", str(target))
    page_csv = staff_client.get("/admin/reports.csv", {"start": "2025-03-01", "end": "2025-03-03"})
    assert target.read_bytes() == page_csv.content


def test_the_report_command_dry_run_reads_nothing(db, capsys, django_assert_num_queries):
    with django_assert_num_queries(0):
        call_command("report", "--days", "7", "--dry-run")
    assert "Dry run: would report" in capsys.readouterr().out
