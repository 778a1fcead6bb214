"""The practice page at `/` in a real headless Chromium, end to end on a fresh server.

A dancer registers, picks a video, practises in front of the (fake) camera and sees scored
analyses arrive: over the WebSocket, with the WebSocket blocked (the ?wait= long-poll), and past
the analysis limit (a real 429 with Retry-After). One page serves every scenario, each with a new
dancer, so MediaPipe's model starts once. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import itertools
import json
import re
import time

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT, chromium_skip_reason, launch, manage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_skip_reason() is not None, reason=chromium_skip_reason() or ""),
    # The server under test is self-contained (its own SQLite, no Redis): once is enough.
    pytest.mark.embedded,
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
        self.report = False
        self.submissions = "real"  # or "offline", "failed"
        self.errors: list[str] = []
        self.pushed: list[dict] = []
        self.waited: list[str] = []
        self.throttled: list[str | None] = []


def _submission(route, state) -> None:
    if route.request.method != "POST":
        return route.fallback()
    if state.answer_pending:
        return _answer_pending(route)
    if state.submissions == "offline":
        return route.abort("connectionrefused")
    if state.submissions == "failed":
        return _answer_failed(route)
    return route.fallback()


def _answer_failed(route):
    response = route.fetch()
    body = response.json()
    if response.status == 201:
        message = "Both shoulders must be visible to the camera to score the pose."
        body.update(status="failed", score=None, error={"code": "pose_not_visible", "message": message})
    route.fulfill(response=response, json=body)


def _answer_pending(route):
    response = route.fetch()
    if response.status != 201:
        return route.fulfill(response=response)
    body = response.json()
    body.update(status="pending", score=None, good_points=[], improvements=[], advice="", short={})
    route.fulfill(response=response, status=202, json=body)


REPORT = {
    "timeline": [
        {"analysis_id": "a1", "timestamp": 3.0, "score": 70, "weakest_part": "left_arm"},
        {"analysis_id": "a2", "timestamp": 6.0, "score": 40, "weakest_part": "left_arm"},
        {"analysis_id": "a3", "timestamp": 9.0, "score": 85, "weakest_part": "legs"},
    ],
    "worst_moments": [{"start": 5.0, "end": 8.0, "average_score": 40, "body_parts": ["left_arm", "torso"]}],
    "body_parts": {"left_arm": 48.5, "torso": 66.0, "legs": 81.0},
    "previous": {"session_id": "s0", "average_score": 59.0, "delta": 6.0},
    "summary": "Your left arm lost most points around 5-8 s; loop that stretch.",
}
BOARD = {
    "period": "week",
    "results": [{"rank": 1, "display_name": "mika", "score": 88.0, "sessions": 3}],
    "me": {"rank": None, "score": 65.0},
}


def _serve_media(route, path):
    """The file, honouring Range as a web server does: a media element seeks with range requests."""
    data = path.read_bytes()
    match = re.match(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
    if not match:
        return route.fulfill(body=data, content_type="audio/wav", headers={"Accept-Ranges": "bytes"})
    start = int(match[1])
    end = int(match[2]) if match[2] else len(data) - 1
    route.fulfill(
        status=206,
        body=data[start : end + 1],
        content_type="audio/wav",
        headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(data)}"},
    )


def _fulfil_or_fall_back(route, answer: bool, body: dict):
    return route.fulfill(json=body) if answer else route.fallback()


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
    page.route(f"**{CHOREOGRAPHY}", lambda route: _serve_media(route, media["choreography"]))
    page.route_web_socket("**/ws/analyses/**", lambda ws: ws.close() if state.block_socket else ws.connect_to_server())
    page.route(
        "**/api/v1/analyses/",
        lambda route: _submission(route, state),
    )
    # The report and the board answered with fixed bodies where a scenario needs worst moments and rivals.
    page.route("**/api/v1/sessions/*/report/", lambda route: _fulfil_or_fall_back(route, state.report, REPORT))
    page.route("**/api/v1/videos/*/leaderboard/", lambda route: _fulfil_or_fall_back(route, state.report, BOARD))
    page.goto(f"/?player=file&src={CHOREOGRAPHY}&cadence=3&lang=en")
    page.wait_for_selector("body[data-ready=true]")
    yield state
    context.close()


@pytest.fixture
def fresh(practice, request):
    """A new dancer on the shared page; a screenshot when the scenario fails."""
    page = practice.page
    sign_out(page)
    practice.block_socket = practice.answer_pending = practice.report = False
    practice.submissions = "real"
    for seen in (practice.errors, practice.pushed, practice.waited, practice.throttled):
        seen.clear()
    yield practice
    if getattr(request.node, "call_failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failed.png"), full_page=True)
    # Signing out stops the camera and the pose loop: MediaPipe on a software GPU would otherwise
    # keep a core busy through the scenarios that follow in other pages and browsers.
    sign_out(page)


def sign_out(page) -> None:
    if page.get_by_role("button", name="Sign out").is_visible():
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_selector("#auth:visible")


PASSWORD = "a-long-dance-password"
# axe-core, the accessibility engine, from the frontend's dev dependencies (`make frontend` installs it).
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def register_and_pick(page, video_url: str = VIDEO_URL) -> str:
    page.get_by_role("button", name="New here? Create an account").click()
    n = next(_dancers)
    email = f"dancer{n}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill(f"dancer{n}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("YouTube URL").fill(video_url)
    page.get_by_role("button", name="Practise this video").click()
    return email


def register_and_practise(page, video_url: str = VIDEO_URL) -> str:
    email = register_and_pick(page, video_url)
    page.wait_for_selector("#status:has-text('Camera and pose model ready')", timeout=MODEL_TIMEOUT_MS)
    page.wait_for_selector("#play:enabled")
    page.get_by_role("button", name="Start").click()
    return email


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

    # A phone held sideways: both videos, the buttons and the score fit the screen without scrolling.
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_timeout(300)
    screenshot(page, "phone-landscape")
    for selector in ("#player", ".camera", "#score", "#advice", "#end"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 390 and box["x"] + box["width"] <= 844, selector
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="End practice").click()
    page.wait_for_selector("#session-figures")
    screenshot(page, "report")
    assert re.search(r"Analyses: [3-9]", page.locator("#session-figures").inner_text())
    # The server's own session report (GET sessions/{id}/report/): its timeline and summary.
    page.wait_for_selector("svg.timeline polyline")
    assert page.locator("svg.timeline").get_attribute("aria-label").count(" s: ") >= 3
    assert page.locator("p.summary").inner_text().strip()
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


def test_it_shows_the_session_report_and_loops_a_worst_moment(fresh, screenshot):
    # Built against issue 14's documented shapes (answered here by the browser): untested against
    # the real endpoints until they are on main.
    fresh.report = True
    page = fresh.page
    register_and_practise(page)
    wait_for_completed(page, 1)
    page.get_by_role("button", name="End practice").click()

    page.wait_for_selector("#report-body .timeline")
    screenshot(page, "report")
    report = page.locator("#report").inner_text()
    assert "loop that stretch" in report and "Change since last time: +6" in report
    assert "left_arm: 49" in report and "#1 mika: 88" in report and "You: not on the board" in report
    page.get_by_role("button", name="Practise this moment").click()
    page.wait_for_selector("#practice:visible")
    player = page.locator("video.player-media")
    deadline = time.monotonic() + 60
    while player.evaluate("v => v.currentTime") < 5.0:
        assert time.monotonic() < deadline, "the player did not seek to the worst moment"
        page.wait_for_timeout(250)
    page.wait_for_timeout(4000)  # the stretch ends at 8 s: the player is back inside it
    assert 5.0 <= player.evaluate("v => v.currentTime") <= 8.5
    assert fresh.errors == []


def test_it_says_so_when_the_camera_is_refused(browser, server, media, screenshot):
    context = browser.new_context(base_url=server)
    page = context.new_page()
    # The dancer said no: the browser's own permission for this origin, set to denied.
    cdp = context.new_cdp_session(page)
    target = cdp.send("Target.getTargetInfo")["targetInfo"]
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "camera"},
            "setting": "denied",
            "origin": server,
            "browserContextId": target["browserContextId"],
        },
    )
    page.route(f"**{CHOREOGRAPHY}", lambda route: _serve_media(route, media["choreography"]))
    page.goto(f"/?player=file&src={CHOREOGRAPHY}&lang=en")
    page.wait_for_selector("body[data-ready=true]")
    register_and_pick(page)

    page.wait_for_selector("#status:has-text('camera was refused')")
    screenshot(page, "camera-refused")
    assert page.locator("#score").inner_text() == "–"
    context.close()


def test_it_sends_the_dancer_back_to_sign_in_when_the_tokens_stop_working(fresh, server, screenshot):
    page = fresh.page
    email = register_and_practise(page)
    wait_for_completed(page, 1)
    # The dancer changes their password elsewhere: every earlier token, the page's refresh token
    # included, stops working. The page's next frame gets a 401, its one refresh fails too.
    api = page.context.request
    login = api.post(f"{server}/api/v1/auth/login/", data={"email": email, "password": PASSWORD}).json()
    changed = api.post(
        f"{server}/api/v1/auth/password/",
        data={"old_password": PASSWORD, "new_password": PASSWORD + "-2"},
        headers={"Authorization": f"Bearer {login['access_token']}"},
    )
    assert changed.status == 204

    page.wait_for_selector("#status:has-text('Your sign-in expired')", timeout=RESULTS_TIMEOUT_MS)
    screenshot(page, "expired")
    assert page.locator("#auth").is_visible() and not page.locator("#practice").is_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert fresh.errors == []


def test_it_speaks_japanese_and_signs_in_from_the_keyboard(browser, server):
    context = browser.new_context(base_url=server)
    page = context.new_page()
    page.goto("/?lang=ja")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("heading", name="ログイン").is_visible()
    page.get_by_label("メールアドレス").focus()
    page.keyboard.type("nobody@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    page.wait_for_selector("#status:has-text('メールアドレスかパスワードが違います')")
    context.close()


# A choreography "video file" made in the browser: the astronaut drawn on a canvas, recorded as WebM.
RECORD_WEBM = """async ([photo, seconds]) => {
  const image = new Image();
  image.src = photo;
  await image.decode();
  const canvas = Object.assign(document.createElement('canvas'), {width: 640, height: 480});
  const context = canvas.getContext('2d');
  let running = true;
  (function draw(n) {
    context.fillStyle = '#282828';
    context.fillRect(0, 0, 640, 480);
    context.drawImage(image, 80, 0, 480, 480);
    context.fillRect(0, 0, 1 + (n % 2), 1);  // every frame differs, so every frame is recorded
    if (running) requestAnimationFrame(() => draw(n + 1));
  })(0);
  const recorder = new MediaRecorder(canvas.captureStream(10), {mimeType: 'video/webm'});
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  running = false;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""
REFERENCE_VIDEO_URL = "https://www.youtube.com/watch?v=jNQXAC9IVRw"


def test_staff_record_a_reference_track_from_a_file_and_the_dancer_is_scored_against_it(
    fresh, browser, server, server_env, screenshot
):
    import base64

    from tests.browser.conftest import astronaut_png_data_url

    manage(
        server_env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; get_user_model().objects.create_user("
        f"username='coach', email='coach@example.com', password='{PASSWORD}', is_staff=True)",
    )
    # Closed even when the recording fails: its page would go on running MediaPipe under later scenarios.
    with browser.new_context(base_url=server) as context:
        staff = context.new_page()
        staff.goto("about:blank")
        webm = base64.b64decode(staff.evaluate(RECORD_WEBM, [astronaut_png_data_url(), 8]))
        staff.goto("/reference/")
        staff.wait_for_selector("body[data-ready=true]")
        staff.get_by_label("Email").fill("coach@example.com")
        staff.get_by_label("Password").fill(PASSWORD)
        staff.get_by_role("button", name="Sign in").click()
        staff.get_by_label("YouTube URL of the choreography").fill(REFERENCE_VIDEO_URL)
        staff.set_input_files("#file", files=[{"name": "choreography.webm", "mimeType": "video/webm", "buffer": webm}])
        staff.get_by_role("button", name="Record and upload").click()
        # Done or given up: a failed recording says so at once rather than after the whole timeout.
        staff.wait_for_selector("body[data-uploaded], #status[data-kind=error]", timeout=MODEL_TIMEOUT_MS)
        screenshot(staff, "reference")
        assert "reference track of video" in staff.locator("#status").inner_text()

    page = fresh.page
    register_and_practise(page, REFERENCE_VIDEO_URL)
    wait_for_completed(page, 1)
    row = page.locator("#results li[data-status=completed]").first
    analysis_id = row.get_attribute("data-analysis")
    assert analysis_id
    details = manage(
        server_env,
        "shell",
        "-c",
        f"from analyses.models import Analysis; print(Analysis.objects.get(id='{analysis_id}').details.get('mode'))",
    )
    assert details.stdout.decode().split()[-1] == "reference"


def test_it_says_when_the_server_is_unreachable_or_an_analysis_failed_and_never_shows_a_score(fresh, screenshot):
    # The socket stays shut: it would push the real (completed) analyses behind the failed answers.
    fresh.block_socket = True
    fresh.submissions = "offline"
    page = fresh.page
    register_and_practise(page)
    page.wait_for_selector("#status:has-text('The server cannot be reached')", timeout=RESULTS_TIMEOUT_MS)
    screenshot(page, "offline")

    # The server answers again, with a failed analysis: its code and plain words, no score.
    fresh.submissions = "failed"
    page.wait_for_selector("#status:has-text('could not be analysed')", timeout=RESULTS_TIMEOUT_MS)
    screenshot(page, "failed")
    assert "(pose_not_visible)" in page.locator("#status").inner_text()
    assert "Both shoulders must be visible" in page.locator("#status").inner_text()
    assert page.locator("#score").inner_text() == "–"
    assert int(page.locator("#count").inner_text()) == 0
    assert fresh.errors == []


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    if not AXE.exists():
        pytest.skip(f"axe-core not installed at {AXE}: run `make frontend` (make test does)")
    # Evaluated by the browser's debugger, as Playwright does: the page's policy allows no inline script.
    if not page.evaluate("() => 'axe' in window"):
        page.evaluate("() => {" + AXE.read_text() + "\n}")
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_it_has_no_serious_accessibility_violations_signed_out_practising_or_in_the_report(fresh, screenshot):
    page = fresh.page
    assert serious_accessibility_violations(page) == [], "the sign-in form"
    page.get_by_role("button", name="New here? Create an account").click()
    assert serious_accessibility_violations(page) == [], "the registration form"
    page.get_by_role("button", name="I have an account").click()

    register_and_practise(page)
    wait_for_completed(page, 1)
    screenshot(page, "practising")
    assert serious_accessibility_violations(page) == [], "practising, a score shown"

    page.get_by_role("button", name="End practice").click()
    # The figures, the report and the leaderboard are drawn in one step, once all three have answered.
    page.wait_for_selector("#session-figures")
    assert serious_accessibility_violations(page) == [], "the report"
    assert fresh.errors == []


@pytest.fixture
def empty_room(playwright, media):
    """A second Chromium whose fake camera films an empty room (the flag is per browser, not per page)."""
    instance = launch(playwright, media["empty_room"])
    yield instance
    instance.close()


def test_it_says_no_person_is_visible_and_sends_no_frame_when_nobody_is_in_view(
    empty_room, server, server_env, media, screenshot
):
    context = empty_room.new_context(base_url=server, permissions=["camera"])
    page = context.new_page()
    submitted = []
    page.on("request", lambda r: submitted.append(r.url) if r.method == "POST" and "/analyses/" in r.url else None)
    page.route(f"**{CHOREOGRAPHY}", lambda route: _serve_media(route, media["choreography"]))
    page.goto(f"/?player=file&src={CHOREOGRAPHY}&cadence=3&lang=en")
    page.wait_for_selector("body[data-ready=true]")
    email = register_and_practise(page)

    page.wait_for_selector("#status:has-text('No person visible')", timeout=RESULTS_TIMEOUT_MS)
    # Two more frames' time with the video playing: still nobody, still nothing sent.
    page.wait_for_timeout(6500)
    screenshot(page, "no-person")
    assert "No person visible" in page.locator("#status").inner_text()
    assert page.locator("#score").inner_text() == "–"
    assert page.locator("#count").inner_text() == "0"
    assert submitted == []
    # The server's own records agree: this dancer has no analysis and no practice session.
    counts = manage(
        server_env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"u = get_user_model().objects.get(email='{email}'); print(u.analyses.count(), u.practice_sessions.count())",
    )
    assert counts.stdout.decode().split()[-2:] == ["0", "0"]
    context.close()


def test_it_says_plainly_when_pose_detection_is_unavailable_and_the_rest_still_works(browser, server, media):
    context = browser.new_context(base_url=server, permissions=["camera"])
    page = context.new_page()
    # The server as `make run` leaves it without npm: no MediaPipe files under /static/.
    page.route("**/static/mediapipe-pose/**", lambda route: route.fulfill(status=404))
    page.route(f"**{CHOREOGRAPHY}", lambda route: _serve_media(route, media["choreography"]))
    submitted = []
    page.on("request", lambda r: submitted.append(r.url) if r.method == "POST" and "/analyses/" in r.url else None)
    page.goto(f"/?player=file&src={CHOREOGRAPHY}&cadence=3&lang=en")
    page.wait_for_selector("body[data-ready=true]")
    assert "Pose detection is unavailable" in page.locator("#status").inner_text()

    register_and_pick(page)
    page.wait_for_selector("#status:has-text('Pose detection is unavailable')")
    page.wait_for_selector("#play:enabled")
    page.get_by_role("button", name="Start").click()
    page.wait_for_timeout(3500)  # one cadence with the video playing: nothing to send
    assert page.locator("video.player-media").evaluate("v => v.currentTime") > 0
    assert submitted == [] and page.locator("#score").inner_text() == "–"
    context.close()
