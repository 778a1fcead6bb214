"""Denial-of-service attempts against the two server commands, with /healthz timed throughout.

Targets (each on loopback, DEBUG off):
- serve:    `make serve` (gunicorn with uvicorn workers, 2 processes) on PostgreSQL and Redis,
            no Celery worker, so submissions stay pending;
- embedded: `make run`'s server (config/run.py: uvicorn, one process) on the embedded default
            (SQLite, local-memory cache, Celery eager).

Scenarios, each with a /healthz probe every 0.2 s on a fresh connection (target: every answer
under 1 s):
- scan-bomb: four progressive-JPEG scan bombs (bench/jpeg_bomb.py) submitted at once by four
  dancers; target: each submission answered (refused or accepted) in under 2 s;
- bodies:    eight slow bodies (Content-Length 1 MB, one byte a second) and one declared 300 MiB
  body; targets: the 300 MiB one gets 413 before any of its body is sent, and the server's
  temporary directory never holds a file over 1 MiB;
- long-polls: eight `GET analyses/{id}/?wait=20` on pending analyses (two dancers, four each).

    .venv/bin/python bench/attack.py [--targets serve,embedded --database ... --redis ...]
"""

from __future__ import annotations

import argparse
import base64
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import subprocess  # noqa: E402

from bench import harness  # noqa: E402
from bench.jpeg_bomb import scan_bomb  # noqa: E402

HEALTHZ_TARGET = 1.0
SUBMISSION_TARGET = 2.0


class Probe:
    """GET /healthz every 0.2 s on a new connection while a scenario runs; keeps the slowest."""

    def __init__(self, base: str):
        self.base, self.times, self.failures = base, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = harness.request("GET", f"{self.base}/healthz", timeout=30)[0]
                self.failures += status != 200
            except OSError:
                self.failures += 1
            self.times.append(time.monotonic() - started)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def verdict(self) -> str:
        worst = max(self.times, default=float("nan"))
        ok = worst < HEALTHZ_TARGET and not self.failures
        return f"/healthz worst {worst:.3f} s over {len(self.times)} probes, {self.failures} failed: " + (
            "ok" if ok else "MISSED"
        )


def scenario_scan_bomb(base: str, tokens: list[str]) -> list[str]:
    frame = base64.b64encode(scan_bomb(scans=3000)).decode()

    def submit(token):
        body = {**harness.submission(0, 0, provider="pose"), "user_frame": frame}
        started = time.monotonic()
        try:
            status = harness.request("POST", f"{base}/api/v1/analyses/", body, token, timeout=30)[0]
        except OSError:  # no answer within 30 s
            status = None
        return status, time.monotonic() - started

    with Probe(base) as probe, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(submit, tokens[:4]))
    worst = max(seconds for _, seconds in answers)
    statuses = sorted(str(status) for status, _ in answers)
    return [
        probe.verdict(),
        f"submissions: statuses {statuses} (None: no answer in 30 s), slowest {worst:.2f} s "
        f"(target < {SUBMISSION_TARGET:g} s): {'ok' if worst < SUBMISSION_TARGET else 'MISSED'}",
    ]


