"""A handful of dancers at once on the embedded default, served as `make run` serves it.

Before SQLite had WAL, a busy timeout and immediate transactions, 8 dancers creating playlists
at once saw more than half of their writes answered 503 ("database is locked").
"""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from analyses.tests.factories import submission
from bench import harness

DANCERS = 20
# The embedded default is the first half's; the services half runs PostgreSQL.
pytestmark = pytest.mark.embedded


@pytest.fixture
def make_run_server(tmp_path):
    """`make run` on a fresh SQLite file: migrate, then uvicorn on a free loopback port."""
    port = harness.free_port()
    env = harness.child_env(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        MEDIA_ROOT=str(tmp_path / "media"),
        # 20 registrations from one address: the per-IP limit (10 an hour) would refuse half of them.
        RATELIMIT_REGISTER_IP="1000/h",
    )
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"make run did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.5)
        yield base
    finally:
        harness.stop(proc, timeout=15)


def call(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def dance(base: str, n: int, start: threading.Barrier, statuses: list) -> None:
    """Five writes, each step taken by every dancer at the same moment."""
    api = f"{base}/api/v1"
    start.wait()
    status, body = call(
        "POST",
        f"{api}/auth/register/",
        {"email": f"d{n}@example.com", "username": f"d{n}", "password": "correct-horse-battery-9"},
    )
    statuses.append(status)
    token = body.get("access_token")
    start.wait()
    status, body = call("POST", f"{api}/playlists/", {"name": f"Practice {n}"}, token)
    statuses.append(status)
    start.wait()
    statuses.append(
        call(
            "POST", f"{api}/playlists/{body.get('id')}/videos/", {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"}, token
        )[0]
    )
    for timestamp in (2.0, 4.0):
        start.wait()
        statuses.append(call("POST", f"{api}/analyses/", submission(timestamp=timestamp), token)[0])


def test_it_serves_20_dancers_writing_at_once_without_a_server_error(make_run_server):
    statuses: list[int] = []
    start = threading.Barrier(DANCERS)
    threads = [threading.Thread(target=dance, args=(make_run_server, n, start, statuses)) for n in range(DANCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    counted = Counter(statuses)
    assert len(statuses) == DANCERS * 5
    assert sum(n for status, n in counted.items() if status >= 500) == 0, counted
    assert set(counted) == {201}, counted  # every write stored, none refused


def test_it_answers_the_root_with_html_on_a_fresh_make_run(make_run_server):
    with urllib.request.urlopen(f"{make_run_server}/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
