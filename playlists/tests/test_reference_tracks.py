"""Reference pose tracks: both formats, every refusal, storage, the staff-only upload."""

import functools
import hashlib
import json

import numpy as np
import pytest
from django.conf import settings as django_settings

from playlists import reference_tracks
from playlists.models import ReferencePoseTrack
from playlists.reference_tracks import InvalidReferenceTrack, parse_track
from playlists.services import reference_track_import
from playlists.tests.factories import VideoFactory, fps_document, random_track, timed_document
from playlists.tests.helpers import assert_error

# --- Parsing (no database) -----------------------------------------------------------------


def test_the_fps_format_round_trips_exactly_as_float32():
    track = random_track(12)
    parsed = parse_track(json.dumps(fps_document(track, fps=25)).encode())
    assert parsed.fps == 25.0
    assert parsed.frames.shape == (12, 33, 4) and parsed.frames.dtype == np.float32
    assert np.array_equal(parsed.frames, track.astype(np.float32))
    assert parsed.duration == pytest.approx(11 / 25)


def test_timed_samples_at_a_regular_rate_give_the_same_frames_at_that_rate():
    track = random_track(30)
    parsed = parse_track(timed_document(track, [i / 30 for i in range(30)]))
    assert parsed.fps == 30.0
    assert np.allclose(parsed.frames, track, atol=1e-6)


def test_timed_samples_at_an_odd_rate_are_interpolated_linearly():
    track = random_track(3)
    parsed = parse_track(timed_document(track, [0.0, 0.1, 0.2]))  # 10 fps
    assert parsed.fps == 10.0 and parsed.frame_count == 3
    jittered = parse_track(timed_document(track, [0.0, 0.101, 0.2]))
    assert jittered.fps == 10.0
    # 0.1 s lies 99% of the way from sample 0 (0 s) to sample 1 (0.101 s).
    expected = track[0] + (track[1] - track[0]) * (0.1 / 0.101)
    assert np.allclose(jittered.frames[1], expected, atol=1e-5)


def test_a_track_starting_late_is_invisible_before_its_first_sample():
    track = random_track(31)
    parsed = parse_track(timed_document(track, [2.0 + i / 30 for i in range(31)]))
    assert parsed.fps == 30.0
    assert parsed.frame_count == 91  # 0 s to 3 s
    assert (parsed.frames[:60, :, 3] == 0).all()
    assert np.allclose(parsed.frames[60], track[0], atol=1e-6)


def test_a_long_gap_between_samples_is_invisible_and_a_short_one_is_interpolated():
    track = random_track(7)
    times = [0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 2.6]  # 10 fps with a 0.2 s gap and a 2 s gap
    parsed = parse_track(timed_document(track, times))
    assert parsed.fps == 10.0 and parsed.frame_count == 27
    assert np.allclose(parsed.frames[4], (track[3] + track[4]) / 2, atol=1e-6)  # 0.4 s, inside the short gap
    assert (parsed.frames[7:26, :, 3] == 0).all()  # 0.7 s to 2.5 s, inside the long gap
    assert np.allclose(parsed.frames[26], track[6], atol=1e-6)


def test_the_rate_snaps_to_a_common_one_and_is_clamped():
    assert reference_tracks.infer_fps(np.arange(0, 1, 1 / 29.97)) == 29.97
    assert reference_tracks.infer_fps(np.arange(0, 1, 1 / 30.1)) == 30.0
    assert reference_tracks.infer_fps(np.array([0.0, 0.001, 0.002])) == reference_tracks.MAX_FPS
    assert reference_tracks.infer_fps(np.array([0.0, 5.0])) == reference_tracks.MIN_FPS
    assert reference_tracks.infer_fps(np.array([1.0])) == reference_tracks.DEFAULT_FPS


def _fps_doc_with(frame_index, mutate, frames=6):
    doc = fps_document(random_track(frames))
    mutate(doc["frames"][frame_index])
    return doc


def _timed_doc_with(frame_index, mutate, frames=6):
    doc = timed_document(random_track(frames), [i / 30 for i in range(frames)])
    mutate(doc[frame_index])
    return doc


def _set(container, key, value):
    container[key] = value


