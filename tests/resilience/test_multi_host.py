"""Several hosts sharing only PostgreSQL, Redis and an S3 endpoint (services half of `make test`).

A web process and two Celery workers, each started in its own empty working directory with its
own empty MEDIA_ROOT (no disk in common), against moto's S3 server on loopback and the fake
Gemini. 50 analyses are submitted over HTTP; one worker is SIGKILLed mid-run; every analysis still
completes, none is analysed twice (beyond the one call its killed worker had in flight), and the
frames are objects in the bucket, on no local disk.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from analyses.models import Analysis
from analyses.services import maintenance
from analyses.tests.factories import frame_b64
from bench import harness
from bench.fake_gemini import FakeGemini

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "multi-host-frames"
ANALYSES = 50
DANCERS = 5
GOOD = {
    "score": 64,
    "good_points": ["Arms"],
    "improvements": ["Knees"],
    "advice": "Bend more.",
    "short_good_points": ["Arms"],
    "short_improvements": ["Knees"],
    "short_advice": "Bend",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint():
    """moto's S3 server on loopback: what a second host would reach over the network."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per S3 request in the output
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


@pytest.fixture
def hosts(tmp_path, s3_endpoint, settings):
    """Start processes, each in a fresh directory of its own; stop them all at the end."""
    from config.celery import app

    endpoint, _ = s3_endpoint
    db = connection.settings_dict
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_"))}
    shared = {
        **base,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": "multi-host-" + "k" * 60,
        "JWT_SIGNING_KEY": django_settings.SIMPLE_JWT["SIGNING_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "RATELIMIT_ANALYSIS_USER": "1000/m",
        "RATELIMIT_DEFAULT_USER": "1000/m",
    }
    procs = []
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the recovery job below publishes through the broker
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def start(name: str, argv: list[str], **env) -> tuple[subprocess.Popen, Path]:
        home = tmp_path / name
        (home / "media").mkdir(parents=True)
        full_env = {**shared, "MEDIA_ROOT": str(home / "media"), **{k: str(v) for k, v in env.items()}}
        log = open(tmp_path / f"{name}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=home,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        return proc, home

    start.stop_all = lambda: harness.stop(*procs)
    try:
        yield start
    finally:
        app.conf.task_always_eager = previous
        start.stop_all()
        app.control.purge()


def wait_until(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def post(base: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/analyses/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        return json.loads(response.read())


def worker_argv(name: str) -> list[str]:
    return [
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--prefetch-multiplier=1",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"{name}-{os.getpid()}@%h",
    ]


class RedisCommands(threading.Thread):
    """Counts the commands every process sends to this run's Redis database (MONITOR)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0)
        self.db = self.client.connection_pool.connection_kwargs.get("db", 0)
        self.count, self.stopped = 0, threading.Event()
        self.ready = threading.Event()

    def run(self):
        with self.client.monitor() as monitor:
            self.ready.set()
            while not self.stopped.is_set():
                try:
                    command = monitor.next_command()
                except Exception:  # noqa: S112 - the read timed out: look at the flag again
                    continue
                self.count += int(command.get("db") == self.db)


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's and Celery's pools), in MiB."""
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid), "--ppid", str(pid)], capture_output=True, text=True)
    return round(sum(int(kib) for kib in out.stdout.split()) / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children have used so far."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    total = 0
    for each in [pid, *(int(p) for p in out.split())]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def rows_written() -> int:
    """Rows inserted, updated and deleted in the test database so far (every backend's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def footprint_report(*, rows: int, redis_commands: int, seconds: float, calls: int, retried: int, rss: dict) -> dict:
    report = {
        **rss,
        "analyses": ANALYSES,
        "seconds": round(seconds, 1),
        "pg_rows_written_per_analysis": round(rows / ANALYSES, 1),
        "redis_commands_per_analysis": round(redis_commands / ANALYSES, 1),
        "gemini_analyze_calls": calls,
        "analyses_retried_after_the_kill": retried,
    }
    print("multi-host footprint:", json.dumps(report))
    if os.environ.get("MULTI_HOST_RESULTS"):
        Path(os.environ["MULTI_HOST_RESULTS"]).write_text(json.dumps(report, indent=2) + "\n")
    return report


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def test_a_web_process_and_two_workers_sharing_only_services_complete_50_analyses_through_a_kill(
    hosts, s3_endpoint, settings
):
    _, s3 = s3_endpoint
    settings.ANALYSIS_STUCK_AFTER_SECONDS = 10
    with FakeGemini(delay=0.3) as fake:
        fake.default = ("ok", GOOD)
        gemini = {
            "GEMINI_API_KEY": "AIzaFAKE-MULTI-HOST",
            "GEMINI_BASE_URL": fake.base_url,
            "CELERY_TASK_TIME_LIMIT": "8",  # a killed worker's lease runs out 18 s later
            "CELERY_TASK_SOFT_TIME_LIMIT": "7",
            "CELERY_VISIBILITY_TIMEOUT": "15",
        }
        port = free_port()
        web, web_home = hosts(
            "web",
            ["-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.py")],
            HOST="127.0.0.1",
            PORT=port,
            WEB_WORKERS=1,
            WEB_THREADS=4,
            **gemini,
        )
        doomed, doomed_home = hosts("worker-a", worker_argv("worker-a"), **gemini)
        survivor, survivor_home = hosts("worker-b", worker_argv("worker-b"), **gemini)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{base}/readyz"), timeout=60, what="the web process never became ready")
        from config.celery import app

        wait_until(lambda: len(app.control.ping(timeout=1.0)) >= 2, timeout=60, what="the workers never answered")

        tokens = [str(RefreshToken.for_user(UserFactory()).access_token) for _ in range(DANCERS)]
        ids, errors = [], []
        redis_commands = RedisCommands(os.environ["REDIS_URL"])
        redis_commands.start()
        redis_commands.ready.wait(5)
        rows_before, started = rows_written(), time.monotonic()

        def dancer(n: int):
            try:
                for i in range(n, ANALYSES, DANCERS):
                    body = {
                        "youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                        "timestamp": 1.0 + i,  # distinct inputs: no result-cache hit, one call each
                        "user_frame": frame_b64(fmt="PNG", shade=i),
                        "provider": "gemini",
                    }
                    ids.append(post(base, tokens[n], body)["id"])
            except Exception as exc:  # reported below, in the test's own thread
                errors.append(exc)

        threads = [threading.Thread(target=dancer, args=(n,)) for n in range(DANCERS)]
        for thread in threads:
            thread.start()

        def completed() -> int:
            return Analysis.objects.filter(status=Analysis.Status.COMPLETED).count()

        wait_until(lambda: len(ids) >= 10, timeout=60, what="nothing submitted")
        web_cpu, web_from = cpu_seconds(web.pid), len(ids)  # warm by now: steady-state CPU from here on
        wait_until(lambda: completed() >= 10, timeout=60, what="nothing completed")
        os.killpg(doomed.pid, signal.SIGKILL)  # the whole worker host dies, tasks in flight with it
        killed_at = completed()
        worker_cpu = cpu_seconds(survivor.pid)  # warm by now: steady-state CPU from here on
        for thread in threads:
            thread.join()
        web_cpu = (cpu_seconds(web.pid) - web_cpu) / max(1, ANALYSES - web_from)
        assert errors == [] and len(ids) == ANALYSES

        def all_final() -> bool:
            maintenance.analyses_recover_stuck()  # what beat runs every minute
            return Analysis.objects.filter(pk__in=ids, status__in=Analysis.FINAL_STATUSES).count() == ANALYSES

        wait_until(all_final, timeout=90, what="some analyses never completed after the kill")
        seconds = time.monotonic() - started
        redis_commands.stopped.set()
        assert web.poll() is None and survivor.poll() is None
        rss = {
            "web_rss_mib_1_process": rss_mib(web.pid),
            "worker_rss_mib_2_processes": rss_mib(survivor.pid),
            "web_cpu_ms_per_submission": round(1000 * web_cpu, 1),
            "worker_cpu_ms_per_analysis": round(
                1000 * (cpu_seconds(survivor.pid) - worker_cpu) / max(1, ANALYSES - killed_at), 1
            ),
        }
        hosts.stop_all()  # a backend's statistics are flushed when it exits
        rows = rows_written() - rows_before

        analyses = list(Analysis.objects.filter(pk__in=ids))
        assert {a.status for a in analyses} == {"completed"}, {a.error_code for a in analyses}
        assert {a.score for a in analyses} == {64} and killed_at < ANALYSES
        # None twice: one analyzer call each, plus at most one per process the kill interrupted.
        calls = [r for r in fake.requests if "responseJsonSchema" in json.dumps(r.body)]
        retried = sum(1 for a in analyses if a.attempts > 1)
        assert ANALYSES <= len(calls) <= ANALYSES + min(retried, 2), (len(calls), retried)
        footprint_report(
            rows=rows, redis_commands=redis_commands.count, seconds=seconds, calls=len(calls), retried=retried, rss=rss
        )

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1000)["Contents"])
    assert keys == sorted(a.frame.name for a in analyses)
    for home in (web_home, doomed_home, survivor_home):
        assert files_under(home) == [], home  # no frame (nor anything else) on any host's disk
