"""Side by side with the FastAPI peer (../shared/peers/seed_fastapi/), in one run.

- History first page of the dancer with 10,000 analyses in a table of 1,000,000: `make serve`
  (the production web server) against the peer, both with 2 server processes on the same
  PostgreSQL, under `wrk -t2 -c32`; requests per second and p99 latency, medians of the rounds.
  Targets: req/s ratio >= 1.0 and p99 no worse than the peer's.
- `GET auth/me/` under `make serve` against the same view on plain gunicorn (gthread, the WSGI
  app, same processes and threads): the serving path's own cost. Target: ratio >= 0.95.

The peer is built as its bench.sh builds it (a venv outside the repo, PEER_VENV or /tmp/peer) and
loads its own database (`peer`); the project's database is filled once by bench/gen_analyses.py
with the same sizes and kept. Needs PostgreSQL and Redis on localhost and `wrk`.

    .venv/bin/python bench/peer.py [--rounds 3 --seconds 15 --database ... --redis ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.gen_analyses import HEAVY_EMAIL  # noqa: E402

# shared/ sits beside the checkout (../shared), or beside the folder of worktrees.
PEER_DIR = next(
    (base / "shared" / "peers" / "seed_fastapi" for base in ROOT.parents if (base / "shared" / "peers").is_dir()),
    ROOT.parent / "shared" / "peers" / "seed_fastapi",
)
PEER_PACKAGES = ["fastapi", "uvicorn[standard]", "sqlalchemy[asyncio]", "asyncpg", "pyjwt"]
HISTORY = "/api/v1/analyses/?limit=10&offset=0"
PEER_HISTORY = "/api/v1/analysis/history?limit=10&offset=0"
ME = "/api/v1/auth/me/"
PROCESSES = 2


def peer_build(venv: Path) -> None:
    if not (venv / "bin" / "uvicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEER_PACKAGES], check=True)
    psql = ["psql", "-U", "postgres", "-h", "127.0.0.1", "-tA"]
    loaded = subprocess.run([*psql, "-d", "peer", "-c", "select count(*) from analyses"], capture_output=True)
    if loaded.returncode != 0:
        subprocess.run([*psql, "-c", "CREATE DATABASE peer"], check=False, capture_output=True)
        subprocess.run([*psql, "-q", "-d", "peer", "-f", str(PEER_DIR / "load.sql")], check=True)


def project_load(database: str) -> None:
    """Fill the project's database once (same sizes as the peer's); later runs keep it."""
    try:
        with harness.db_connect(database) as conn:
            rows = conn.execute(
                "SELECT count(*) FROM analyses_analysis a JOIN accounts_user u ON u.id = a.user_id WHERE u.email = %s",
                [HEAVY_EMAIL],
            ).fetchone()[0]
        if rows == 10_000:
            return
    except Exception as exc:  # no database or no tables yet
        print(f"loading {database}: {exc.__class__.__name__}")
    subprocess.run(
        [sys.executable, "bench/gen_analyses.py", "--database", database, "--analyses", "1000000", "--heavy", "10000"],
        cwd=ROOT,
        check=True,
    )


def project_token(env: dict) -> str:
    script = (
        "import django; django.setup();"
        "from accounts.models import User; from rest_framework_simplejwt.tokens import RefreshToken;"
        f"print(RefreshToken.for_user(User.objects.get(email={HEAVY_EMAIL!r})).access_token)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def wrk(url: str, token: str, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad or "Socket errors" in out:
        raise RuntimeError(f"{url}: errors under load\n{out}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p99": _ms(out, r"^\s+99%\s+(\S+)")}


def _ms(text: str, pattern: str) -> float:
    value = re.search(pattern, text, re.M).group(1)
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    raise ValueError(value)


def servers_start(args, env: dict, tmp: Path) -> dict:
    ports = {name: harness.free_port() for name in ("serve", "gunicorn", "peer")}
    procs = {
        "serve": harness.serve_start(
            env, ports["serve"], workers=PROCESSES, threads=args.threads, log=tmp / "serve.log"
        ),
        "gunicorn": subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                *(
                    "--bind",
                    f"127.0.0.1:{ports['gunicorn']}",
                    "--workers",
                    str(PROCESSES),
                    "--threads",
                    str(args.threads),
                ),
                *("--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=open(tmp / "gunicorn.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        "peer": subprocess.Popen(
            [
                *(str(args.peer_venv / "bin" / "uvicorn"), "app:app", "--host", "127.0.0.1"),
                *("--port", str(ports["peer"]), "--workers", str(PROCESSES), "--log-level", "warning"),
            ],
            cwd=PEER_DIR,
            env={**os.environ, "PEER_DB": args.peer_database},
            stdout=open(tmp / "peer.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    }
    return {name: (procs[name], f"http://127.0.0.1:{ports[name]}") for name in procs}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="WEB_THREADS of make serve (its default), of gunicorn")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration of each measurement")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_peer_bench")
    parser.add_argument("--peer-database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/peer")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--peer-venv", type=Path, default=Path(os.environ.get("PEER_VENV", "/tmp/peer")))  # noqa: S108 - as bench.sh
    args = parser.parse_args()

    peer_build(args.peer_venv)
    project_load(args.database)
    tmp = ROOT / "bench" / "results" / "peer"
    tmp.mkdir(parents=True, exist_ok=True)
    # Production settings; limits high enough never to refuse, but counted on every request.
    env = harness.production_env(
        database=args.database,
        redis=args.redis,
        media=tmp / "media",
        STATIC_ROOT=tmp / "static",
        ACCESS_TOKEN_MINUTES=600,
        RATELIMIT_DEFAULT_USER="100000000/m",
    )
    token = project_token(env)
    peer_token = subprocess.run(
        [str(args.peer_venv / "bin" / "python"), "-c", "import app; print(app.token_for(1))"],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    servers = servers_start(args, env, tmp)
    try:
        runs = measure(args, servers, token, peer_token)
    finally:
        harness.stop(*(proc for proc, _ in servers.values()))
    report(args, runs)


def measure(args, servers: dict, token: str, peer_token: str) -> dict:
    plan = {
        "peer history": (servers["peer"][1] + PEER_HISTORY, peer_token),
        "serve history": (servers["serve"][1] + HISTORY, token),
        "serve me": (servers["serve"][1] + ME, token),
        "gunicorn me": (servers["gunicorn"][1] + ME, token),
    }
    for name, (_, base) in servers.items():
        harness.wait_http(base + ("/docs" if name == "peer" else "/healthz"), timeout=120)
    for url, bearer in plan.values():
        wrk(url, bearer, 3)  # warm-up: imports, connections, prepared statements
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    for _ in range(args.rounds):
        for name, (url, bearer) in plan.items():
            runs[name].append(wrk(url, bearer, args.seconds))
            time.sleep(1)
    return runs


def report(args, runs: dict) -> None:
    med = {name: {k: statistics.median(r[k] for r in rounds) for k in ("rps", "p99")} for name, rounds in runs.items()}
    print(f"machine: {harness.machine()}; wrk -t2 -c32 -d{args.seconds}s, {args.rounds} rounds, medians")
    print(f"servers: {PROCESSES} processes each; make serve and gunicorn with {args.threads} threads per process")
    for name, rounds in runs.items():
        each = ", ".join(f"{r['rps']:.0f}" for r in rounds)
        print(f"{name:15} {med[name]['rps']:8.1f} req/s  p99 {med[name]['p99']:7.2f} ms   (rounds: {each} req/s)")
    history = med["serve history"]["rps"] / med["peer history"]["rps"]
    p99_ok = med["serve history"]["p99"] <= med["peer history"]["p99"]
    me = med["serve me"]["rps"] / med["gunicorn me"]["rps"]
    print(f"history: make serve / peer = {history:.2f} (target >= 1.0): {'ok' if history >= 1.0 else 'MISSED'}")
    print(
        f"history p99: make serve {med['serve history']['p99']:.2f} ms vs peer {med['peer history']['p99']:.2f} ms "
        f"(target: no worse): {'ok' if p99_ok else 'MISSED'}"
    )
    print(f"GET me: make serve / plain gunicorn = {me:.2f} (target >= 0.95): {'ok' if me >= 0.95 else 'MISSED'}")


if __name__ == "__main__":
    main()