REFUSALS = [
    # (description, document or JSON text, code, text the message must contain)
    ("32 landmarks", _fps_doc_with(3, lambda f: f.pop()), "wrong_landmark_count", "Frame 3: expected 33"),
    ("34 landmarks", _fps_doc_with(0, lambda f: f.append([0, 0, 0, 1])), "wrong_landmark_count", "Frame 0"),
    ("3 values", _fps_doc_with(4, lambda f: f[7].pop()), "invalid_landmark", "Frame 4, landmark 7"),
    ("a string", _fps_doc_with(2, lambda f: _set(f[1], 0, "0.5")), "invalid_landmark", "Frame 2, landmark 1"),
    ("a boolean", _fps_doc_with(2, lambda f: _set(f[1], 3, True)), "invalid_landmark", "Frame 2, landmark 1"),
    ("a null", _fps_doc_with(5, lambda f: _set(f[0], 2, None)), "invalid_landmark", "Frame 5, landmark 0"),
    ("NaN", _fps_doc_with(2, lambda f: _set(f[5], 0, float("nan"))), "non_finite_value", "Frame 2, landmark 5"),
    ("Infinity", _fps_doc_with(1, lambda f: _set(f[9], 1, float("inf"))), "non_finite_value", "Frame 1, landmark 9"),
    ("visibility 1.5", _fps_doc_with(3, lambda f: _set(f[2], 3, 1.5)), "value_out_of_range", "Frame 3, landmark 2"),
    ("x 1e6", _fps_doc_with(3, lambda f: _set(f[2], 0, 1e6)), "value_out_of_range", "Frame 3, landmark 2"),
    ("a frame not a list", _fps_doc_with(1, lambda f: f.clear() or f.append("x")), "wrong_landmark_count", "Frame 1"),
    ("no frames", {"fps": 30, "frames": []}, "empty_track", "no frames"),
    ("no fps", {"frames": [[[0, 0, 0, 1]] * 33]}, "invalid_format", '"fps"'),
    ("fps 0", {"fps": 0, "frames": [[[0, 0, 0, 1]] * 33]}, "invalid_fps", '"fps"'),
    ("fps 1000", {"fps": 1000, "frames": [[[0, 0, 0, 1]] * 33]}, "invalid_fps", '"fps"'),
    ("fps a string", {"fps": "30", "frames": [[[0, 0, 0, 1]] * 33]}, "invalid_fps", '"fps"'),
    ("frames not a list", {"fps": 30, "frames": {}}, "invalid_format", '"frames"'),
    ("timed: 32 landmarks", _timed_doc_with(4, lambda f: f["landmarks"].pop()), "wrong_landmark_count", "Frame 4"),
    (
        "timed: missing visibility",
        _timed_doc_with(2, lambda f: f["landmarks"][30].pop("visibility")),
        "invalid_landmark",
        "Frame 2, landmark 30",
    ),
    (
        "timed: NaN",
        _timed_doc_with(3, lambda f: _set(f["landmarks"][4], "z", float("nan"))),
        "non_finite_value",
        "Frame 3 (t=0.1), landmark 4",
    ),
    ("timed: unsorted", _timed_doc_with(4, lambda f: _set(f, "t", 0.05)), "unsorted_times", "Frame 4: time 0.05"),
    ("timed: duplicate", _timed_doc_with(3, lambda f: _set(f, "t", 2 / 30)), "unsorted_times", "Frame 3"),
    ("timed: negative t", _timed_doc_with(0, lambda f: _set(f, "t", -1)), "invalid_time", "Frame 0"),
    ("timed: missing t", _timed_doc_with(1, lambda f: f.pop("t")), "invalid_time", "Frame 1"),
    ("timed: t NaN", _timed_doc_with(1, lambda f: _set(f, "t", float("nan"))), "invalid_time", "Frame 1"),
    ("timed: not an object", _timed_doc_with(5, lambda f: f.clear()), "invalid_time", "Frame 5"),
    ("timed: lasts forever", _timed_doc_with(5, lambda f: _set(f, "t", 1e300)), "track_too_long", "at most"),
    ("empty list", [], "empty_track", "no frames"),
    ("list of frames", [[[0, 0, 0, 1]] * 33], "invalid_format", '"fps"'),
    ("a number", 42, "invalid_format", '"fps"'),
    ("not JSON", "{not json", "invalid_json", "not valid JSON"),
    ("not UTF-8", b"\xff\xfe\x00{", "invalid_json", "UTF-8"),
    ("too deep", "[" * 100_000 + "]" * 100_000, "invalid_json", "nested"),
]


