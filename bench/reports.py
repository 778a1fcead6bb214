"""Reports and stats benchmark on PostgreSQL with 1,000,000 analyses from 10,000 users.

Measures, in one process through Django's full request stack (middleware, auth, rendering;
no network), on the database bench/gen_analyses.py fills:
- the admin reports page for the last 30 days (GET /admin/reports/ as staff): median server
  time, target <= 1 s; and report_build() alone;
- GET /api/v1/stats/ for the dancer with 10,000 analyses: median, and with a cold cache (the
  first after a practice: personal bests computed again), target <= 50 ms;
- the reports page and the stats again over HTTP under `make serve` (the production server);
- the history endpoint's first page for that dancer (GET /api/v1/analyses/) against a bare
  Django view returning the same 10 rows as JSON, interleaved in the same run: requests per
  second of each and their ratio, target >= 0.5.

Run by hand from the project root (PostgreSQL on localhost; generation takes a few minutes):
    .venv/bin/python bench/gen_analyses.py            # once: 1M analyses, 10k users
    .venv/bin/python bench/reports.py [--rounds 15 --history-rounds 300 --reports-index create|drop]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.gen_analyses import (  # noqa: E402
    COVERING_INDEXES,
    DEFAULT_DATABASE,
    HEAVY_EMAIL,
    STAFF_EMAIL,
    bench_env,
    ensure_reports_index,
)

# A URLconf of the project's URLs plus the bare baseline view.
urlpatterns: list = []


def bare_history(request):
    """The baseline: the same 10 rows as the history endpoint's first page, with the same fields,
    as JSON; no authentication, throttling, pagination count or serializer."""
    from django.http import JsonResponse

    from analyses.models import Analysis

    rows = []
    for row in (
        Analysis.objects.filter(user_id=request.GET["user"])
        .order_by("-created_at")
        .values(
            "id",
            "session_id",
            "video_id",
            "video__youtube_id",
            "video__title",
            "video__duration",
            "timestamp",
            "status",
            "score",
            "good_points",
            "improvements",
            "advice",
            "short",
            "provider",
            "model",
            "language",
            "cached",
            "error_code",
            "error_message",
            "attempts",
            "created_at",
            "completed_at",
        )[:10]
    ):
        youtube_id = row.pop("video__youtube_id")
        row["video"] = {
            "id": row.pop("video_id"),
            "youtube_id": youtube_id,
            "url": f"https://www.youtube.com/watch?v={youtube_id}",
            "title": row.pop("video__title"),
            "duration": row.pop("video__duration"),
        }
        code, message = row.pop("error_code"), row.pop("error_message")
        row["error"] = {"code": code, "message": message} if row["status"] == "failed" else None
        rows.append(row)
    return JsonResponse({"count": len(rows), "next": None, "previous": None, "results": rows})


def timed(client, method, path, n, **kwargs) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = getattr(client, method)(path, **kwargs)
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return out


def ms(values) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def served_times(args, *, session: str, token: str) -> tuple[list[float], list[float]]:
    """Medians' inputs for the reports page (staff session cookie) and the stats (JWT) under `make serve`."""
    from bench import harness

    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**bench_env(args.database), "ACCESS_TOKEN_MINUTES": "600"}
    web = harness.serve_start(env, port, log=ROOT / "bench" / "results" / "reports-serve.log")
    try:
        harness.wait_http(f"{base}/healthz", timeout=120)

        def timed_get(path, headers, n):
            out = []
            for _ in range(n):
                request = urllib.request.Request(base + path, headers=headers)
                start = time.perf_counter()
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    assert response.status == 200, (path, response.status)
                out.append(time.perf_counter() - start)
            return out[1:]  # the first warms the process up

        page = timed_get("/admin/reports/", {"Cookie": f"sessionid={session}"}, args.rounds + 1)
        stats = timed_get("/api/v1/stats/", {"Authorization": f"Bearer {token}"}, args.stats_rounds + 1)
    finally:
        harness.stop(web)
    return page, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--rounds", type=int, default=15, help="requests of the reports page")
    parser.add_argument("--stats-rounds", type=int, default=100)
    parser.add_argument("--history-rounds", type=int, default=300, help="requests of each history view")
    parser.add_argument(
        "--reports-index",
        choices=["create", "keep", "drop"],
        default="keep",
        help=f"create or drop the covering indexes {', '.join(COVERING_INDEXES)} first (default: as they are)",
    )
    args = parser.parse_args()
    if args.reports_index == "create":
        ensure_reports_index(args.database)
    elif args.reports_index == "drop":
        import psycopg

        with psycopg.connect(args.database, autocommit=True) as conn:
            for name in COVERING_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")

    os.environ.update(bench_env(args.database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import include, path
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from analyses import reports
    from analyses.models import Analysis

    call_command("collectstatic", "--noinput", "-v", "0")  # production settings: manifest storage
    urlpatterns[:] = [path("bench/bare-history/", bare_history), path("", include("config.urls"))]
    settings.ROOT_URLCONF = __name__

    assert connection.vendor == "postgresql", "run against PostgreSQL (bench/gen_analyses.py fills it)"
    total = Analysis.objects.count()
    heavy = User.objects.get(email=HEAVY_EMAIL)
    staff = User.objects.get(email=STAFF_EMAIL)
    heavy_count = Analysis.objects.filter(user=heavy).count()
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    print(f"CPU: {harness.machine()}; PostgreSQL {pg_version}; Python {platform.python_version()}")
    print(f"data: {total:,} analyses, {User.objects.count():,} users; stats dancer has {heavy_count:,} analyses")
    last30 = Analysis.objects.filter(reports.DateRange.last_days().q()).count()
    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(COVERING_INDEXES)])
        indexes = sorted(row[0] for row in cur.fetchall())
    print(f"reports range: last 30 days, {last30:,} analyses; covering indexes present: {indexes or 'none'}")

    # Reports page (staff session), after one warm-up request.
    admin = Client()
    admin.force_login(staff)
    timed(admin, "get", "/admin/reports/", 1)
    page = timed(admin, "get", "/admin/reports/", args.rounds)
    build = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        reports.report_build()
        build.append(time.perf_counter() - start)

    # Stats for the heavy dancer (JWT).
    api = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(heavy).access_token}")
    timed(api, "get", "/api/v1/stats/", 3)
    stats_times = timed(api, "get", "/api/v1/stats/", args.stats_rounds)
    # The first stats after a practice: nothing cached, the personal bests computed again.
    cold_stats = []
    for _ in range(args.rounds):
        cache.clear()
        cold_stats += timed(api, "get", "/api/v1/stats/", 1)

    # History endpoint vs the bare view, interleaved so drift hits both alike.
    bare = Client()
    history_path = "/api/v1/analyses/"
    timed(api, "get", history_path, 10)
    timed(bare, "get", "/bench/bare-history/", 10, data={"user": heavy.pk})
    history, baseline = [], []
    for _ in range(args.history_rounds):
        history += timed(api, "get", history_path, 1)
        baseline += timed(bare, "get", "/bench/bare-history/", 1, data={"user": heavy.pk})
    rps_history = 1 / statistics.median(history)
    rps_bare = 1 / statistics.median(baseline)

    # The same two pages through the production web server (`make serve`), over HTTP.
    served_page, served_stats = served_times(
        args, session=admin.cookies["sessionid"].value, token=str(RefreshToken.for_user(heavy).access_token)
    )

    page_ok = statistics.median(page) <= 1.0 and statistics.median(served_page) <= 1.0
    stats_ok = all(statistics.median(t) <= 0.050 for t in (stats_times, cold_stats, served_stats))
    ratio = rps_history / rps_bare
    print()
    print(
        f"reports page, 30 days     median {ms(page)} (report_build alone {ms(build)})   target <= 1000 ms: "
        f"{'ok' if page_ok else 'MISSED'}"
    )
    print(
        f"GET /api/v1/stats/        median {ms(stats_times)}, cold cache {ms(cold_stats)}   target <= 50 ms: "
        f"{'ok' if stats_ok else 'MISSED'}"
    )
    print(f"under make serve (HTTP)   reports page median {ms(served_page)}, stats median {ms(served_stats)}")
    print(f"history first page        median {ms(history)} = {rps_history:.0f} req/s")
    print(f"bare Django JSON view     median {ms(baseline)} = {rps_bare:.0f} req/s")
    print(f"history / bare            {ratio:.2f}   target >= 0.5: {'ok' if ratio >= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
