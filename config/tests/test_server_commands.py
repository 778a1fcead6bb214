"""The two server commands, run for real: `make serve`'s (scripts/serve) and `make run`'s (config/run.py).

Each serves the admin with its styles, keeps access tokens out of its log, refuses a huge body
before reading it, and keeps a forwarded address from an untrusted peer out of REMOTE_ADDR.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    "serve": ["sh", "scripts/serve"],
    "run": [sys.executable, "-m", "config.run"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module", params=sorted(COMMANDS))
def server(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp(request.param)
    port = free_port()
    keep = {"PATH", "HOME", "LANG", "VIRTUAL_ENV", "NUMBA_CACHE_DIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DEBUG="false",
        SECRET_KEY="server-commands-test-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        MEDIA_ROOT=str(tmp_path / "media"),
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="INFO",
        RATELIMIT_REGISTER_IP="5/h",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_WORKERS="1",
        PYTHON=sys.executable,
    )
    if request.param == "run":  # make run migrates first, as scripts/serve does
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            COMMANDS[request.param], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if http("GET", f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.3)
        yield base, port, log
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_it_serves_the_admin_with_its_collected_styles(server):
    base, _, _ = server
    status, page = http("GET", f"{base}/admin/login/")
    assert status == 200
    stylesheet = page.decode().split('href="/static/admin/css/', 1)[1].split('"', 1)[0]
    assert http("GET", f"{base}/static/admin/css/{stylesheet}")[0] == 200


def test_it_keeps_access_tokens_out_of_its_log(server):
    base, port, log = server
    status, body = http(
        "POST",
        f"{base}/api/v1/auth/register/",
        json.dumps({"email": "logs@example.com", "username": "logs", "password": "a-long-password-2026"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 201, body
    token = json.loads(body)["access_token"]
    with connect(f"ws://127.0.0.1:{port}/ws/analyses/?token={token}", origin=base, open_timeout=10) as ws:
        ws.ping().wait(5)  # accepted and alive
    assert http("GET", f"{base}/api/v1/auth/me/?token={token}", headers={"Authorization": f"Bearer {token}"})[0] == 200
    time.sleep(0.5)
    text = log.read_text()
    assert "/ws/analyses/" in text and "/api/v1/auth/me/" in text  # the lines are there, without queries
    assert token not in text and token.split(".")[2] not in text


def test_it_refuses_a_300_mib_body_before_reading_it(server):
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 413 ")


def test_it_ignores_forwarded_addresses_from_an_untrusted_peer(server):
    base, _, _ = server
    statuses = [
        http(
            "POST",
            f"{base}/api/v1/auth/register/",
            json.dumps(
                {"email": f"x{n}@example.com", "username": f"x{n}", "password": "a-long-password-2026"}
            ).encode(),
            {"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n}"},
        )[0]
        for n in range(8)
    ]
    # One client address for all eight (the peer's), so the per-address limit of 5 an hour applies.
    assert 429 in statuses, statuses


def test_it_shortens_the_gil_switch_interval_in_each_web_worker():
    from config import gunicorn

    before = sys.getswitchinterval()
    try:
        gunicorn.post_worker_init(worker=None)
        assert sys.getswitchinterval() == pytest.approx(gunicorn.GIL_SWITCH_INTERVAL_SECONDS)
        assert gunicorn.GIL_SWITCH_INTERVAL_SECONDS < before
    finally:
        sys.setswitchinterval(before)
