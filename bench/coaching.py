"""Coaching benchmark on PostgreSQL with the 1,000,000 analyses of bench/gen_analyses.py.

Measures, in one process through Django's full request stack (middleware, JWT auth,
rendering; no network), medians of:
- GET /api/v1/sessions/{id}/report/ of a 1,000-analysis session of the heavy dancer
  (added for the run, removed after): target < 100 ms;
- GET /api/v1/videos/{id}/leaderboard/ of the most practised video, every dancer opted in:
  cached (target < 50 ms) and cold (the video's cache version bumped before each request),
  with LEADERBOARD_MIN_ANALYSES as configured (5) and at 1 (every session counts: the
  largest board the data can give);
- GET /api/v1/stats/ of the heavy dancer (10,000 analyses), now with personal_bests: target <= 50 ms.

Run by hand from the project root, after gen_analyses.py filled the database:
    nice .venv/bin/python bench/coaching.py [--database URL] [--rounds 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gen_analyses import DEFAULT_DATABASE, HEAVY_EMAIL, PARTS, bench_env  # noqa: E402

REPORT_ANALYSES = 1000


CPU: dict[str, list[float]] = {}


def timed(client, path, n, *, name: str | None = None, **kwargs) -> list[float]:
    """Wall times of n requests; the web process's CPU time of each goes to CPU[name] (on a
    shared machine the wall time waits for the cores, the CPU time much less so)."""
    out = []
    for _ in range(n):
        cpu = time.process_time()
        start = time.perf_counter()
        response = client.get(path, **kwargs)
        out.append(time.perf_counter() - start)
        if name:
            CPU.setdefault(name, []).append(time.process_time() - cpu)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return out


def ms(values) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def opt_everyone_in() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO coaching_leaderboardprofile (user_id, opt_in, display_name, hidden, updated_at) "
            "SELECT id, true, 'bench' || id, false, now() FROM accounts_user ON CONFLICT DO NOTHING"
        )
        cur.execute("SELECT count(*) FROM coaching_leaderboardprofile WHERE opt_in")
        return cur.fetchone()[0]


def long_session(user, video):
    """A session of REPORT_ANALYSES completed pose analyses, one every 0.2 s of video time."""
    from django.utils import timezone

    from analyses.models import Analysis, PracticeSession

    rng = random.Random(7)
    now = timezone.now()
    session = PracticeSession.objects.create(user=user, video=video, started_at=now - timedelta(hours=1))
    rows = []
    for i in range(REPORT_ANALYSES):
        score = max(0, min(100, round(rng.gauss(75, 12) - (30 if 60 <= i < 80 else 0))))
        parts = {p: round(max(0.0, min(100.0, rng.gauss(score, 10))), 1) for p in PARTS}
        rows.append(
            Analysis(
                id=uuid.uuid4(),
                user=user,
                session=session,
                video=video,
                timestamp=round(i * 0.2, 1),
                status=Analysis.Status.COMPLETED,
                provider="pose",
                score=score,
                details={"mode": "form", "body_parts": parts},
                created_at=now - timedelta(seconds=REPORT_ANALYSES - i),
            )
        )
    Analysis.objects.bulk_create(rows)
    return session


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    os.environ.update(bench_env(args.database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from analyses.models import Analysis
    from coaching.invalidation import leaderboard_video_changed
    from playlists.models import Video

    assert connection.vendor == "postgresql", "run against PostgreSQL (bench/gen_analyses.py fills it)"
    heavy = User.objects.get(email=HEAVY_EMAIL)
    opted = opt_everyone_in()
    top = Analysis.objects.values("video").annotate(n=Count("pk")).order_by("-n").first()
    video = Video.objects.get(pk=top["video"])
    print(f"data: {Analysis.objects.count():,} analyses; {opted:,} dancers opted in; load {os.getloadavg()}")
    print(f"leaderboard video {video.pk}: {top['n']:,} analyses, {video.practice_sessions.count():,} sessions")

    api = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(heavy).access_token}")
    results = {}
    session = long_session(heavy, video)
    try:
        report_path = f"/api/v1/sessions/{session.pk}/report/"
        timed(api, report_path, 3)
        results["report_1000"] = timed(api, report_path, args.rounds, name="report_1000")
        body = api.get(report_path).json()
        print(f"report: {body['analyses']} analyses, {len(body['worst_moments'])} worst moments: {body['summary']}")

        for minimum in (settings.LEADERBOARD_MIN_ANALYSES, 1):
            settings.LEADERBOARD_MIN_ANALYSES = minimum
            for period in ("week", "all"):
                path = f"/api/v1/videos/{video.pk}/leaderboard/?period={period}"
                cold = []
                for _ in range(args.rounds // 2):
                    leaderboard_video_changed(video_id=video.pk)
                    cold += timed(api, path, 1, name=f"leaderboard_{period}_min{minimum}_cold")
                warm = timed(api, path, args.rounds, name=f"leaderboard_{period}_min{minimum}_cached")
                listed = len(api.get(path).json()["results"])
                results[f"leaderboard_{period}_min{minimum}_cold"] = cold
                results[f"leaderboard_{period}_min{minimum}_cached"] = warm
                print(f"leaderboard {period:5} min {minimum}: {listed} listed (top 50 shown)")
        settings.LEADERBOARD_MIN_ANALYSES = 5

        # The stats with and without the personal bests, interleaved; the history's first page
        # (unchanged by this work, 1.4 ms in docs/benchmarks.md) shows how busy the machine is.
        from analyses import stats

        timed(api, "/api/v1/stats/", 3)
        with_bests = stats._personal_bests
        results["stats"], results["stats_without_personal_bests"], results["history_first_page"] = [], [], []
        for _ in range(args.rounds):
            results["stats"] += timed(api, "/api/v1/stats/", 1, name="stats")
            stats._personal_bests = lambda user, **_: []
            results["stats_without_personal_bests"] += timed(
                api, "/api/v1/stats/", 1, name="stats_without_personal_bests"
            )
            stats._personal_bests = with_bests
            results["history_first_page"] += timed(api, "/api/v1/analyses/", 1, name="history_first_page")
        print(f"personal bests of the heavy dancer: {len(api.get('/api/v1/stats/').json()['personal_bests'])}")
    finally:
        session.delete()

    print()
    targets = {"report_1000": 0.100, "stats": 0.050, "stats_without_personal_bests": 0.050}
    for name, values in results.items():
        target = targets.get(name, 0.050 if name.endswith("cached") else None)
        verdict = (
            ""
            if target is None
            else f"   target < {target * 1000:.0f} ms: " + ("ok" if statistics.median(values) < target else "MISSED")
        )
        p95 = sorted(values)[int(len(values) * 0.95) - 1] * 1000
        cpu = ms(CPU[name]) if name in CPU else "-"
        print(f"{name:34} median {ms(values)}  p95 {p95:.1f} ms  web-process CPU median {cpu}{verdict}")
    out = ROOT / "bench" / "results" / "coaching.json"
    out.parent.mkdir(exist_ok=True)
    figures = {k: {"median_ms": round(statistics.median(v) * 1000, 2)} for k, v in results.items()}
    for k, v in CPU.items():
        figures[k]["cpu_median_ms"] = round(statistics.median(v) * 1000, 2)
    figures["load_average"] = os.getloadavg()
    out.write_text(json.dumps(figures, indent=2))
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
