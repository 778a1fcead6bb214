"""A fresh server and one headless Chromium for the practice page's browser tests.

The server is `make run`'s (uvicorn on config.asgi, the embedded default) on its own SQLite file,
started once for the module. Chromium is Debian's, driven by Playwright, with a fake webcam fed
from a short video of scikit-image's astronaut (a real photograph: MediaPipe finds her pose).
"""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from bench import harness

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = settings.CHROMIUM_BINARY
ARTIFACTS = ROOT / "test-artifacts"
# The analysis limit of the test server: three frames a minute, so the fourth is a real 429.
ANALYSIS_LIMIT = "3/m"


def chromium_skip_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"headless Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    if not (ROOT / "frontend" / "vendor" / "mediapipe-pose" / "pose.js").exists():
        return "MediaPipe Pose not copied into frontend/vendor: run `make frontend` (make test does)"
    return None


def y4m(path: Path, canvas: Image.Image, frames: int = 5) -> Path:
    """A short 640x480 Y4M video (4:2:0, full-range YCbCr) of one picture, for Chromium's fake camera."""
    y, cb, cr = (np.asarray(plane) for plane in canvas.convert("YCbCr").split())
    half = (320, 240)
    u = np.asarray(Image.fromarray(cb).resize(half))
    v = np.asarray(Image.fromarray(cr).resize(half))
    frame = b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + frame * frames)
    return path


def astronaut_y4m(path: Path, frames: int = 5) -> Path:
    """The astronaut (a real photograph: MediaPipe finds her pose) on a dark grey backdrop."""
    from skimage import data

    photo = Image.fromarray(data.astronaut()).resize((480, 480))
    canvas = Image.new("RGB", (640, 480), (40, 40, 40))
    canvas.paste(photo, (80, 0))
    return y4m(path, canvas, frames)


def empty_room_y4m(path: Path, frames: int = 5) -> Path:
    """The same backdrop with nobody in front of it: an empty room."""
    return y4m(path, Image.new("RGB", (640, 480), (40, 40, 40)), frames)


def astronaut_png_data_url() -> str:
    import base64
    import io

    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def silent_wav(path: Path, seconds: int = 120) -> Path:
    """The choreography in the tests: silence the local <video> player can play (YouTube is unreachable)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 8000 * seconds)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    return {
        "camera": astronaut_y4m(folder / "astronaut.y4m"),
        "empty_room": empty_room_y4m(folder / "empty-room.y4m"),
        "choreography": silent_wav(folder / "silence.wav"),
    }


@pytest.fixture(scope="module")
def server_env(tmp_path_factory):
    """The environment of the test server: its own SQLite file, in-process analyses, no Redis."""
    folder = tmp_path_factory.mktemp("server")
    return harness.child_env(
        without=("REDIS_URL", "DJANGO_SETTINGS_MODULE", "SERVICES"),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="true",
        MEDIA_ROOT=str(folder / "media"),
        DEBUG="true",
        LOG_LEVEL="WARNING",
        RATELIMIT_ANALYSIS_USER=ANALYSIS_LIMIT,
        # Every scenario registers a new dancer from 127.0.0.1: more than the default 10 an hour.
        RATELIMIT_REGISTER_IP="100/h",
        GEMINI_API_KEY="",
    )


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def server(server_env):
    """A fresh server (migrated SQLite file, in-process analyses, in-memory channel layer)."""
    env = server_env
    port = harness.free_port()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        harness.wait_listening(proc, port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        harness.stop(proc, timeout=15)


def launch(playwright, camera: Path):
    """Debian's Chromium, headless, its fake webcam playing `camera` (a Y4M file) in a loop."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless=new",
            # Software WebGL: MediaPipe's graph needs a GL context and these machines have no GPU.
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
            "--autoplay-policy=no-user-gesture-required",
            "--no-sandbox",  # CI runs as root
        ],
    )


@pytest.fixture(scope="module")
def playwright():
    # One driver per module: Playwright's sync API allows only one running in a thread.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright, media):
    instance = launch(playwright, media["camera"])
    yield instance
    instance.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def screenshot(request):
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
