"""Regenerate the real-pose fixtures: MediaPipe Pose landmarks of photographs that packages ship.

The landmarks are made the way a dancer's browser makes them: the @mediapipe/pose npm package
(frontend/, through frontend/pose/pose-source.js) in Debian's headless Chromium, driven by
Playwright. Each photograph is also mirrored (a webcam preview usually is) and tilted by +-8
degrees (a camera not quite level). The JSON lands beside the pose tests, which only read it.

Needs: requirements-dev.txt installed, /usr/bin/chromium, npm (frontend/ is installed with
`npm ci` when its node_modules is missing). Run from the project root:

    python scripts/pose_fixtures.py [--out analyses/tests/fixtures/real_poses]
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import json
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
DEFAULT_OUT = ROOT / "analyses" / "tests" / "fixtures" / "real_poses"
CHROMIUM = "/usr/bin/chromium"
# Software WebGL: MediaPipe's graph needs a GL context and this machine has no GPU.
CHROMIUM_ARGS = ["--headless=new", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
TILT_DEGREES = 8.0
DECIMALS = 6


def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def _cameraman() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.camera()).convert("RGB")


def _grace_hopper() -> Image.Image:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        return Image.open(handle).convert("RGB")


# name: (loader, where the photograph comes from)
PHOTOS = {
    "astronaut": (_astronaut, f"scikit-image {version('scikit-image')}: skimage.data.astronaut()"),
    "cameraman": (_cameraman, f"scikit-image {version('scikit-image')}: skimage.data.camera()"),
    "grace_hopper": (_grace_hopper, f"matplotlib {version('matplotlib')}: sample_data/grace_hopper.jpg"),
}


def variants(photo: Image.Image) -> dict[str, Image.Image]:
    """The photograph as shown, mirrored, and turned by +-TILT_DEGREES (counter-clockwise first).

    A turned image keeps its size, as a tilted camera's frame does; the corners it would see
    anew are black."""
    return {
        "as_shown": photo,
        "mirrored": ImageOps.mirror(photo),
        "tilted_ccw_8": photo.rotate(TILT_DEGREES, resample=Image.Resampling.BICUBIC),
        "tilted_cw_8": photo.rotate(-TILT_DEGREES, resample=Image.Resampling.BICUBIC),
    }


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm", ".js": "text/javascript"}

    def log_message(self, format, *args):
        pass


def serve_frontend() -> ThreadingHTTPServer:
    """frontend/ over HTTP on a free loopback port (MediaPipe fetches its wasm and model files)."""
    handler = functools.partial(_QuietHandler, directory=str(FRONTEND))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def mediapipe_version() -> str:
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    return lock["packages"]["node_modules/@mediapipe/pose"]["version"]


def rounded(landmarks: list[dict] | None) -> list[dict] | None:
    if landmarks is None:
        return None
    return [{k: round(float(lm[k]), DECIMALS) for k in ("x", "y", "z", "visibility")} for lm in landmarks]


def fixture_json(fixture: dict) -> str:
    """Indented JSON with one landmark per line, so a regenerated fixture diffs line by line."""
    text = json.dumps(fixture, indent=1)
    return re.sub(r"\{\s+(\"x\"[^{}]*?)\s+\}", lambda m: "{" + re.sub(r",\s+", ", ", m.group(1)) + "}", text) + "\n"


def detect_all(photos: dict[str, Image.Image]) -> tuple[dict[str, dict], str]:
    """{photo: {variant: landmarks or None}} and the browser's version."""
    from playwright.sync_api import sync_playwright

    server = serve_frontend()
    url = f"http://127.0.0.1:{server.server_address[1]}/pose/stills.html"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("pageerror", lambda exc: print("page error:", exc))
            page.goto(url)
            page.evaluate("window.poseSourceReady")
            found = {
                name: {
                    variant: rounded(page.evaluate("url => window.landmarksOf(url)", data_url(image)))
                    for variant, image in variants(photo).items()
                }
                for name, photo in photos.items()
            }
            browser_version = browser.version
            browser.close()
    finally:
        server.shutdown()
    return found, browser_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    if not (FRONTEND / "node_modules" / "@mediapipe" / "pose").is_dir():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    photos = {name: load() for name, (load, _) in PHOTOS.items()}
    found, browser_version = detect_all(photos)
    model = f"@mediapipe/pose {mediapipe_version()}, modelComplexity 1, in headless Chromium {browser_version}"

    args.out.mkdir(parents=True, exist_ok=True)
    for name, landmarks in found.items():
        fixture = {
            "photo": name,
            "source": PHOTOS[name][1],
            "size": list(photos[name].size),
            "model": model,
            "tilt_degrees": TILT_DEGREES,
            "variants": landmarks,
        }
        path = args.out / f"{name}.json"
        path.write_text(fixture_json(fixture))
        seen = {v: "no body" if lm is None else sum(p["visibility"] >= 0.5 for p in lm) for v, lm in landmarks.items()}
        print(f"{path.relative_to(ROOT)}: landmarks of visibility >= 0.5 (of 33): {seen}")


if __name__ == "__main__":
    main()
