"""Fuzz the API with schemathesis against its own OpenAPI schema (/api/schema/).

Starts `make serve` with the production settings (DEBUG off) on loopback, on a bench PostgreSQL
database (`dancecoach_fuzz`, or SQLite with --database sqlite), local-memory cache, Celery eager
and the pose analyzer, with sign-in from a hosted identity provider on (a local fake one,
bench/fake_idp.py); seeds a playlist, a session and an analysis so that ids exist; then runs
`schemathesis run` over every operation, authenticated with the bearer token of that provider
(`--auth external`, the default) or of a user registered here (`--auth local`), with the checks:

- not_a_server_error           no 5xx
- status_code_conformance      no status code the schema does not document
- content_type_conformance     the documented content type
- response_schema_conformance  every response body matches its schema

Rate limits are raised for the run (the 429 is documented anyway). Exits non-zero on any
finding or when fewer than --min-requests requests were sent.

    .venv/bin/python bench/fuzz.py                      # full: >= 2,000 requests
    .venv/bin/python bench/fuzz.py --max-examples 15 --min-requests 600   # CI
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.fake_idp import FakeIdentityProvider

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def seed(base: str, token: str | None) -> str:
    """The fuzz user's token (registered here unless given), with objects of their own and another
    user's public playlist."""
    other = harness.register(base, 1, prefix="other")[0]
    status, body, _ = harness.request(
        "POST", f"{base}/api/v1/playlists/", {"name": "public", "is_public": True}, token=other
    )
    assert status == 201, (status, body)
    token = token or harness.register(base, 1, prefix="fuzz")[0]
    status, body, _ = harness.request("POST", f"{base}/api/v1/playlists/", {"name": "mine"}, token=token)
    assert status == 201, (status, body)
    playlist = body["id"]
    status, body, _ = harness.request(
        "POST", f"{base}/api/v1/playlists/{playlist}/videos/", {"youtube_url": harness.YOUTUBE_URL}, token=token
    )
    assert status == 201, (status, body)
    status, body, _ = harness.request(
        "POST", f"{base}/api/v1/analyses/", harness.submission(0, 0, provider="pose"), token=token
    )
    assert status in (201, 202), (status, body)
    return token


# Inputs schemathesis does not make: each must be a 400 in the error shape, never a 500.
MALFORMED = [
    ("a body of 100,000 nested [", "POST", "/api/v1/playlists/", b"[" * 100_000, "parse_error"),
    (
        "1,001 query parameters",
        "GET",
        "/api/v1/videos/?" + "&".join(f"p{i}=1" for i in range(1001)),
        None,
        "too_many_fields",
    ),
]


def malformed_failures(base: str, token: str) -> list[str]:
    failures = []
    for name, method, path, raw, code in MALFORMED:
        status, body, _ = harness.request(method, base + path, token=token, raw=raw)
        codes = [e.get("code") for e in body.get("errors", [])] if isinstance(body, dict) else []
        print(f"{name}: {status} {codes}")
        if status != 400 or codes != [code]:
            failures.append(name)
    return failures


def schemathesis_command(args, base: str, token: str, har: Path, junit: Path) -> list[str]:
    return [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/api/schema/",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        # Deleting the fuzz dancer's own account would turn every later answer into a 401;
        # accounts/tests/test_account_deletion.py covers that operation.
        "--exclude-name",
        "DELETE /api/v1/auth/me/",
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "har,junit",
        "--report-har-path",
        str(har),
        "--report-junit-path",
        str(junit),
        "--no-color",
        "--output-sanitize",
        "true",
    ]


def server_env(args, idp: FakeIdentityProvider) -> dict:
    """Production settings on a fresh bench database, rate limits lifted, the fake provider configured."""
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    database = None
    extra = {}
    if args.database == "sqlite":
        extra["SQLITE_PATH"] = str(tmp / "fuzz.sqlite3")
    else:
        database = args.database
        harness.database_recreate(database)
    return harness.production_env(
        database=database,
        redis=None,
        media=tmp / "media",
        CELERY_TASK_ALWAYS_EAGER="true",
        ACCESS_TOKEN_MINUTES="240",  # noqa: S106 - a lifetime, not a password
        RATELIMIT_DEFAULT_USER="100000/m",
        RATELIMIT_DEFAULT_ANON="100000/m",
        RATELIMIT_LOGIN_IP="100000/m",
        RATELIMIT_LOGIN_EMAIL="100000/m",
        RATELIMIT_REGISTER_IP="100000/m",
        RATELIMIT_ANALYSIS_USER="100000/m",
        **idp.env(),
        **extra,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_fuzz")
    parser.add_argument("--max-examples", type=int, default=80, help="test cases per operation and phase")
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--workers", default="2", help="schemathesis workers")
    parser.add_argument("--report-dir", default=str(harness.ROOT / "bench" / "results" / "fuzz"))
    parser.add_argument("--auth", choices=["external", "local"], default="external", help="whose token to fuzz with")
    args = parser.parse_args()

    idp = FakeIdentityProvider().start()
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(args, idp)
    harness.migrate(env)
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = report_dir / "serve.log"
    server_log.write_bytes(b"")
    web = harness.serve_start(env, port, workers=2, threads=4, log=server_log)
    try:
        harness.wait_http(f"{base}/healthz")
        external = idp.token("fuzz-dancer", lifetime=4 * 3600, preferred_username="fuzz")
        token = seed(base, external if args.auth == "external" else None)
        har = report_dir / "fuzz.har"
        junit = report_dir / "junit.xml"
        cmd = schemathesis_command(args, base, token, har, junit)
        started = time.monotonic()
        print("$ schemathesis run", base + "/api/schema/", "--checks", CHECKS, "--max-examples", args.max_examples)
        code = subprocess.run(cmd, cwd=report_dir).returncode
        elapsed = time.monotonic() - started
        malformed = malformed_failures(base, token)
    finally:
        harness.stop(web)
        idp.stop()

    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    statuses = Counter(e["response"]["status"] for e in entries)
    operations = Counter(
        (e["request"]["method"], e["request"]["url"].split("?", 1)[0].replace(base, "")) for e in entries
    )
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    logged_5xx = server_log.read_text(errors="replace").count("Unhandled error")
    print()
    print(f"machine: {harness.machine()}")
    print(f"requests sent: {len(entries)} in {elapsed:.0f} s over {len(operations)} distinct method+URL pairs")
    print("status codes:", dict(sorted(statuses.items())))
    print(f"5xx answers: {server_errors}; unhandled errors in the server log: {logged_5xx}")
    print(f"schemathesis exit code: {code} (0: no check failed)")
    print(f"authenticated with: {args.auth} token; identity provider answered {dict(idp.hits)}")
    ok = code == 0 and server_errors == 0 and logged_5xx == 0 and not malformed and len(entries) >= args.min_requests
    if malformed:
        print("FAIL: not a 400 in the error shape:", ", ".join(malformed))
    if len(entries) < args.min_requests:
        print(f"FAIL: fewer than {args.min_requests} requests")
    print("fuzz:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
