"""Load test: 50 simulated dancers for 60 s against `make serve` with the production settings.

PostgreSQL (`dancecoach_load`), Redis (db 13), one Celery worker, Gemini faked with a 1.5 s delay,
everything on loopback. Each dancer does what the front end does: log in, start a practice
session, submit a frame at the allowed rate (10 a minute) and long-poll the result
(`GET analyses/{id}/?wait=`), read the history every ~15 s and the stats every ~30 s.

Rate limits are the production ones, except the per-IP login limit: every simulated dancer
comes from 127.0.0.1, which a real crowd does not. A 429 from the per-user limits is the limit
doing its job and is counted apart; any other non-2xx answer or network error is an error.

Prints requests per second, p50/p95/p99 per endpoint, errors, and the submission-to-result times.

    .venv/bin/python bench/load.py [--dancers 50 --seconds 60 --delay 1.5]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.turnaround: list[float] = []
        self.outcomes: Counter = Counter()

    def call(self, name: str, method: str, url: str, body=None, token=None, timeout: float = 40):
        started = time.perf_counter()
        try:
            status, answer, _ = harness.request(method, url, body, token, timeout=timeout)
        except OSError as exc:
            status, answer = 0, str(exc)
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times[name].append(elapsed)
            self.statuses[name][status] += 1
        return status, answer


def dancer(
    i: int, base: str, email: str, stop_at: float, rec: Recorder, interval: float, wait: int, frames: list[dict]
) -> None:
    rng = random.Random(i)
    time.sleep(rng.uniform(0, 10))  # people don't all press play at once
    status, body = rec.call(
        "POST auth/login", "POST", f"{base}/api/v1/auth/login/", {"email": email, "password": harness.PASSWORD}
    )
    if status != 200:
        return
    token = body["access_token"]
    status, body = rec.call(
        "POST sessions", "POST", f"{base}/api/v1/sessions/", {"youtube_url": harness.YOUTUBE_URL}, token
    )
    session_id = body.get("id") if status == 201 and isinstance(body, dict) else None
    k = 0
    pending: dict[str, float] = {}  # analysis id -> when it was submitted
    next_submit = time.monotonic()
    next_history = time.monotonic() + rng.uniform(5, 15)
    next_stats = time.monotonic() + rng.uniform(10, 30)
    while time.monotonic() < stop_at or (pending and time.monotonic() < stop_at + 30):
        if time.monotonic() >= stop_at:
            next_submit = next_history = next_stats = float("inf")  # only collect the last results
        if time.monotonic() >= next_submit:
            payload = dict(frames[k % len(frames)])
            k += 1
            if session_id:
                payload["session_id"] = session_id
            submitted = time.monotonic()
            status, body = rec.call("POST analyses", "POST", f"{base}/api/v1/analyses/", payload, token)
            next_submit = submitted + interval
            if status in (201, 202):
                pending[body["id"]] = submitted
        # Like the front end: wait for results while the next capture is not due yet.
        for analysis_id, submitted in list(pending.items()):
            budget = int(min(wait, next_submit - time.monotonic(), stop_at + 30 - time.monotonic()))
            if budget < 1:
                break
            status, body = rec.call(
                "GET analyses/{id}/?wait", "GET", f"{base}/api/v1/analyses/{analysis_id}/?wait={budget}", token=token
            )
            if status == 200 and body["status"] in ("completed", "failed"):
                del pending[analysis_id]
                with rec.lock:
                    rec.turnaround.append(time.monotonic() - submitted)
                    rec.outcomes[body["status"]] += 1
        if time.monotonic() >= next_history:
            rec.call("GET analyses (history)", "GET", f"{base}/api/v1/analyses/?limit=10", token=token)
            if session_id:
                rec.call("GET sessions/{id}/", "GET", f"{base}/api/v1/sessions/{session_id}/", token=token)
            next_history = time.monotonic() + rng.uniform(10, 20)
        if time.monotonic() >= next_stats:
            rec.call("GET stats", "GET", f"{base}/api/v1/stats/", token=token)
            next_stats = time.monotonic() + rng.uniform(25, 35)
        due = min(next_submit, next_history, next_stats, stop_at + 30)
        time.sleep(max(0.05, min(1.0, due - time.monotonic())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dancers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--delay", type=float, default=1.5, help="fake Gemini answer delay")
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between a dancer's submissions (10/min)")
    parser.add_argument("--wait", type=int, default=10, help="?wait= of the long poll")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=8, help="Celery worker processes (8 beat 16 on 2 cores)")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    import redis

    harness.database_recreate(args.database)
    redis.Redis.from_url(args.redis).flushdb()
    # The fake in its own process, so the load generator's threads don't slow it down.
    fake_port = harness.free_port()
    fake = subprocess.Popen(
        [sys.executable, str(harness.ROOT / "bench" / "fake_gemini.py"), "--port", str(fake_port), "--delay", "0"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    env = harness.production_env(
        database=args.database,
        redis=args.redis,
        media=tmp / "media",
        GEMINI_API_KEY=harness.FAKE_KEY,
        GEMINI_BASE_URL=f"http://127.0.0.1:{fake_port}",
        # One source IP for every simulated dancer: only the per-IP limits are lifted.
        RATELIMIT_LOGIN_IP="100000/m",
        RATELIMIT_REGISTER_IP="100000/m",
    )
    harness.migrate(env)
    harness.wait_http(f"http://127.0.0.1:{fake_port}/_stats")
    harness.request("POST", f"http://127.0.0.1:{fake_port}/_control", {"delay": args.delay})
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    web = harness.serve_start(env, port, workers=args.web_workers, threads=args.web_threads, log=tmp / "web.log")
    worker = harness.worker_start(env, concurrency=args.concurrency, name="load", log=tmp / "worker.log")
    rec = Recorder()
    try:
        harness.wait_http(f"{base}/healthz")
        harness.worker_wait(args.redis, timeout=120)
        harness.register(base, args.dancers, prefix="load")
        # Frames made before the clock starts: the generator's CPU is not the server's.
        frames = {
            i: [harness.submission(i, k, provider="gemini", timestamp=round(k * 3.0 + i / 100, 2)) for k in range(14)]
            for i in range(args.dancers)
        }
        for _ in range(5):  # warm every server process a little
            harness.request("GET", f"{base}/healthz")
        time.sleep(5)  # let the worker's pool processes settle
        started = time.monotonic()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(
                target=dancer,
                args=(i, base, f"load{i}@example.com", stop_at, rec, args.interval, args.wait, frames[i]),
            )
            for i in range(args.dancers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        harness.stop(web, worker, fake)

    total = sum(len(v) for v in rec.times.values())
    print(f"machine: {harness.machine()}")
    print(
        f"{args.dancers} dancers for {args.seconds:g} s (+ the last long polls), make serve {args.web_workers}x"
        f"{args.web_threads} threads, worker concurrency {args.concurrency}, fake Gemini {args.delay:g} s"
    )
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.1f}/s")
    header = f"{'endpoint':28} {'n':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors  429s  statuses"
    print(header)
    unintended = 0
    for name in sorted(rec.times):
        values = rec.times[name]
        statuses = rec.statuses[name]
        limited = statuses[429]
        errors = sum(n for s, n in statuses.items() if not (200 <= s < 300) and s != 429)
        unintended += errors
        print(
            f"{name:28} {len(values):>6} {len(values) / elapsed:>7.1f} {harness.percentile(values, 50):>8.1f} "
            f"{harness.percentile(values, 95):>8.1f} {harness.percentile(values, 99):>8.1f}  {errors:>6}  {limited:>4}"
            f"  {dict(sorted(statuses.items()))}"
        )
    others = [
        v for name, vs in rec.times.items() if "analyses/{id}" not in name and name != "POST analyses" for v in vs
    ]
    print(
        f"non-analysis endpoints together: p50 {harness.percentile(others, 50):.1f} ms, "
        f"p95 {harness.percentile(others, 95):.1f} ms, p99 {harness.percentile(others, 99):.1f} ms"
    )
    ta = rec.turnaround
    print(
        f"analyses seen final by their dancer: {dict(rec.outcomes)}; submit-to-result p50 "
        f"{harness.percentile(ta, 50):.2f} s, p95 {harness.percentile(ta, 95):.2f} s, "
        f"p99 {harness.percentile(ta, 99):.2f} s"
    )
    print(f"unintended errors: {unintended}")
    print("load:", "PASS" if unintended == 0 else "FAIL")
    return 0 if unintended == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
