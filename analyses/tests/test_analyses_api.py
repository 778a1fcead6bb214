import base64
import io
import struct
import threading
import time
import zlib

import pytest
from django.core.cache import caches
from django.core.files.storage import default_storage
from PIL import Image

from analyses import analyzing
from analyses.models import Analysis, PracticeSession
from analyses.services import pipeline, sessions, submissions
from analyses.tests.factories import (
    AnalysisFactory,
    PracticeSessionFactory,
    VideoFactory,
    frame_b64,
    pose_keypoints,
    submission,
)

# Transactional: on-commit hooks (enqueueing) must fire as they do outside tests.
pytestmark = pytest.mark.django_db(transaction=True)

ANALYSES = "/api/v1/analyses/"
SESSIONS = "/api/v1/sessions/"


def codes(response):
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


@pytest.fixture
def analyzer_calls(monkeypatch):
    """Count real analyzer executions while letting them run."""
    calls = []
    real = analyzing.analyze

    def counting(*, analysis):
        calls.append(analysis.pk)
        return real(analysis=analysis)

    monkeypatch.setattr(analyzing, "analyze", counting)
    return calls


@pytest.fixture
def enqueued(monkeypatch):
    """Record enqueued analyses instead of running them."""
    calls = []
    monkeypatch.setattr("analyses.services.pipeline.analysis_enqueue", lambda *, analysis_id: calls.append(analysis_id))
    return calls


