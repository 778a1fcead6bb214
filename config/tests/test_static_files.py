"""The app serves its own static files under production settings (WhiteNoise), so the admin has its styles."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench import harness

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-static-test-" + "y" * 20,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """collectstatic into a temporary STATIC_ROOT, then uvicorn on the ASGI app with DEBUG=false."""
    base = tmp_path_factory.mktemp("production")
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}},
        **PRODUCTION_ENV,
        "STATIC_ROOT": str(base / "static"),
        "SQLITE_PATH": str(base / "db.sqlite3"),
    }
    env.pop("DATABASE_URL", None)  # the admin login page needs no data: an empty SQLite file will do
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)  # fmt: skip
    port = harness.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        harness.wait_listening(proc, port, timeout=30)
        yield f"http://127.0.0.1:{port}", base / "static"
    finally:
        harness.stop(proc, timeout=15)


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()  # headers: case-insensitive


def test_the_admin_stylesheet_is_served_by_the_app_under_production_settings(production_server):
    base_url, static_root = production_server
    assert (static_root / "admin" / "css" / "base.css").exists()
    status, headers, body = get(f"{base_url}/static/admin/css/base.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"body" in body and len(body) > 1000


def test_the_admin_pages_link_hashed_stylesheets_that_are_cached_for_good(production_server):
    base_url, _ = production_server
    status, _, page = get(f"{base_url}/admin/login/")
    assert status == 200
    [href] = re.findall(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    status, headers, _ = get(base_url + href.decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert "immutable" in headers["Cache-Control"]
    assert headers.get("Content-Encoding") == "gzip"  # compressed at collectstatic time


def test_every_response_carries_a_request_id_under_production_settings(production_server):
    base_url, _ = production_server
    _, headers, _ = get(f"{base_url}/healthz", **{"X-Request-ID": "probe-1"})
    assert headers["X-Request-ID"] == "probe-1"


def test_the_practice_page_and_its_modules_and_mediapipe_are_served_under_production_settings(production_server):
    base_url, static_root = production_server
    if not (static_root / "mediapipe-pose" / "pose.js").exists():
        pytest.skip("frontend/vendor not built (make frontend)")
    status, _, page = get(f"{base_url}/")
    assert status == 200
    [app] = re.findall(rb'src="(/static/practice/app\.[0-9a-f]{12}\.js)"', page)
    # The modules import each other by their plain names, and MediaPipe asks for its files by theirs.
    for path in (app.decode(), "/static/practice/api.js", "/static/pose/pose-source.js"):
        assert get(base_url + path)[0] == 200, path
    status, headers, _ = get(f"{base_url}/static/mediapipe-pose/pose_solution_simd_wasm_bin.wasm")
    assert status == 200 and headers["Content-Type"] == "application/wasm"