def _slow_body(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n{"
        )
        try:
            while not stop.wait(1.0):
                sock.sendall(b" ")
        except OSError:  # the server gave up on it (408) and closed: what it should do
            pass


def _huge_body(port: int) -> tuple[int | None, float]:
    """Declare 300 MiB, send no body, and wait for the answer: (status, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
        )
        try:
            head = sock.recv(200).decode("latin-1")
        except OSError:
            return None, time.monotonic() - started
    status = int(head.split(" ", 2)[1]) if head.startswith("HTTP/1.1 ") else None
    return status, time.monotonic() - started


def _largest_file(directory: Path) -> int:
    sizes = [p.stat().st_size for p in directory.rglob("*") if p.is_file()]
    return max(sizes, default=0)


def scenario_bodies(base: str, port: int, tmpdir: Path) -> list[str]:
    stop = threading.Event()
    slow = [threading.Thread(target=_slow_body, args=(port, stop), daemon=True) for _ in range(8)]
    largest = 0
    with Probe(base) as probe:
        for thread in slow:
            thread.start()
        time.sleep(1.0)
        status, seconds = _huge_body(port)
        for _ in range(25):  # the slow bodies keep trickling meanwhile
            largest = max(largest, _largest_file(tmpdir))
            time.sleep(0.2)
        stop.set()
    for thread in slow:
        thread.join(timeout=5)
    ok_413 = status == 413
    ok_tmp = largest <= 1 << 20
    return [
        probe.verdict(),
        f"300 MiB declared, no body sent: answered {status} after {seconds:.3f} s (target 413 before reading): "
        + ("ok" if ok_413 else "MISSED"),
        f"largest file in the server's temporary directory: {largest:,} bytes (target <= 1 MiB): "
        + ("ok" if ok_tmp else "MISSED"),
    ]


def scenario_long_polls(base: str, tokens: list[str], make_pending) -> list[str]:
    ids = []
    for n in range(8):
        body = harness.submission(10 + n, n, provider="pose")
        status, answer, _ = harness.request("POST", f"{base}/api/v1/analyses/", body, tokens[n // 4])
        assert status in (201, 202), (status, answer)
        ids.append(answer["id"])
    make_pending(ids)

    def poll(n):
        return harness.request("GET", f"{base}/api/v1/analyses/{ids[n]}/?wait=20", token=tokens[n // 4], timeout=40)[0]

    with Probe(base) as probe, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(poll, n) for n in range(8)]
        statuses = sorted(f.result() for f in futures)
    return [probe.verdict(), f"long-poll statuses: {statuses}"]


def target_start(name: str, args, tmp: Path):
    """(process, base URL, port, make_pending) of a server target, its data in `tmp`."""
    port = harness.free_port()
    extra = {"TMPDIR": tmp / "tmp", "RATELIMIT_REGISTER_IP": "1000/h", "STATIC_ROOT": tmp / "static"}
    (tmp / "tmp").mkdir(parents=True, exist_ok=True)
    if name == "serve":
        harness.database_recreate(args.database)
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        env = harness.production_env(database=args.database, redis=args.redis, media=tmp / "media", **extra)
        proc = harness.serve_start(env, port, workers=2, threads=8, log=tmp / "server.log")

        def make_pending(ids):
            with harness.db_connect(args.database) as conn:
                conn.execute("UPDATE analyses_analysis SET status = 'pending' WHERE id = ANY(%s)", [ids])

    else:
        sqlite_path = tmp / "db.sqlite3"
        env = harness.production_env(database=None, redis=None, media=tmp / "media", SQLITE_PATH=sqlite_path, **extra)
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=open(tmp / "server.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def make_pending(ids):
            with sqlite3.connect(sqlite_path) as conn:
                rows = [(analysis_id.replace("-", ""),) for analysis_id in ids]  # SQLite keeps UUIDs as hex
                conn.executemany("UPDATE analyses_analysis SET status = 'pending' WHERE id = ?", rows)

    return proc, f"http://127.0.0.1:{port}", port, make_pending


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="serve,embedded")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_attack")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    print(f"machine: {harness.machine()}")
    for name in args.targets.split(","):
        with tempfile.TemporaryDirectory(prefix=f"attack-{name}-") as tmp_name:
            tmp = Path(tmp_name)
            proc, base, port, make_pending = target_start(name, args, tmp)
            try:
                harness.wait_http(f"{base}/healthz", timeout=120)
                tokens = harness.register(base, 6, prefix=f"attacker-{name}-")
                # The scan bombs last: a server still decoding them would slow the others' figures.
                results = {
                    "bodies": scenario_bodies(base, port, tmp / "tmp"),
                    "long-polls": scenario_long_polls(base, tokens, make_pending),
                    "scan-bomb": scenario_scan_bomb(base, tokens[2:]),
                }
            finally:
                harness.stop(proc)
            for scenario, lines in results.items():
                for line in lines:
                    print(f"{name:8} {scenario:10} {line}")


if __name__ == "__main__":
    main()
