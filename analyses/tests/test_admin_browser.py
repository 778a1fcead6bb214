"""The admin reports page in a real headless Chromium (Debian's `chromium` package).

Chromium is driven by Playwright for Python, pointed at the system browser with
`executable_path` (no browser download). Skipped when /usr/bin/chromium is absent;
`.ci/run` installs it.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from analyses import reports
from analyses.models import Analysis
from analyses.tests.factories import VideoFactory
from analyses.tests.stats_factories import analysis_at

CHROMIUM = settings.CHROMIUM_BINARY

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)),
        reason=f"headless Chromium not installed at {CHROMIUM} (apt-get install chromium)",
    ),
]


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Polls a JavaScript expression (page.wait_for_function would evaluate a string, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout}s: {expression}")
        page.wait_for_timeout(100)


def admin_log_in(page, base_url, staff):
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


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
    transactional_db, live_server, browser_page, tmp_path
):
    page = browser_page
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

    admin_log_in(page, live_server.url, staff)
    page.click("#reports-link")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.evaluate("location.pathname") == "/admin/reports/"
    shot = tmp_path / "admin-reports.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    canvases = page.evaluate(CANVASES)
    assert {c["id"] for c in canvases} == {"chart-daily", "chart-score-daily", "chart-scores", "chart-failures"}
    for canvas in canvases:
        assert canvas["rendered"] == "true", canvas
        assert canvas["width"] > 100 and canvas["height"] > 100, canvas
        assert canvas["painted"] > 500, f"{canvas['id']} looks blank: {canvas}"

    figures = page.evaluate(FIGURES)
    expected = reports.report_build()["totals"]
    in_range = Analysis.objects.filter(reports.DateRange.last_days().q())
    assert figures["analyses"] == str(in_range.count()) == str(expected["analyses"]) == "15"
    assert figures["active_users"] == str(in_range.values("user").distinct().count())
    assert figures["average_score"] == str(expected["average_score"])
    assert figures["latency_p50_ms"] == str(expected["latency_p50_ms"])
    assert figures["failures:timeout"] == "2" and figures["failures:pose_not_visible"] == "1"
    assert figures[f"video:{video.youtube_id}"] == "12"
    assert figures["tokens"] == f"{expected['input_tokens']} / {expected['output_tokens']}"