@pytest.mark.parametrize("document, code, text", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_bad_track_is_refused_with_a_message_naming_the_frame(document, code, text):
    data = document if isinstance(document, str | bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidReferenceTrack) as caught:
        parse_track(data)
    assert caught.value.code == code
    assert text in str(caught.value)


def test_nan_and_infinity_written_as_json_literals_are_refused_with_their_frame():
    text = json.dumps(fps_document(random_track(3))).replace("[", "[NaN, ", 1)  # not a frame list any more
    with pytest.raises(InvalidReferenceTrack):
        parse_track(text)
    doc = fps_document(random_track(3))
    doc["frames"][2][0][0] = 1e999  # json writes Infinity
    assert "Infinity" in json.dumps(doc)
    with pytest.raises(InvalidReferenceTrack, match="Frame 2, landmark 0") as caught:
        parse_track(json.dumps(doc))
    assert caught.value.frame == 2


def test_a_track_longer_than_the_frame_cap_is_refused(monkeypatch):
    monkeypatch.setattr(reference_tracks, "MAX_FRAMES", 10)
    with pytest.raises(InvalidReferenceTrack, match="at most 10") as caught:
        parse_track(fps_document(random_track(11)))
    assert caught.value.code == "track_too_long"
    with pytest.raises(InvalidReferenceTrack, match="at most"):
        parse_track(timed_document(random_track(4), [0, 0.1, 0.2, 5.0]))  # 4 samples, 51 frames at 10 fps
    assert parse_track(fps_document(random_track(10))).frame_count == 10


@functools.lru_cache(maxsize=1)
def _three_minute_timed_file(indent=2) -> bytes:
    # Worst realistic formatting: timed objects, every float at full float64 precision, pretty-printed.
    rng = np.random.default_rng(3)
    frames = 180 * 30
    track = rng.random((frames, 33, 4))
    track[..., 2] -= 0.5
    return json.dumps(timed_document(track, [i / 30 for i in range(frames)]), indent=indent).encode()


def test_a_three_minute_track_at_30_fps_fits_the_upload_limit_in_either_format():
    limit = django_settings.REFERENCE_UPLOAD_MAX_BYTES
    timed = _three_minute_timed_file()
    rng = np.random.default_rng(4)
    fps_file = json.dumps(fps_document(rng.random((5400, 33, 4))), indent=2).encode()
    assert len(timed) < limit and len(fps_file) < limit
    # ...with room to spare: under 70% of the limit.
    assert max(len(timed), len(fps_file)) < 0.7 * limit


# --- Storage --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_stores_compact_float32_bytes_with_their_sha256():
    video = VideoFactory()
    track = random_track(20)
    stored, created = reference_track_import(video=video, data=fps_document(track), filename="routine.json")
    assert created
    stored.refresh_from_db()
    blob = bytes(stored.data)
    assert len(blob) == 20 * 33 * 4 * 4
    assert stored.sha256 == hashlib.sha256(blob).hexdigest()
    assert np.array_equal(np.frombuffer(blob, dtype="<f4").reshape(20, 33, 4), track.astype(np.float32))
    assert (stored.fps, stored.frame_count, stored.source_filename) == (30.0, 20, "routine.json")
    assert stored.duration == pytest.approx(19 / 30)


@pytest.mark.django_db
def test_a_second_import_replaces_the_track_in_place():
    video = VideoFactory()
    first, _ = reference_track_import(video=video, data=fps_document(random_track(5, seed=1)))
    second, created = reference_track_import(video=video, data=fps_document(random_track(8, seed=2), fps=60))
    assert not created and second.pk == first.pk
    assert ReferencePoseTrack.objects.count() == 1
    stored = ReferencePoseTrack.objects.get()
    assert (stored.frame_count, stored.fps) == (8, 60.0)
    assert stored.updated_at > first.created_at or stored.sha256 != first.sha256


@pytest.mark.django_db
def test_a_refused_import_leaves_the_earlier_track_untouched():
    video = VideoFactory()
    good, _ = reference_track_import(video=video, data=fps_document(random_track(5)))
    bad = fps_document(random_track(500))
    bad["frames"][499][32][3] = float("nan")  # the very last value
    with pytest.raises(InvalidReferenceTrack, match="Frame 499, landmark 32"):
        reference_track_import(video=video, data=bad)
    stored = ReferencePoseTrack.objects.get()
    assert (stored.sha256, stored.frame_count) == (good.sha256, 5)


@pytest.mark.django_db
def test_a_failing_write_rolls_back_to_the_earlier_track(monkeypatch):
    video = VideoFactory()
    good, _ = reference_track_import(video=video, data=fps_document(random_track(5)))

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ReferencePoseTrack, "save", broken_save)
    with pytest.raises(RuntimeError):
        reference_track_import(video=video, data=fps_document(random_track(9, seed=5)))
    monkeypatch.undo()
    stored = ReferencePoseTrack.objects.get()
    assert (stored.sha256, stored.frame_count) == (good.sha256, 5)


