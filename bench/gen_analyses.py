"""Generate a large analyses table on PostgreSQL for bench/reports.py (COPY, not the ORM).

Default: 10,000 users, 1,000,000 analyses over the last 180 days, 200 videos; user
`heavy@bench.example.com` has 10,000 of them (the stats benchmark's dancer). About 6% fail
(with error codes), 10% are cache hits, 20% are Gemini rows with token counts; completed pose
rows carry `details.body_parts` like the pose analyzer's. Sessions: one per user, video and day.

Run by hand from the project root against a scratch database (it is dropped and recreated):
    .venv/bin/python bench/gen_analyses.py [--database postgres://postgres@127.0.0.1:5432/dancecoach_reports_bench]
        [--users 10000 --analyses 1000000 --heavy 10000 --days 180 --videos 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/dancecoach_reports_bench"
HEAVY_EMAIL = "heavy@bench.example.com"
STAFF_EMAIL = "staff@bench.example.com"
PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")
ERRORS = ("timeout", "rate_limited", "pose_not_visible", "blocked_by_safety", "invalid_model_output")


def bench_env(database: str) -> dict:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(ROOT / "bench" / "results" / "static"),
    }


def recreate_database(database: str) -> None:
    import psycopg

    name = database.rsplit("/", 1)[1]
    admin_url = database.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=bench_env(database), check=True
    )


# The covering indexes the reports and the stats need on PostgreSQL (the analyses app's
# migrations 0003 and 0005 create them; --reports-index in bench/reports.py can drop and
# recreate them to compare). With them the 30-day report reads only an index (index-only
# scans), not ~60,000 scattered heap pages, and a dancer's history and body parts are
# grouped from indexes alone.
REPORTS_INDEX = "analysis_reports_cover"
STATS_INDEX = "analysis_user_stats_cover"
PARTS_INDEX = "analysis_user_parts_cover"
REPORTS_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {REPORTS_INDEX} ON analyses_analysis (created_at) INCLUDE "
    "(id, status, score, user_id, video_id, cached, latency_ms, provider, input_tokens, output_tokens, error_code)"
)
STATS_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {STATS_INDEX} ON analyses_analysis (user_id, created_at) "
    "INCLUDE (id, video_id, status, score)"
)
PARTS_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {PARTS_INDEX} ON analyses_analysis (user_id, created_at) "
    "INCLUDE (status, body_parts) WHERE body_parts IS NOT NULL"
)
COVERING_INDEXES = (REPORTS_INDEX, STATS_INDEX, PARTS_INDEX)


def ensure_reports_index(database: str) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(REPORTS_INDEX_SQL)
        conn.execute(STATS_INDEX_SQL)
        conn.execute(PARTS_INDEX_SQL)
        conn.execute("VACUUM ANALYZE analyses_analysis")


def _tqdm(total, desc):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, dynamic_ncols=True)


def generate(database: str, *, users: int, analyses: int, heavy: int, days: int, videos: int, seed: int = 1) -> dict:
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.monotonic()
    with psycopg.connect(database) as conn:
        conn.execute("SET session_replication_role = replica")  # skip FK triggers while loading
        with conn.cursor() as cur:
            # Users: ids 1..users; user 1 is the heavy dancer, plus one staff user.
            with cur.copy(
                "COPY accounts_user (id, password, is_superuser, username, first_name, last_name, is_staff, "
                "is_active, date_joined, email, language, created_at, updated_at, keep_frames) FROM STDIN"
            ) as copy:
                for i in range(1, users + 1):
                    email = HEAVY_EMAIL if i == 1 else f"dancer{i}@bench.example.com"
                    copy.write_row((i, "!", False, f"bench{i}", "", "", False, True, now, email, "ja", now, now, True))
                copy.write_row(
                    (users + 1, "!", True, "benchstaff", "", "", True, True, now, STAFF_EMAIL, "en", now, now, True)
                )
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), (SELECT max(id) FROM accounts_user))"
            )
            with cur.copy("COPY playlists_video (id, youtube_id, title, duration, created_at) FROM STDIN") as copy:
                for v in range(1, videos + 1):
                    copy.write_row((v, f"bench{v:06d}", f"Bench choreography {v}", 180, now))
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('playlists_video', 'id'), (SELECT max(id) FROM playlists_video))"
            )

            # Analyses per user: `heavy` for user 1, the rest spread evenly.
            per_user = [heavy] + [0] * (users - 1)
            rest = analyses - heavy
            for k in range(1, users):
                per_user[k] = rest // (users - 1) + (1 if k <= rest % (users - 1) else 0)

            sessions = {}
            session_rows = []
            bar = _tqdm(analyses, "analyses")
            with cur.copy(
                "COPY analyses_analysis (id, user_id, session_id, video_id, timestamp, status, requested_provider, "
                "provider, model, language, score, good_points, improvements, advice, short, details, frame, "
                "frame_sha256, frame_mime, fingerprint, cached, error_code, error_message, input_tokens, "
                "output_tokens, latency_ms, attempts, created_at, started_at, completed_at) FROM STDIN"
            ) as copy:
                for k, count in enumerate(per_user):
                    user_id = k + 1
                    favourites = [rng.randint(1, videos) for _ in range(rng.randint(2, 6))]
                    skill = rng.uniform(45, 85)
                    for _ in range(count):
                        created = now - timedelta(seconds=rng.uniform(0, days * 86400))
                        video_id = rng.choice(favourites)
                        key = (user_id, video_id, created.date())
                        session_id = sessions.get(key)
                        if session_id is None:
                            session_id = uuid.uuid4()
                            sessions[key] = session_id
                            session_rows.append((session_id, user_id, video_id, created, created))
                        roll = rng.random()
                        gemini = roll < 0.2
                        provider = "gemini" if gemini else "pose"
                        model = "gemini-3.8-flash" if gemini else "pose-v1"
                        if roll > 0.94:
                            status, score, details = "failed", None, "{}"
                            error = rng.choice(ERRORS)
                            cached, latency, tokens = False, None, (rng.randint(0, 1500) if gemini else 0, 0)
                        else:
                            status, error = "completed", ""
                            score = max(0, min(100, round(rng.gauss(skill, 12))))
                            parts = {p: round(max(0.0, min(100.0, rng.gauss(score, 10))), 1) for p in PARTS}
                            weakest = sorted((p for p in parts if parts[p] < 80), key=parts.get)
                            details = json.dumps(
                                {"mode": "reference", "reference": True, "body_parts": parts, "weakest": weakest}
                            )
                            cached = rng.random() < 0.1
                            if cached:
                                latency, tokens = 0, (0, 0)
                            elif gemini:
                                latency, tokens = (
                                    rng.randint(900, 6000),
                                    (rng.randint(1200, 2600), rng.randint(150, 450)),
                                )
                            else:
                                latency, tokens = rng.randint(2, 40), (0, 0)
                        done = created + timedelta(milliseconds=latency or 0)
                        copy.write_row(
                            (
                                uuid.uuid4(), user_id, session_id, video_id, round(rng.uniform(0, 180), 1), status,
                                "auto", provider, model, "ja", score, '["Arms"]', '["Knees"]', "Keep going", "{}",
                                details, "", "", "image/jpeg", "", cached, error, "", tokens[0], tokens[1], latency,
                                1, created, created, done,
                            )
                        )  # fmt: skip
                        bar.update(1)
            bar.close()
            with cur.copy(
                "COPY analyses_practicesession (id, user_id, video_id, started_at, ended_at) FROM STDIN"
            ) as copy:
                for row in session_rows:
                    copy.write_row(row)
        conn.commit()
        conn.execute("SET session_replication_role = DEFAULT")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"users": users, "analyses": analyses, "sessions": len(session_rows), "seconds": time.monotonic() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--analyses", type=int, default=1_000_000)
    parser.add_argument("--heavy", type=int, default=10_000, help="analyses of the stats benchmark's dancer")
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-reports-index",
        action="store_true",
        help=f"do not create the covering indexes {', '.join(COVERING_INDEXES)}",
    )
    args = parser.parse_args()
    if args.heavy > args.analyses or args.users < 2:
        parser.error("need --heavy <= --analyses and at least 2 users")
    recreate_database(args.database)
    result = generate(
        args.database,
        users=args.users,
        analyses=args.analyses,
        heavy=args.heavy,
        days=args.days,
        videos=args.videos,
        seed=args.seed,
    )
    if not args.no_reports_index:
        ensure_reports_index(args.database)
    print(
        f"generated {result['analyses']:,} analyses, {result['sessions']:,} sessions, {result['users']:,} users "
        f"in {result['seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
