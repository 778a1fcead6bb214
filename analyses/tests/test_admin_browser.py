"""The admin reports page in a real headless Chromium (Debian's `chromium` package).

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ending in NUL on file descriptors 3 and 4), so the test needs no driver, no
WebSocket client and nothing from PyPI. Skipped when /usr/bin/chromium is absent;
`.ci/run` installs it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from analyses import reports
from analyses.models import Analysis
from analyses.tests.factories import VideoFactory
from analyses.tests.stats_factories import analysis_at

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)),
        reason=f"headless Chromium not installed at {CHROMIUM} (apt-get install chromium)",
    ),
]


def _high_fd(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 100)
    os.close(fd)
    return high


class Browser:
    """A headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, profile_dir, width=1280, height=1800):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # The child's ends go above 100 first, so moving them to 3 and 4 cannot clobber them.
        to_chrome_r, from_chrome_w = (_high_fd(to_chrome_r), _high_fd(from_chrome_w))
        flags = [
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--user-data-dir={profile_dir}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # Chromium reads commands on fd 3 and writes answers on fd 4: bash moves the pipes there.
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", script, CHROMIUM, *flags],  # bash: dash takes single-digit fds only
            pass_fds=(to_chrome_r, from_chrome_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], remaining)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, *, session=None, timeout=30.0):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def page(self, method, params=None, **kwargs):
        return self.send(method, params, session=self.session, **kwargs)

    def evaluate(self, expression):
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.page("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    def wait_for(self, expression, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(expression):
                    return
            except RuntimeError:
                pass  # the page is navigating
            time.sleep(0.1)
        raise TimeoutError(f"still false after {timeout}s: {expression}")

    def screenshot(self, path):
        data = self.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: S110 - it may already be gone; the process is reaped below
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    instance = Browser(profile)
    try:
        yield instance
    finally:
        instance.close()
        shutil.rmtree(profile, ignore_errors=True)


def admin_log_in(browser, base_url, staff):
    browser.goto(f"{base_url}/admin/login/?next=/admin/")
    browser.evaluate(
        f"document.getElementById('id_username').value = {json.dumps(staff.email)};"
        f"document.getElementById('id_password').value = {json.dumps(PASSWORD)};"
        "document.querySelector('#login-form').submit(); true"
    )
    browser.wait_for("location.pathname === '/admin/' && document.readyState === 'complete'")


CANVASES = """
Array.from(document.querySelectorAll('canvas')).map(function (c) {
  var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, painted = 0;
  for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) painted++; }
  return {id: c.id, width: c.width, height: c.height, painted: painted, rendered: c.dataset.rendered || null};
})
"""
FIGURES = """
Object.fromEntries(Array.from(document.querySelectorAll('[data-figure]')).map(
  function (e) { return [e.dataset.figure, e.textContent.trim()]; }))
"""


def test_staff_log_in_and_see_the_reports_charts_drawn_with_the_databases_figures(
    transactional_db, live_server, browser, tmp_path
):
    staff = UserFactory(is_staff=True, email="staff@example.com")
    now = timezone.now()
    video = VideoFactory(title="Chorus")
    for i in range(12):
        analysis_at(
            now - timedelta(days=i % 6, minutes=i),
            video=video,
            score=40 + 5 * i,
            latency_ms=100 + 10 * i,
            provider="gemini" if i % 3 == 0 else "pose",
            input_tokens=1000 if i % 3 == 0 else 0,
            output_tokens=200 if i % 3 == 0 else 0,
        )
    for code in ("timeout", "timeout", "pose_not_visible"):
        analysis_at(now - timedelta(days=1), status=Analysis.Status.FAILED, error_code=code)

    admin_log_in(browser, live_server.url, staff)
    assert browser.evaluate("!!document.getElementById('reports-link')")
    browser.evaluate("document.getElementById('reports-link').click(); true")
    browser.wait_for(
        "location.pathname === '/admin/reports/' && document.body.getAttribute('data-charts-ready') === 'true'"
    )
    shot = browser.screenshot(tmp_path / "admin-reports.png")
    assert shot.stat().st_size > 10_000

    canvases = browser.evaluate(CANVASES)
    assert {c["id"] for c in canvases} == {"chart-daily", "chart-score-daily", "chart-scores", "chart-failures"}
    for canvas in canvases:
        assert canvas["rendered"] == "true", canvas
        assert canvas["width"] > 100 and canvas["height"] > 100, canvas
        assert canvas["painted"] > 500, f"{canvas['id']} looks blank: {canvas}"

    figures = browser.evaluate(FIGURES)
    expected = reports.report_build()["totals"]
    in_range = Analysis.objects.filter(reports.DateRange.last_days().q())
    assert figures["analyses"] == str(in_range.count()) == str(expected["analyses"]) == "15"
    assert figures["active_users"] == str(in_range.values("user").distinct().count())
    assert figures["average_score"] == str(expected["average_score"])
    assert figures["latency_p50_ms"] == str(expected["latency_p50_ms"])
    assert figures["failures:timeout"] == "2" and figures["failures:pose_not_visible"] == "1"
    assert figures[f"video:{video.youtube_id}"] == "12"
    assert figures["tokens"] == f"{expected['input_tokens']} / {expected['output_tokens']}"