# --- The staff-only upload -------------------------------------------------------------------


def reference_url(video):
    return f"/api/v1/videos/{video.pk}/reference/"


def put_json(client, url, body, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.put(url, data=data, content_type="application/json", **extra)


@pytest.mark.django_db
def test_staff_upload_either_format_and_get_the_track_summary(staff_client):
    video = VideoFactory()
    track = random_track(45)
    r = put_json(staff_client, reference_url(video) + "?filename=routine.json", fps_document(track))
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"fps", "frame_count", "duration", "sha256", "updated_at"}
    assert (body["fps"], body["frame_count"]) == (30.0, 45)
    assert body["duration"] == pytest.approx(44 / 30)
    assert body["sha256"] == hashlib.sha256(track.astype("<f4").tobytes()).hexdigest()
    stored = ReferencePoseTrack.objects.get()
    assert stored.uploaded_by == staff_client.user and stored.source_filename == "routine.json"

    r = put_json(staff_client, reference_url(video), timed_document(track, [i / 30 for i in range(45)]))
    assert r.status_code == 200, r.content
    assert r.json()["frame_count"] == 45 and r.json()["fps"] == 30.0
    assert ReferencePoseTrack.objects.count() == 1


@pytest.mark.django_db
def test_has_reference_flips_to_true_after_an_upload(staff_client):
    video = VideoFactory()
    assert staff_client.get(f"/api/v1/videos/{video.pk}/").json()["has_reference"] is False
    put_json(staff_client, reference_url(video), fps_document(random_track(3)))
    assert staff_client.get(f"/api/v1/videos/{video.pk}/").json()["has_reference"] is True


@pytest.mark.django_db
def test_only_staff_may_upload_a_track(auth_client, api_client):
    video = VideoFactory()
    assert_error(put_json(auth_client, reference_url(video), fps_document(random_track(3))), 403, "permission_denied")
    assert_error(put_json(api_client, reference_url(video), fps_document(random_track(3))), 401, "not_authenticated")
    assert not ReferencePoseTrack.objects.exists()


@pytest.mark.django_db
def test_an_upload_for_an_unknown_video_is_a_404(staff_client):
    assert_error(
        put_json(staff_client, "/api/v1/videos/999999/reference/", fps_document(random_track(3))), 404, "not_found"
    )


@pytest.mark.django_db
def test_an_upload_must_be_json(staff_client):
    video = VideoFactory()
    r = staff_client.put(reference_url(video), data=b"fps=30", content_type="application/x-www-form-urlencoded")
    assert_error(r, 415, "unsupported_media_type")
    r = staff_client.put(reference_url(video), data=b"", content_type="application/json")
    assert_error(r, 400, "invalid_json", None)


