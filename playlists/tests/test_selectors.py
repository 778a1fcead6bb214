import time

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from playlists import selectors
from playlists.models import ReferencePoseTrack
from playlists.selectors import reference_frames, reference_window
from playlists.services import reference_track_import
from playlists.tests.factories import VideoFactory, fps_document, random_track

pytestmark = pytest.mark.django_db


def test_reference_frames_are_the_stored_track_at_its_rate():
    video = VideoFactory()
    track = random_track(40)
    reference_track_import(video=video, data=fps_document(track, fps=20))
    fps, frames = reference_frames(video)
    assert fps == 20.0
    assert frames.shape == (40, 33, 4) and frames.dtype == np.float32
    assert np.array_equal(frames, track.astype(np.float32))
    assert not frames.flags.writeable  # shared between callers: nobody may change it
    assert reference_frames(video.pk)[1] is frames  # a video id works too


def test_a_video_without_a_track_has_no_reference_frames():
    assert reference_frames(VideoFactory()) is None
    assert reference_window(video=VideoFactory(), timestamp=1.0) is None


def test_reference_frames_are_decoded_once_until_the_track_is_replaced():
    video = VideoFactory()
    reference_track_import(video=video, data=fps_document(random_track(10, seed=1)))
    with CaptureQueriesContext(connection) as cold:
        _, first = reference_frames(video)
    with CaptureQueriesContext(connection) as warm:
        _, again = reference_frames(video)
    assert len(cold.captured_queries) == 2  # metadata, then the bytes
    assert len(warm.captured_queries) == 0  # the track's row was read just now
    assert again is first

    replacement = random_track(12, seed=2)
    reference_track_import(video=video, data=fps_document(replacement))
    _, fresh = reference_frames(video)
    assert fresh.shape[0] == 12 and np.array_equal(fresh, replacement.astype(np.float32))


def test_the_window_holds_the_frames_within_the_tolerance_of_the_timestamp():
    video = VideoFactory()
    track = random_track(301)  # 10 s at 30 fps
    reference_track_import(video=video, data=fps_document(track))
    window = reference_window(video=video, timestamp=5.0, tolerance=1.0)
    assert window.fps == 30.0
    assert window.start == pytest.approx(4.0)
    assert window.frames.shape[0] == 61  # 4.0 s to 6.0 s inclusive
    assert np.array_equal(window.frames, track[120:181].astype(np.float32))


def test_the_window_is_clipped_at_the_ends_and_none_past_them(settings):
    video = VideoFactory()
    reference_track_import(video=video, data=fps_document(random_track(301)))
    settings.POSE_TOLERANCE_SECONDS = 0.5
    start = reference_window(video=video, timestamp=0.2)
    assert start.start == 0.0 and start.frames.shape[0] == 22  # 0 to 0.7 s
    end = reference_window(video=video, timestamp=9.9)
    assert end.start == pytest.approx(9.4) and end.frames.shape[0] == 19  # 9.4 to 10 s
    assert reference_window(video=video, timestamp=10.6) is None
    assert reference_window(video=video, timestamp=10.4).frames.shape[0] == 4


def test_the_track_row_is_read_again_after_the_recheck_interval(monkeypatch):
    video = VideoFactory()
    reference_track_import(video=video, data=fps_document(random_track(10, seed=1)))
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    _, first = reference_frames(video)
    # Another process replaces the track (no service call here, so nothing is forgotten).
    ReferencePoseTrack.objects.filter(video=video).update(
        data=random_track(12, seed=2).astype("<f4").tobytes(), frame_count=12, updated_at=timezone.now()
    )
    assert reference_frames(video)[1] is first  # within the interval: still the remembered row
    now[0] += selectors.TRACK_RECHECK_SECONDS
    with CaptureQueriesContext(connection) as later:
        _, fresh = reference_frames(video)
    assert len(later.captured_queries) == 2  # the row, then the new bytes
    assert fresh.shape[0] == 12
