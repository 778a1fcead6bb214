"""What the fuzz, fault and load runs share: a bench database, gunicorn, a Celery worker, HTTP.

Everything listens on loopback only. Each run owns its own PostgreSQL database and Redis db
number, so it never touches the data of the test suite or of another bench.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
PASSWORD = "bench-password-2026"  # noqa: S105 - bench users on a throwaway database
YOUTUBE_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
FAKE_KEY = "AIzaFAKE-BENCH-KEY-0123456789"


def machine() -> str:
    """The CPU as far as it moves the figures: two "AMD EPYC" guests of different generations
    (family and model) differ by half in the pose analyzer's rate."""
    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = info.get("model name") or platform.processor() or "unknown"
    if "cpu family" in info:
        mhz = float(info.get("cpu MHz", 0))
        model += f" (family {info['cpu family']} model {info.get('model', '?')}, {mhz:.0f} MHz)"
    return f"{model}, {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_recreate(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def db_connect(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=3)


# What points a process at this run's database, broker and task mode: a child server chooses its own.
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")


def child_env(*, without=SERVICE_VARIABLES, **extra) -> dict:
    """This process's environment for a child server, less the variables `without`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in without}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def production_env(*, database: str | None, redis: str | None, media: Path, **extra: str) -> dict:
    """Production settings (DEBUG off) on loopback, with rate limits given by the caller."""
    env = child_env()
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + "s" * 60,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "MEDIA_ROOT": str(media),
            "LOG_LEVEL": "WARNING",
        }
    )
    if database:
        env["DATABASE_URL"] = database
    if redis:
        env["REDIS_URL"] = redis
    env.update({k: str(v) for k, v in extra.items()})
    return env


def migrate(env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def serve_start(env: dict, port: int, *, workers: int = 2, threads: int = 8, log: Path | None = None):
    """`make serve` on 127.0.0.1:port: the production web server exactly as docker-compose.yml's web
    service starts it (migrate, collectstatic, gunicorn -c config/gunicorn.py)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # closed with the process
    return subprocess.Popen(
        ["make", "--no-print-directory", "serve", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        env={**env, "WEB_WORKERS": str(workers), "WEB_THREADS": str(threads)},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker_start(env: dict, *, concurrency: int = 4, name: str = "bench", log: Path | None = None):
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--prefetch-multiplier=1",
            "--hostname",
            f"{name}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker_wait(redis_url: str, timeout: float = 60) -> None:
    from celery import Celery

    probe = Celery(broker=redis_url)
    deadline = time.monotonic() + timeout
    while not probe.control.ping(timeout=1.0):
        if time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not answer a ping")
    time.sleep(2)  # let every pool process finish importing


def stop(*procs, sig=signal.SIGTERM, timeout: float = 20) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
    for proc in procs:
        if proc is None:
            continue
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def request(method: str, url: str, body=None, token: str | None = None, timeout: float = 30, raw: bytes | None = None):
    """(status, parsed JSON or None, headers). Network errors raise OSError."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload, status, headers = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        payload, status, headers = exc.read(), exc.code, exc.headers
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode("utf-8", "replace")
    return status, parsed, headers


def wait_listening(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    """Until the process listens on the loopback port; raises if it exits first or is too slow."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited at start-up (code {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not listen within {timeout:.0f} s") from None
            time.sleep(0.1)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request("GET", url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200")


def register(base: str, n: int, prefix: str = "dancer") -> list[str]:
    tokens = []
    for i in range(n):
        status, body, _ = request(
            "POST",
            f"{base}/api/v1/auth/register/",
            {"email": f"{prefix}{i}@example.com", "username": f"{prefix}{i}", "password": PASSWORD},
        )
        if status != 201:
            raise RuntimeError(f"register {prefix}{i}: {status} {body}")
        tokens.append(body["access_token"])
    return tokens


_FRAMES: dict = {}


def submission(user: int, k: int, *, provider: str = "gemini", timestamp: float | None = None) -> dict:
    """A distinct, valid submission (no result-cache hit) of dancer `user`, k-th of their run."""
    import numpy as np

    from analyses.analyzers import synthetic

    t = timestamp if timestamp is not None else round((k % 600) * 0.5 + (user % 50) / 100, 2)
    rng = np.random.default_rng(user * 100_003 + k)
    pose = synthetic.pose_from_angles(**synthetic.choreography_params(t))
    pose[:, :2] += rng.normal(0.0, 0.01, size=(33, 2))
    points = synthetic.keypoints_to_dicts(pose)
    frame = base64.b64encode(synthetic.render_pose_jpeg(points, width=160, height=120)).decode()
    return {
        "youtube_url": YOUTUBE_URL,
        "timestamp": t,
        "user_frame": frame,
        "keypoints": points,
        "provider": provider,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