@pytest.mark.django_db
@pytest.mark.parametrize("description, document, code, text", REFUSALS[:4] + REFUSALS[17:22])
def test_a_refused_upload_answers_400_naming_the_frame_and_keeps_the_old_track(
    staff_client, description, document, code, text
):
    video = VideoFactory()
    good, _ = reference_track_import(video=video, data=fps_document(random_track(5)))
    errors = assert_error(put_json(staff_client, reference_url(video), document), 400, code, None)
    assert text in errors[0]["detail"]
    stored = ReferencePoseTrack.objects.get()
    assert stored.sha256 == good.sha256


@pytest.mark.django_db
def test_an_upload_over_its_own_limit_is_a_413_in_the_error_shape(staff_client, settings):
    video = VideoFactory()
    body = json.dumps(fps_document(random_track(30))).encode()
    settings.REFERENCE_UPLOAD_MAX_BYTES = len(body) - 1
    assert_error(put_json(staff_client, reference_url(video), body), 413, "request_too_large")
    assert not ReferencePoseTrack.objects.exists()
    settings.REFERENCE_UPLOAD_MAX_BYTES = len(body)
    assert put_json(staff_client, reference_url(video), body).status_code == 201


@pytest.mark.django_db
def test_an_upload_may_exceed_the_global_body_limit_up_to_its_own(staff_client, settings, api_client):
    video = VideoFactory()
    body = json.dumps(fps_document(random_track(30))).encode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body) // 4
    assert put_json(staff_client, reference_url(video), body).status_code == 201
    # Other endpoints keep the global limit.
    r = staff_client.post(
        "/api/v1/videos/", {"youtube_url": "https://youtu.be/dQw4w9WgXcQ", "title": "x" * len(body)}, format="json"
    )
    assert_error(r, 413, "request_too_large")


@pytest.mark.django_db
def test_a_body_longer_than_its_declared_length_is_read_only_up_to_the_limit(staff_client, settings):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from config.errors import RequestTooLarge
    from playlists.api import _read_body

    body = b"x" * 5000
    request = Request(APIRequestFactory().put("/", data=body, content_type="application/json"))
    assert _read_body(request, limit=5000) == body
    request = Request(APIRequestFactory().put("/", data=body, content_type="application/json"))
    with pytest.raises(RequestTooLarge):
        _read_body(request, limit=4999)
    request = Request(APIRequestFactory().put("/", data=body, content_type="application/json", CONTENT_LENGTH="10"))
    assert _read_body(request, limit=4999) == b"x" * 10  # never more than declared


@pytest.mark.django_db
def test_a_three_minute_track_at_30_fps_uploads_through_the_api(staff_client):
    video = VideoFactory()
    body = _three_minute_timed_file()
    r = put_json(staff_client, reference_url(video), body)
    assert r.status_code == 201, r.content[:500]
    assert r.json()["fps"] == 30.0 and r.json()["frame_count"] == 5400
    assert r.json()["duration"] == pytest.approx(179.9667, abs=1e-3)


async def _asgi_put(path: str, token: str, chunks: list[bytes]) -> tuple[int, bytes]:
    """A PUT through Django's ASGI handler with a chunked body: no Content-Length header."""
    from asgiref.testing import ApplicationCommunicator
    from django.core.handlers.asgi import ASGIHandler

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    app = ApplicationCommunicator(ASGIHandler(), scope)
    for i, chunk in enumerate(chunks):
        await app.send_input({"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1})
    start = await app.receive_output(timeout=30)
    body = b""
    while True:
        message = await app.receive_output(timeout=30)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], body


@pytest.mark.django_db(transaction=True)
def test_it_reads_a_chunked_upload_without_content_length_as_the_track_it_is(settings):
    from asgiref.sync import async_to_sync
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.tests.factories import UserFactory

    token = str(AccessToken.for_user(UserFactory(is_staff=True)))
    video = VideoFactory()
    body = json.dumps(fps_document(random_track(30))).encode()
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    status, answer = async_to_sync(_asgi_put)(reference_url(video), token, pieces)
    assert status == 201, answer[:300]
    assert json.loads(answer)["frame_count"] == 30
    settings.REFERENCE_UPLOAD_MAX_BYTES = len(body) - 1
    status, answer = async_to_sync(_asgi_put)(reference_url(video), token, pieces)
    assert status == 413
    assert json.loads(answer)["errors"][0]["code"] == "request_too_large"
