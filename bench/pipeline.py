"""Pipeline benchmark: `make serve` + PostgreSQL + Redis + one real Celery worker + a fake Gemini (1.5 s).

300 submissions from 30 users. Prints:
- completed analyses per second, and its ratio to the worker's theoretical bound
  (concurrency / Gemini delay); target >= 0.8;
- the median server time (Server-Timing header) of POST /api/v1/analyses/ as a ratio to
  GET /api/v1/auth/me/ measured in the same run, interleaved; target <= 3.

Run by hand from the project root (PostgreSQL and Redis on localhost):
    .venv/bin/python bench/pipeline.py [--users 30 --per-user 10 --concurrency 16 --delay 1.5]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyses.analyzers import synthetic  # noqa: E402
from bench import harness  # noqa: E402
from bench.fake_gemini import FakeGemini  # noqa: E402

PYTHON = sys.executable


def request(method, url, body=None, token=None, timeout=30):
    """(status, JSON, the app's own time in ms from its Server-Timing header)."""
    status, payload, headers = harness.request(method, url, body, token, timeout)
    timing = headers.get("Server-Timing", "")
    return status, payload, float(timing.split("dur=")[1]) if "dur=" in timing else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16, help="worker concurrency (prefork processes)")
    parser.add_argument("--delay", type=float, default=1.5, help="fake Gemini answer delay, seconds")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    import psycopg

    db_name = args.database.rsplit("/", 1)[1]
    admin_url = args.database.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    import redis

    redis.Redis.from_url(args.redis).flushdb()

    fake = FakeGemini(delay=args.delay, record=False).start()
    media = ROOT / "bench" / "results" / "media"
    media.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": args.database,
        "REDIS_URL": args.redis,
        "GEMINI_API_KEY": "AIzaFAKE-BENCH",
        "GEMINI_BASE_URL": fake.base_url,
        "GEMINI_TIMEOUT_SECONDS": "30",
        "MEDIA_ROOT": str(media),
        "RATELIMIT_REGISTER_IP": "1000/m",
        "RATELIMIT_LOGIN_IP": "1000/m",
        "RATELIMIT_DEFAULT_USER": "10000/m",
        "RATELIMIT_ANALYSIS_USER": "100/m",  # the sequential phase adds a few per user
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    # The production web server as `make serve` starts it: two processes of 8 threads each.
    web = harness.serve_start({**env, "STATIC_ROOT": str(ROOT / "bench" / "results" / "static")}, port)
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--prefetch-multiplier=1",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                if request("GET", f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        # Measure from a worker whose processes are all up and warm.
        from celery import Celery

        probe = Celery(broker=args.redis)
        deadline = time.monotonic() + 120
        while not probe.control.ping(timeout=1.0):
            assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(2)
        tokens = []
        for i in range(args.users):
            status, body, _ = request(
                "POST",
                f"{base}/api/v1/auth/register/",
                {"email": f"bench{i}@example.com", "username": f"bench{i}", "password": "bench-password-2026"},
            )
            assert status == 201, body
            tokens.append(body["access_token"])

        import base64

        import numpy as np

        def dancer_pose(user: int, t: float):
            """What dancer `user` sends at time t: the routine with their own small deviations."""
            rng = np.random.default_rng(user * 1000 + int(t * 100))
            pose = synthetic.pose_from_angles(**synthetic.choreography_params(t))
            pose[:, :2] += rng.normal(0.0, 0.01, size=(33, 2))
            points = synthetic.keypoints_to_dicts(pose)
            frame = base64.b64encode(synthetic.render_pose_jpeg(points, width=320, height=240)).decode()
            return points, frame

        # Distinct frames and landmarks per submission: no result-cache hit flatters the figures.
        poses = {
            (i, k): dancer_pose(i, round(k + i / args.users, 2))
            for i in range(args.users)
            for k in range(args.per_user)
        }
        keypoints, frame_b64 = dancer_pose(999, 3.0)
        # Warm up both endpoints (imports, connections) before measuring, and every worker process:
        # each pays its first Gemini client, HTTP connection and database connection once, which
        # is start-up cost, not throughput. Measured separately and printed.
        for _ in range(5):
            request("GET", f"{base}/api/v1/auth/me/", token=tokens[0])
        status, warm_user, _ = request(
            "POST",
            f"{base}/api/v1/auth/register/",
            {"email": "warmup@example.com", "username": "warmup", "password": "bench-password-2026"},
        )
        warm_started = time.monotonic()
        warm_ids = []
        for n in range(args.concurrency):
            wk, wf = dancer_pose(500 + n, 50.0 + n)
            body = {
                "youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "timestamp": 50.0 + n,
                "user_frame": wf,
                "keypoints": wk,
                "provider": "gemini",
            }
            warm_ids.append(request("POST", f"{base}/api/v1/analyses/", body, warm_user["access_token"])[1]["id"])
        for analysis_id in warm_ids:
            request("GET", f"{base}/api/v1/analyses/{analysis_id}/?wait=30", token=warm_user["access_token"])
        warm_seconds = time.monotonic() - warm_started

        post_ms, me_ms, ids, errors = [], [], [], []
        lock = threading.Lock()

        def dancer(i):
            token = tokens[i]
            for k in range(args.per_user):
                body = {
                    "youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                    # Every dancer follows the same 10 s of choreography, each at their own offset:
                    # distinct submissions (no result-cache hits), shared reference buckets.
                    "timestamp": round(k + i / args.users, 2),
                    "user_frame": poses[(i, k)][1],
                    "keypoints": poses[(i, k)][0],
                    "provider": "gemini",
                }
                status, answer, ms = request("POST", f"{base}/api/v1/analyses/", body, token)
                _, _, me = request("GET", f"{base}/api/v1/auth/me/", token=token)
                with lock:
                    if status in (201, 202):
                        ids.append(answer["id"])
                        post_ms.append(ms)
                    else:
                        errors.append((status, answer))
                    me_ms.append(me)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            list(pool.map(dancer, range(args.users)))
        submitted_at = time.monotonic()

        import psycopg

        total = len(ids)
        with psycopg.connect(args.database.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                done = conn.execute(
                    "SELECT count(*) FROM analyses_analysis WHERE status IN ('completed', 'failed') AND timestamp < 50"
                ).fetchone()[0]
                if done >= total:
                    break
                time.sleep(0.1)
            finished = time.monotonic()
            by_status = dict(
                conn.execute(
                    "SELECT status, count(*) FROM analyses_analysis WHERE timestamp < 50 GROUP BY status"
                ).fetchall()
            )
            cache_hits = conn.execute(
                "SELECT count(*) FROM analyses_analysis WHERE cached AND timestamp < 50"
            ).fetchone()[0]

        # Server time, measured side by side with no other load: alternate one submission and
        # one GET me, sequentially, after the throughput phase (the worker drains them at leisure).
        seq_post, seq_me = [], []
        for n in range(60):
            body = {
                "youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "timestamp": 100.0 + n,
                "user_frame": frame_b64,
                "keypoints": keypoints,
                "provider": "gemini",
            }
            status, _, ms = request("POST", f"{base}/api/v1/analyses/", body, tokens[n % len(tokens)])
            assert status in (201, 202), status
            seq_post.append(ms)
            # The submission's live event and task publish run on the web process's background
            # thread after its answer: let them finish, so they do not slow the GET me measured next.
            time.sleep(0.05)
            seq_me.append(request("GET", f"{base}/api/v1/auth/me/", token=tokens[n % len(tokens)])[2])
            time.sleep(0.05)

        # Let the worker finish those before it is stopped (a warm shutdown, no lost jobs logged).
        with psycopg.connect(args.database.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if not conn.execute(
                    "SELECT count(*) FROM analyses_analysis WHERE status IN ('pending', 'processing')"
                ).fetchone()[0]:
                    break
                time.sleep(0.2)

        elapsed = finished - started
        rate = total / elapsed
        bound = args.concurrency / args.delay
        post_median = statistics.median(post_ms)
        me_median = statistics.median(me_ms)
        print(f"machine: {harness.machine()}")
        print(f"warm-up: {args.concurrency} analyses through cold worker processes took {warm_seconds:.1f} s")
        print(
            f"submissions: {total} accepted, {len(errors)} refused {errors[:3]}; statuses {by_status}; "
            f"result-cache hits {cache_hits}"
        )
        print(f"submitting took {submitted_at - started:.1f} s; all finished after {elapsed:.1f} s")
        print(
            f"completed per second: {rate:.2f}; worker bound {args.concurrency}/{args.delay:g} s = {bound:.2f}/s; "
            f"ratio {rate / bound:.2f} (target >= 0.8)"
        )
        seq_ratio = statistics.median(seq_post) / statistics.median(seq_me)
        print(
            f"server time median, sequential: POST analyses {statistics.median(seq_post):.2f} ms, "
            f"GET me {statistics.median(seq_me):.2f} ms; ratio {seq_ratio:.2f} (target <= 3)"
        )
        print(
            f"server time median under the {args.users}-dancer load: POST analyses {post_median:.2f} ms, "
            f"GET me {me_median:.2f} ms; ratio {post_median / me_median:.2f}"
        )

    finally:
        for proc in (web, worker):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        fake.stop()


if __name__ == "__main__":
    main()
