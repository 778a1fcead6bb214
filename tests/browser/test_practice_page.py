"""The practice page at `/` in a real headless Chromium, end to end on a fresh server.

A dancer registers, picks a video, practises in front of the (fake) camera and sees scored
analyses arrive: over the WebSocket, with the WebSocket blocked (the ?wait= long-poll), and past
the analysis limit (a real 429 with Retry-After). One page serves every scenario, each with a new
dancer, so MediaPipe's model starts once. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time

import pytest

from tests.browser.conftest import ARTIFACTS, chromium_skip_reason

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_skip_reason() is not None, reason=chromium_skip_reason() or ""),
    # The server under test is self-contained (its own SQLite, no Redis): once is enough.
    pytest.mark.skipif(os.environ.get("SERVICES") == "1", reason="runs in the embedded half of make test"),
]

VIDEO_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
CHOREOGRAPHY = "/test-media/choreography.wav"
# Loading MediaPipe's model and wasm under software WebGL takes a while on a shared CPU.
MODEL_TIMEOUT_MS = 180_000
RESULTS_TIMEOUT_MS = 90_000
_dancers = itertools.count(1)


class Page:
    """The page and the switches a scenario turns: the WebSocket blocked, submissions answered 202."""

    def __init__(self, page):
        self.page = page
        self.block_socket = False
        self.answer_pending = False
        self.errors: list[str] = []
        self.pushed: list[dict] = []
        self.waited: list[str] = []
        self.throttled: list[str | None] = []


def _answer_pending(route):
    response = route.fetch()
    if response.status != 201:
        return route.fulfill(response=response)
    body = response.json()
    body.update(status="pending", score=None, good_points=[], improvements=[], advice="", short={})
    route.fulfill(response=response, status=202, json=body)


@pytest.fixture(scope="module")
def practice(browser, server, media):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900}, permissions=["camera"])
    page = context.new_page()
    state = Page(page)
    page.on("pageerror", lambda exc: state.errors.append(str(exc)))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: state.pushed.append(json.loads(payload))))
    page.on("request", lambda r: state.waited.append(r.url) if "wait=10" in r.url else None)
    page.on("response", lambda r: state.throttled.append(r.headers.get("retry-after")) if r.status == 429 else None)
    # The local <video> player's file, served at a same-origin path by the browser itself.
    page.route(f"**{CHOREOGRAPHY}", lambda route: route.fulfill(path=media["choreography"], content_type="audio/wav"))
    page.route_web_socket("**/ws/analyses/**", lambda ws: ws.close() if state.block_socket else ws.connect_to_server())
    page.route(
        "**/api/v1/analyses/",
        lambda route: (
            _answer_pending(route) if state.answer_pending and route.request.method == "POST" else route.fallback()
        ),
    )
    page.goto(f"/?player=file&src={CHOREOGRAPHY}&cadence=3&lang=en")
    page.wait_for_selector("body[data-ready=true]")
    yield state
    context.close()


@pytest.fixture
def fresh(practice, request):
    """A new dancer on the shared page; a screenshot when the scenario fails."""
    page = practice.page
    if page.get_by_role("button", name="Sign out").is_visible():
        page.get_by_role("button", name="Sign out").click()
    practice.block_socket = practice.answer_pending = False
    for seen in (practice.errors, practice.pushed, practice.waited, practice.throttled):
        seen.clear()
    yield practice
    if getattr(request.node, "call_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failed.png"), full_page=True)


def register_and_practise(page) -> None:
    page.get_by_role("button", name="New here? Create an account").click()
    n = next(_dancers)
    page.get_by_label("Email").fill(f"dancer{n}@example.com")
    page.get_by_label("Name").fill(f"dancer{n}")
    page.get_by_label("Password").fill("a-long-dance-password")
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("YouTube URL").fill(VIDEO_URL)
    page.get_by_role("button", name="Practise this video").click()
    page.wait_for_selector("#status:has-text('Camera and pose model ready')", timeout=MODEL_TIMEOUT_MS)
    page.wait_for_selector("#play:enabled")
    page.get_by_role("button", name="Start").click()


def wait_for_completed(page, count: int) -> None:
    # Polled from here: wait_for_function evaluates a string, which the page's policy forbids.
    deadline = time.monotonic() + RESULTS_TIMEOUT_MS / 1000
    while int(page.locator("#count").inner_text()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} completed analyses in time"
        page.wait_for_timeout(500)


def test_it_registers_practises_and_shows_scored_analyses_pushed_over_the_websocket(fresh, screenshot):
    page = fresh.page
    register_and_practise(page)

    wait_for_completed(page, 3)
    screenshot(page, "practice")
    assert re.fullmatch(r"\d{1,3}", page.locator("#score").inner_text())
    assert page.locator("#band").inner_text() in {"Great", "Good", "Keep working"}
    assert page.locator("#advice").inner_text().strip()
    assert "WebSocket" in page.locator("#live-mode").inner_text()
    completed = {m["analysis"]["id"] for m in fresh.pushed if m.get("analysis", {}).get("status") == "completed"}
    assert len(completed) >= 3

    page.get_by_role("button", name="End practice").click()
    page.wait_for_selector("#session-figures")
    screenshot(page, "report")
    assert re.search(r"Analyses: [3-9]", page.locator("#session-figures").inner_text())
    assert fresh.errors == []


def test_it_falls_back_to_long_polling_when_the_websocket_is_blocked(fresh, screenshot):
    # No socket ever opens, and every submission answers 202 pending as a server with a worker
    # does: each result has to come from GET analyses/{id}/?wait=.
    fresh.block_socket = fresh.answer_pending = True
    page = fresh.page
    register_and_practise(page)

    wait_for_completed(page, 3)
    screenshot(page, "long-poll")
    assert "polling" in page.locator("#live-mode").inner_text()
    assert len(fresh.waited) >= 3
    assert re.fullmatch(r"\d{1,3}", page.locator("#score").inner_text())
    assert fresh.errors == []


def test_it_waits_out_a_429_for_as_long_as_retry_after_says(fresh, screenshot):
    page = fresh.page
    register_and_practise(page)

    # The server allows three frames a minute (conftest.ANALYSIS_LIMIT): the fourth is refused.
    page.wait_for_selector("#status:has-text('Too many frames')", timeout=RESULTS_TIMEOUT_MS)
    screenshot(page, "throttled")
    assert fresh.throttled and fresh.throttled[0] is not None
    assert f"waiting {fresh.throttled[0]} s" in page.locator("#status").inner_text()
    assert int(page.locator("#count").inner_text()) >= 3
    assert fresh.errors == []