def media_files(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_pose_submission_completes_at_once_in_eager_mode(auth_client):
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "completed"
    assert 0 <= body["score"] <= 100
    assert body["provider"] == "pose" and body["model"]
    assert body["good_points"] or body["improvements"]
    assert body["advice"]
    assert body["error"] is None and body["cached"] is False
    assert body["video"]["youtube_id"] == "dQw4w9WgXcQ"
    analysis = Analysis.objects.get(pk=body["id"])
    assert str(analysis.session_id) == body["session_id"]
    assert analysis.frame_sha256 and default_storage.exists(analysis.frame.name)


def test_a_submission_without_session_creates_one_and_a_later_one_can_join_it(auth_client):
    first = auth_client.post(ANALYSES, submission(), format="json").json()
    second = auth_client.post(ANALYSES, submission(timestamp=3.0, session_id=first["session_id"]), format="json")
    assert second.status_code == 201
    assert second.json()["session_id"] == first["session_id"]
    assert PracticeSession.objects.count() == 1


@pytest.mark.parametrize("fmt, data_url", [("PNG", False), ("WEBP", True), ("JPEG", True)])
def test_png_webp_and_data_urls_are_accepted(auth_client, fmt, data_url):
    body = submission(user_frame=frame_b64(fmt=fmt, data_url=data_url))
    assert auth_client.post(ANALYSES, body, format="json").status_code == 201


def test_the_format_is_decided_by_decoding_not_by_the_claimed_header(auth_client):
    png = frame_b64(fmt="PNG")
    r = auth_client.post(ANALYSES, submission(user_frame=f"data:image/jpeg;base64,{png}"), format="json")
    assert r.status_code == 201
    assert Analysis.objects.get().frame_mime == "image/png"


def png_claiming(width: int, height: int) -> str:
    """A tiny PNG whose header claims width × height pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data[12:29]
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return base64.b64encode(bytes(data)).decode()


def gif_frame() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    return base64.b64encode(buffer.getvalue()).decode()


BAD_INPUT = [
    ({"user_frame": "not base64 !!!"}, "invalid_base64", "user_frame"),
    ({"user_frame": base64.b64encode(b"hello, not an image").decode()}, "invalid_frame", "user_frame"),
    ({"user_frame": gif_frame()}, "unsupported_frame_format", "user_frame"),
    ({"user_frame": png_claiming(50_000, 50_000)}, "frame_too_many_pixels", "user_frame"),
    ({"youtube_url": "https://vimeo.com/12345"}, "invalid_youtube_url", "youtube_url"),
    ({"youtube_url": "https://youtube.com.example.org/watch?v=dQw4w9WgXcQ"}, "invalid_youtube_url", "youtube_url"),
    ({"timestamp": -1}, "min_value", "timestamp"),
    ({"timestamp": 6 * 3600 + 1}, "max_value", "timestamp"),
    ({"timestamp": "soon"}, "invalid", "timestamp"),
    ({"timestamp": True}, "invalid", "timestamp"),
    ({"keypoints": pose_keypoints()[:32]}, "wrong_landmark_count", "keypoints"),
    ({"keypoints": [*pose_keypoints(), pose_keypoints()[0]]}, "wrong_landmark_count", "keypoints"),
    ({"keypoints": [{"x": "left", "y": 0.5}, *pose_keypoints()[1:]]}, "invalid", "keypoints.0.x"),
    ({"provider": "openai"}, "invalid_choice", "provider"),
    ({"provider": "gemini"}, "gemini_not_configured", "provider"),
    ({"keypoints": None}, "keypoints_required", "keypoints"),
    ({"language": "fr"}, "invalid_choice", "language"),
]


@pytest.mark.parametrize("override, code, attr", BAD_INPUT)
def test_bad_input_is_a_400_and_leaves_no_row_file_or_task(auth_client, settings, enqueued, override, code, attr):
    r = auth_client.post(ANALYSES, submission(**override), format="json")
    assert r.status_code == 400, r.content
    assert (code, attr) in codes(r)
    assert Analysis.objects.count() == 0
    assert PracticeSession.objects.count() == 0
    assert media_files(settings) == []
    assert enqueued == []


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_timestamps_are_refused(auth_client, raw):
    import json

    body = json.dumps(submission()).replace('"timestamp": 2.0', f'"timestamp": {raw}')
    r = auth_client.generic("POST", ANALYSES, body, content_type="application/json")
    assert r.status_code == 400
    assert Analysis.objects.count() == 0


def test_a_frame_over_the_byte_limit_is_refused(auth_client, settings):
    settings.FRAME_MAX_BYTES = 100
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert ("frame_too_large", "user_frame") in codes(r)
    assert Analysis.objects.count() == 0


def test_a_frame_over_the_pixel_limit_is_refused(auth_client, settings):
    settings.FRAME_MAX_PIXELS = 100
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert ("frame_too_many_pixels", "user_frame") in codes(r)


def test_someone_elses_session_is_a_404_and_leaves_nothing(auth_client, settings, enqueued):
    other = PracticeSessionFactory()
    r = auth_client.post(ANALYSES, submission(session_id=str(other.pk)), format="json")
    assert r.status_code == 404
    assert Analysis.objects.count() == 0 and media_files(settings) == [] and enqueued == []


def test_an_ended_session_is_refused(auth_client):
    session = PracticeSessionFactory(user=auth_client.user, video=VideoFactory(youtube_id="dQw4w9WgXcQ"))
    sessions.session_end(session=session)
    r = auth_client.post(ANALYSES, submission(session_id=str(session.pk)), format="json")
    assert ("session_ended", "session_id") in codes(r)
    assert Analysis.objects.count() == 0


def test_a_session_of_another_video_is_refused(auth_client):
    session = PracticeSessionFactory(user=auth_client.user, video=VideoFactory(youtube_id="aaaaaaaaaaa"))
    r = auth_client.post(ANALYSES, submission(session_id=str(session.pk)), format="json")
    assert ("session_video_mismatch", "session_id") in codes(r)


def test_an_identical_submission_is_answered_from_the_cache(auth_client, analyzer_calls):
    body = submission()
    first = auth_client.post(ANALYSES, body, format="json").json()
    second = auth_client.post(ANALYSES, body, format="json")
    assert second.status_code == 201
    assert second.json()["cached"] is True
    assert second.json()["score"] == first["score"]
    assert second.json()["id"] != first["id"]
    assert len(analyzer_calls) == 1


def test_a_different_frame_at_the_same_timestamp_calls_the_analyzer_again(auth_client, analyzer_calls):
    auth_client.post(ANALYSES, submission(), format="json")
    r = auth_client.post(ANALYSES, submission(keypoints=pose_keypoints(2.5)), format="json")
    assert r.json()["cached"] is False
    assert len(analyzer_calls) == 2


def test_two_users_at_the_same_video_second_get_their_own_results(make_auth_client, analyzer_calls):
    mai, ken = make_auth_client(), make_auth_client()
    a = mai.post(ANALYSES, submission(keypoints=pose_keypoints(2.0)), format="json").json()
    b = ken.post(ANALYSES, submission(keypoints=pose_keypoints(4.0)), format="json").json()
    assert a["cached"] is False and b["cached"] is False
    assert len(analyzer_calls) == 2
    assert Analysis.objects.get(pk=a["id"]).details != Analysis.objects.get(pk=b["id"]).details


def test_a_second_delivery_of_the_same_task_does_nothing(auth_client, analyzer_calls):
    body = auth_client.post(ANALYSES, submission(), format="json").json()
    outcome = pipeline.analysis_run(analysis_id=body["id"])
    assert outcome.status == "completed" and outcome.retry_in is None
    assert len(analyzer_calls) == 1
    assert Analysis.objects.get(pk=body["id"]).attempts == 1


def test_queued_analyses_answer_202_and_complete_when_the_task_runs(auth_client, enqueued):
    r = auth_client.post(ANALYSES, submission(), format="json")
    assert r.status_code == 202
    assert r.json()["status"] == "pending"
    assert enqueued == [Analysis.objects.get().pk]
    pipeline.analysis_run(analysis_id=enqueued[0])
    assert auth_client.get(f"{ANALYSES}{enqueued[0]}/").json()["status"] == "completed"


@pytest.fixture
def dispatched(monkeypatch):
    """What a submission sets off after its commit, in order, with the thread and request id."""
    from config.request_id import request_id_get

    calls = []

    def record(what):
        return lambda **kwargs: calls.append((what, threading.current_thread().name, request_id_get()))

    monkeypatch.setattr(submissions, "analysis_changed_publish", record("event"))
    monkeypatch.setattr("analyses.services.pipeline.analysis_enqueue", record("enqueue"))
    return calls


def test_with_a_broker_the_event_then_the_task_follow_the_commit_off_the_request_thread(
    auth_client, settings, dispatched
):
    from config.background import background_wait

    settings.CELERY_TASK_ALWAYS_EAGER = False
    r = auth_client.post(ANALYSES, submission(), format="json", HTTP_X_REQUEST_ID="req-42")
    assert r.status_code == 202 and Analysis.objects.get().status == "pending"
    background_wait()
    assert [what for what, _, _ in dispatched] == ["event", "enqueue"]
    assert all(thread.startswith("after-response") for _, thread, _ in dispatched)
    assert [request_id for _, _, request_id in dispatched] == ["req-42", "req-42"]  # the task logs under it


def test_the_dispatch_can_be_kept_on_the_request_thread(auth_client, settings, dispatched):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ANALYSIS_DISPATCH_IN_BACKGROUND = False
    assert auth_client.post(ANALYSES, submission(), format="json").status_code == 202
    assert [(what, thread) for what, thread, _ in dispatched] == [
        ("event", threading.current_thread().name),
        ("enqueue", threading.current_thread().name),
    ]


def test_wait_returns_early_when_the_analysis_completes(auth_client, enqueued):
    analysis_id = auth_client.post(ANALYSES, submission(), format="json").json()["id"]

    def complete_later():
        time.sleep(0.3)
        from analyses.live import analysis_changed_publish

        # The test's transaction is not visible to another connection: publish a change the waiter re-reads.
        Analysis.objects.filter(pk=analysis_id).update(status="completed", score=70)
        analysis_changed_publish(analysis_id=analysis_id)

    started = time.monotonic()
    Analysis.objects.filter(pk=analysis_id).update(status="pending")
    thread = threading.Thread(target=complete_later)
    thread.start()
    r = auth_client.get(f"{ANALYSES}{analysis_id}/?wait=5")
    thread.join()
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    assert r.json()["status"] == "completed"
    assert elapsed < 4


def test_wait_gives_up_after_n_seconds_with_the_current_state(auth_client, enqueued):
    analysis_id = auth_client.post(ANALYSES, submission(), format="json").json()["id"]
    started = time.monotonic()
    r = auth_client.get(f"{ANALYSES}{analysis_id}/?wait=0.5")
    assert r.json()["status"] == "pending"
    assert 0.4 < time.monotonic() - started < 3


@pytest.mark.parametrize("wait", ["31", "-1", "soon"])
def test_wait_over_30_or_not_a_number_is_a_400(auth_client, wait):
    analysis = AnalysisFactory(user=auth_client.user)
    r = auth_client.get(f"{ANALYSES}{analysis.pk}/?wait={wait}")
    assert r.status_code == 400
    assert codes(r)[0][1] == "wait"


def test_a_user_cannot_read_list_or_poll_another_users_analyses_or_sessions(auth_client):
    theirs = AnalysisFactory()
    mine = AnalysisFactory(user=auth_client.user)
    assert auth_client.get(f"{ANALYSES}{theirs.pk}/").status_code == 404
    assert auth_client.get(f"{ANALYSES}{theirs.pk}/?wait=1").status_code == 404
    assert [a["id"] for a in auth_client.get(ANALYSES).json()["results"]] == [str(mine.pk)]
    assert auth_client.get(f"{SESSIONS}{theirs.session_id}/").status_code == 404
    assert auth_client.post(f"{SESSIONS}{theirs.session_id}/end/").status_code == 404
    assert [s["id"] for s in auth_client.get(SESSIONS).json()["results"]] == [str(mine.session_id)]
    assert [a["id"] for a in auth_client.get("/api/v1/analysis/history").json()["results"]] == [str(mine.pk)]


def test_history_filters_by_video_session_status_and_time(auth_client):
    user = auth_client.user
    a = AnalysisFactory(user=user, status="completed")
    b = AnalysisFactory(user=user, status="failed", score=None)
    AnalysisFactory()  # someone else's
    assert auth_client.get(ANALYSES).json()["count"] == 2
    ids = lambda q: [x["id"] for x in auth_client.get(ANALYSES + q).json()["results"]]  # noqa: E731
    assert ids("?status=failed") == [str(b.pk)]
    assert ids(f"?session={a.session_id}") == [str(a.pk)]
    assert ids(f"?video={a.video.youtube_id}") == [str(a.pk)]
    assert ids(f"?video={b.video_id}") == [str(b.pk)]
    assert ids("?created_after=2000-01-01T00:00:00Z") == [str(b.pk), str(a.pk)]
    assert ids("?created_before=2000-01-01T00:00:00Z") == []
    assert auth_client.get(ANALYSES + "?status=nope").status_code == 400


def test_history_alias_paginates_with_limit_and_offset(auth_client):
    for _ in range(3):
        AnalysisFactory(user=auth_client.user)
    body = auth_client.get("/api/v1/analysis/history?limit=2&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert set(body) == {"count", "next", "previous", "results"}


def test_start_alias_submits_like_the_main_endpoint(auth_client):
    r = auth_client.post("/api/v1/analysis/start", submission(), format="json")
    assert r.status_code == 201
    assert r.json()["status"] == "completed"


def test_submissions_count_against_their_own_limit_not_the_default_one(auth_client, enqueued, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default_user": "3/m", "analysis_user": "5/m"}
    for i in range(5):
        assert auth_client.post(ANALYSES, submission(timestamp=float(i)), format="json").status_code == 202
    assert auth_client.post(ANALYSES, submission(timestamp=9.0), format="json").status_code == 429
    # The default limit (3) still has all its room for everything else.
    assert [auth_client.get(ANALYSES).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_sessions_report_count_average_and_best(auth_client):
    session = PracticeSessionFactory(user=auth_client.user)
    for score in (60, 90):
        AnalysisFactory(user=auth_client.user, session=session, score=score)
    AnalysisFactory(user=auth_client.user, session=session, status="failed", score=None)
    body = auth_client.get(f"{SESSIONS}{session.pk}/").json()
    assert body["analysis_count"] == 3
    assert body["average_score"] == 75
    assert body["best_score"] == 90


def test_a_session_can_be_started_and_ended_once(auth_client):
    r = auth_client.post(SESSIONS, {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"}, format="json")
    assert r.status_code == 201
    session_id = r.json()["id"]
    ended = auth_client.post(f"{SESSIONS}{session_id}/end/").json()["ended_at"]
    assert ended
    assert auth_client.post(f"{SESSIONS}{session_id}/end/").json()["ended_at"] == ended
    bad = auth_client.post(SESSIONS, {"youtube_url": "https://example.com/"}, format="json")
    assert bad.status_code == 400


def test_a_pose_failure_is_stored_as_failed_with_its_code_not_a_made_up_score(auth_client):
    hidden = [{**p, "visibility": 0.0} for p in pose_keypoints()]
    r = auth_client.post(ANALYSES, submission(keypoints=hidden, user_frame=frame_b64(fmt="PNG")), format="json")
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "failed"
    assert body["score"] is None and body["good_points"] == [] and body["advice"] == ""
    assert body["error"]["code"] == "pose_not_visible"


def test_a_new_reference_track_is_not_answered_with_results_from_before_it(auth_client, analyzer_calls):
    from analyses.analyzers import synthetic
    from playlists.models import Video
    from playlists.services import reference_track_import

    body = submission()
    before = auth_client.post(ANALYSES, body, format="json").json()
    assert before["details"]["reference"] is False
    track = synthetic.choreography_track(fps=30, seconds=5)
    reference_track_import(
        video=Video.objects.get(youtube_id="dQw4w9WgXcQ"), data={"fps": 30, "frames": track.tolist()}
    )
    caches["process"].clear()  # what the minute of VIDEO_MEMORY_SECONDS does in a running process
    after = auth_client.post(ANALYSES, body, format="json").json()
    assert after["cached"] is False
    assert after["details"]["reference"] is True
    assert len(analyzer_calls) == 2
