"""Fault suite: the pipeline under a misbehaving Gemini, a killed worker, Redis and PostgreSQL outages.

Runs gunicorn (production settings) + one real Celery worker + a fake Gemini on loopback against
a bench PostgreSQL database (`dancecoach_faults`) and Redis db 12, then these scenarios:

  gemini    the fake answers 30% of calls with 429, 500, a timeout or malformed JSON over N submissions
  kill      the worker is SIGKILLed in the middle of a batch and started again
  redis     Redis is stopped for 10 s under load (reads and submissions keep coming)
  postgres  PostgreSQL is stopped for a few seconds under load, then started

Decision for the Redis outage (docs/operations.md): a submission is stored in
PostgreSQL first; if the broker is down the task is not queued, the row stays `pending` and the
client gets its 202 with the row. The recovery job (`analyses.recover_stuck`, run by beat every
minute; here called by this script every few seconds with ANALYSIS_STUCK_AFTER_SECONDS=10)
requeues pending rows older than that, and `processing` rows whose lease ran out. Redis runs
without persistence, so whatever was queued in it when it stopped is gone: the same job covers it.

After each scenario every accepted analysis must be `completed`, or `failed` with an error code;
none `pending` or `processing`; none reaching a final state twice (a PostgreSQL trigger on the
bench database logs every transition into a final state, so a second result would show).

WARNING: the redis and postgres scenarios stop the machine's shared Redis and PostgreSQL
(Redis loses every db: it runs without persistence). Don't run them while others use them.

    .venv/bin/python bench/faults.py                                  # all four
    .venv/bin/python bench/faults.py --scenarios gemini,kill          # no shared service stopped
    .venv/bin/python bench/faults.py --submissions 80 --kill-batch 60  # shorter (CI)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.fake_gemini import FakeGemini

PG_VERSION = next(iter(sorted(os.listdir("/etc/postgresql"))), "") if os.path.isdir("/etc/postgresql") else ""
FINAL = ("completed", "failed")

AUDIT_SQL = """
CREATE TABLE IF NOT EXISTS bench_final_events (
    analysis_id uuid NOT NULL, status text NOT NULL, error_code text, at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION bench_log_final() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN ('completed', 'failed')
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        INSERT INTO bench_final_events (analysis_id, status, error_code) VALUES (NEW.id, NEW.status, NEW.error_code);
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS bench_log_final ON analyses_analysis;
CREATE TRIGGER bench_log_final AFTER INSERT OR UPDATE ON analyses_analysis
    FOR EACH ROW EXECUTE FUNCTION bench_log_final();
"""


REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"]
REDIS_START += ["--save", "", "--appendonly", "no"]


def services_ensure_up() -> None:
    """Whatever happened in a scenario, leave Redis and PostgreSQL running."""
    if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True).returncode != 0:
        subprocess.run(REDIS_START, capture_output=True)
    if PG_VERSION and subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start"], capture_output=True)


def say(*parts) -> None:
    print(*parts, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.database = args.database
        self.redis_url = args.redis
        self.tmp = Path(tempfile.mkdtemp(prefix="faults-"))
        self.fake = FakeGemini(delay=0.2, timeout_sleep=4.0, record=False).start()
        self.fake._server.handle_error = lambda request, address: None  # a killed worker's resets are expected
        self.env = harness.production_env(
            database=self.database,
            redis=self.redis_url,
            media=self.tmp / "media",
            GEMINI_API_KEY=harness.FAKE_KEY,
            GEMINI_BASE_URL=self.fake.base_url,
            GEMINI_TIMEOUT_SECONDS="2",
            ANALYSIS_RETRY_BACKOFF_SECONDS="0.2",
            ANALYSIS_RETRY_BACKOFF_MAX_SECONDS="1.0",
            ANALYSIS_MAX_ATTEMPTS="5",
            ANALYSIS_STUCK_AFTER_SECONDS="10",
            CELERY_TASK_SOFT_TIME_LIMIT="15",
            CELERY_TASK_TIME_LIMIT="20",
            CELERY_VISIBILITY_TIMEOUT="30",
            RATELIMIT_DEFAULT_USER="100000/m",
            RATELIMIT_ANALYSIS_USER="100000/m",
            RATELIMIT_REGISTER_IP="100000/m",
            RATELIMIT_LOGIN_IP="100000/m",
            DB_CONN_MAX_AGE="60",
        )
        self.port = harness.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web = self.worker = None
        self.tokens: list[str] = []
        self.serial = 0
        self.lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        harness.database_recreate(self.database)
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        harness.migrate(self.env)
        with harness.db_connect(self.database) as conn:
            conn.execute(AUDIT_SQL)
        # This process runs the recovery job itself, with the same settings as the servers.
        os.environ.update(self.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        self.web = harness.serve_start(self.env, self.port, workers=2, threads=8, log=self.tmp / "web.log")
        self.worker_start()
        harness.wait_http(f"{self.base}/healthz")
        self.tokens = harness.register(self.base, self.args.users, prefix="faults")

    def worker_start(self) -> None:
        self.worker = harness.worker_start(
            self.env, concurrency=self.args.concurrency, name="faults", log=self.tmp / "worker.log"
        )
        harness.worker_wait(self.redis_url)

    def stop(self) -> None:
        harness.stop(self.web, self.worker)
        self.fake.stop()
        services_ensure_up()

    # -- traffic -------------------------------------------------------------------------

    def submit(self, user: int) -> tuple[int, str | None]:
        with self.lock:
            self.serial += 1
            k = self.serial
        body = harness.submission(user, k, provider="gemini", timestamp=round(k * 0.37 % 21000, 2))
        try:
            status, answer, _ = harness.request(
                "POST", f"{self.base}/api/v1/analyses/", body, self.tokens[user], timeout=30
            )
        except OSError:
            return 0, None
        return status, answer["id"] if status in (201, 202) and isinstance(answer, dict) else None

    def batch(self, n: int, threads: int = 20) -> tuple[list[str], Counter]:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(lambda i: self.submit(i % len(self.tokens)), range(n)))
        statuses = Counter(status for status, _ in results)
        return [analysis_id for _, analysis_id in results if analysis_id], statuses

    def read(self, user: int, analysis_id: str | None = None) -> int:
        url = f"{self.base}/api/v1/analyses/{analysis_id}/" if analysis_id else f"{self.base}/api/v1/analyses/"
        try:
            return harness.request("GET", url, token=self.tokens[user], timeout=10)[0]
        except OSError:
            return 0

    # -- checking ------------------------------------------------------------------------

    def recover(self) -> dict:
        from django.db import close_old_connections

        from analyses.services.maintenance import analyses_recover_stuck

        close_old_connections()
        try:
            return analyses_recover_stuck(older_than_seconds=10)
        except Exception as exc:  # a service is still down: try again next round
            return {"error": exc.__class__.__name__}
        finally:
            close_old_connections()

    def states(self, ids: list[str]) -> Counter:
        with harness.db_connect(self.database) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM analyses_analysis WHERE id = ANY(%s::uuid[]) GROUP BY status", (ids,)
            ).fetchall()
        return Counter(dict(rows))

    def drain(self, ids: list[str], timeout: float) -> float:
        started = time.monotonic()
        last_recover = started
        recovered = Counter()
        while time.monotonic() - started < timeout:
            states = self.states(ids)
            if sum(states[s] for s in FINAL) >= len(ids):
                break
            if time.monotonic() - last_recover > 5:
                for key, value in self.recover().items():
                    recovered[key] += value if isinstance(value, int) else 1
                last_recover = time.monotonic()
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        say(f"  drained in {elapsed:.1f} s; recovery job: {dict(recovered) or 'nothing to do'}")
        return elapsed

    def verify(self, name: str, ids: list[str]) -> bool:
        with harness.db_connect(self.database) as conn:
            rows = conn.execute(
                "SELECT status, error_code, score FROM analyses_analysis WHERE id = ANY(%s::uuid[])", (ids,)
            ).fetchall()
            dupes = conn.execute(
                "SELECT count(*) FROM (SELECT analysis_id FROM bench_final_events WHERE analysis_id = ANY(%s::uuid[])"
                " GROUP BY analysis_id HAVING count(*) > 1) d",
                (ids,),
            ).fetchone()[0]
        statuses = Counter(r[0] for r in rows)
        codes = Counter(r[1] for r in rows if r[0] == "failed")
        missing = len(set(ids)) - len(rows)
        stuck = sum(n for s, n in statuses.items() if s not in FINAL)
        failed_without_code = sum(1 for r in rows if r[0] == "failed" and not r[1])
        completed_without_score = sum(1 for r in rows if r[0] == "completed" and r[2] is None)
        say(f"  accepted {len(ids)}: {dict(statuses)}; failure codes {dict(codes)}")
        say(
            f"  missing rows {missing}, not final {stuck}, failed without a code {failed_without_code}, "
            f"completed without a score {completed_without_score}, reached a final state twice {dupes}"
        )
        ok = not (missing or stuck or failed_without_code or completed_without_score or dupes) and len(ids) > 0
        say(f"  {name}: {'PASS' if ok else 'FAIL'}")
        return ok

    # -- scenarios -----------------------------------------------------------------------

    def scenario_gemini(self) -> bool:
        n = self.args.submissions
        say(f"\n== gemini: {n} submissions while the fake answers 30% of calls with 429, 500, a timeout or bad JSON")
        self.fake.control({"fault_rate": 0.3, "delay": 0.2, "timeout_sleep": 4.0, "reset": True, "seed": 8})
        started = time.monotonic()
        ids, statuses = self.batch(n)
        say(f"  submitted in {time.monotonic() - started:.1f} s: answers {dict(statuses)}")
        self.drain(ids, timeout=240)
        with self.fake._lock:
            answers = dict(self.fake.stats)
        say(f"  fake Gemini answered {sum(answers.values())} calls: {answers}")
        self.fake.control({"fault_rate": 0.0})
        return self.verify("gemini", ids) and len(ids) == n

    def scenario_kill(self) -> bool:
        n = self.args.kill_batch
        say(f"\n== kill: {n} submissions (Gemini 1 s), the worker SIGKILLed mid-batch and started again")
        self.fake.control({"fault_rate": 0.0, "delay": 1.0, "reset": True})
        ids, statuses = self.batch(n)
        say(f"  submitted: answers {dict(statuses)}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = self.states(ids)
            if sum(states[s] for s in FINAL) >= n // 4:
                break
            time.sleep(0.2)
        before = self.states(ids)
        harness.stop(self.worker, sig=9)
        say(f"  SIGKILL to the worker's process group with {dict(before)}")
        time.sleep(2)
        self.worker_start()
        say("  worker started again")
        self.drain(ids, timeout=180)
        self.fake.control({"delay": 0.2})
        return self.verify("kill", ids) and len(ids) == n

    def _under_load(self, seconds: float, outage, label: str) -> tuple[list[str], dict]:
        """Submissions and reads from 8 threads for `seconds`; `outage(phase)` runs in its own thread."""
        phase = {"now": "before"}
        log: dict[str, Counter] = {}
        ids: list[str] = []
        stop_at = time.monotonic() + seconds

        def record(kind: str, status: int) -> None:
            with self.lock:
                log.setdefault(f"{kind} {phase['now']}", Counter())[status] += 1

        def dancer(i: int) -> None:
            mine: list[str] = []  # another dancer's analysis would rightly be a 404
            while time.monotonic() < stop_at:
                status, analysis_id = self.submit(i % len(self.tokens))
                record("POST analyses", status)
                if analysis_id:
                    mine.append(analysis_id)
                    with self.lock:
                        ids.append(analysis_id)
                record("GET analyses", self.read(i % len(self.tokens)))
                if mine:
                    record("GET analysis", self.read(i % len(self.tokens), mine[-1]))
                time.sleep(0.3)

        outage_thread = threading.Thread(target=outage, args=(phase,))
        threads = [threading.Thread(target=dancer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        outage_thread.start()
        for t in [*threads, outage_thread]:
            t.join()
        say(f"  answers by phase of the {label} outage (status: count; 0 = no answer):")
        for key in sorted(log, key=lambda k: (k.split()[-1] != "before", k.split()[-1] != "during", k)):
            say(f"    {key:28} {dict(sorted(log[key].items()))}")
        return ids, log

    def scenario_redis(self) -> bool:
        say("\n== redis: Redis stopped for 10 s under load (submissions and reads)")
        self.fake.control({"fault_rate": 0.0, "delay": 0.5, "reset": True})

        def outage(phase):
            time.sleep(4)
            subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
            phase["now"] = "during"
            say("  redis-cli shutdown nosave")
            time.sleep(10)
            subprocess.run(REDIS_START, check=True, capture_output=True)
            for _ in range(50):
                if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            phase["now"] = "after"
            say("  redis-server started again (empty: no persistence)")

        ids, log = self._under_load(24, outage, "Redis")
        self.drain(ids, timeout=180)
        reads_failed = sum(
            n for key, c in log.items() if key.startswith("GET") for s, n in c.items() if s not in (200,)
        )
        posts_bad = sum(
            n for key, c in log.items() if key.startswith("POST") for s, n in c.items() if s not in (201, 202, 503)
        )
        say(f"  reads not answered 200: {reads_failed}; submissions answered other than 201/202/503: {posts_bad}")
        return self.verify("redis", ids) and reads_failed == 0 and posts_bad == 0

    def scenario_postgres(self) -> bool:
        say(f"\n== postgres: PostgreSQL {PG_VERSION} stopped for 6 s under load, then started")
        self.fake.control({"fault_rate": 0.0, "delay": 0.5, "reset": True})
        recovered_after = {}

        def outage(phase):
            time.sleep(4)
            cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main"]
            subprocess.run([*cmd, "stop", "-m", "fast"], check=True, capture_output=True)
            phase["now"] = "during"
            say("  pg_ctlcluster stop -m fast")
            time.sleep(6)
            subprocess.run([*cmd, "start"], check=True, capture_output=True)
            started = time.monotonic()
            phase["now"] = "after"
            say("  pg_ctlcluster start")
            while time.monotonic() - started < 60:
                if self.read(0) == 200:
                    recovered_after["seconds"] = time.monotonic() - started
                    break
                time.sleep(0.1)

        ids, log = self._under_load(20, outage, "PostgreSQL")
        say(f"  the API answered 200 again {recovered_after.get('seconds', float('nan')):.1f} s after the start")
        self.drain(ids, timeout=180)
        during = Counter()
        for key, c in log.items():
            if key.endswith("during"):
                during.update(c)
        after_errors = sum(
            n
            for key, c in log.items()
            if key.endswith("after") and key.startswith("GET")
            for s, n in c.items()
            if s != 200
        )
        say(
            f"  while down: {dict(during)} (500s: {during[500]}); "
            f"reads after the restart not answered 200: {after_errors}"
        )
        ok_outage = during[500] == 0 and "seconds" in recovered_after
        return self.verify("postgres", ids) and ok_outage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="gemini,kill,redis,postgres")
    parser.add_argument("--submissions", type=int, default=200, help="submissions of the gemini scenario")
    parser.add_argument("--kill-batch", type=int, default=120, help="submissions of the kill scenario")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_faults")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()

    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    say(f"machine: {harness.machine()}")
    bench = Bench(args)
    results = {}
    try:
        bench.start()
        for name in scenarios:
            results[name] = getattr(bench, f"scenario_{name}")()
    finally:
        bench.stop()
    say("\n== summary")
    for name, ok in results.items():
        say(f"  {name}: {'PASS' if ok else 'FAIL'}")
    ok = len(results) == len(scenarios) and all(results.values())
    say(f"faults: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
