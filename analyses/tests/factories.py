import base64
import io
import time

import factory
from PIL import Image

from accounts.tests.factories import UserFactory
from analyses.analyzers import synthetic
from analyses.models import Analysis, PracticeSession
from playlists.models import Video


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video
        django_get_or_create = ["youtube_id"]

    youtube_id = factory.Sequence(lambda n: f"vid{n:08d}"[:11])
    title = factory.Sequence(lambda n: f"Choreography {n}")


class PracticeSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeSession

    user = factory.SubFactory(UserFactory)
    video = factory.SubFactory(VideoFactory)


class AnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Analysis

    user = factory.SubFactory(UserFactory)
    session = factory.SubFactory(PracticeSessionFactory, user=factory.SelfAttribute("..user"))
    video = factory.SelfAttribute("session.video")
    timestamp = 12.0
    provider = "pose"
    status = Analysis.Status.COMPLETED
    score = 80
    good_points = factory.LazyFunction(lambda: ["Arms"])
    improvements = factory.LazyFunction(lambda: ["Raise your left arm higher"])
    advice = "Keep going"


def pose_keypoints(t: float = 2.0, seed: int = 0) -> list[dict]:
    return synthetic.keypoints_to_dicts(synthetic.pose_from_angles(**synthetic.choreography_params(t, seed)))


def frame_b64(keypoints=None, *, data_url: bool = False, fmt: str = "JPEG", shade: int = 0) -> str:
    if fmt == "JPEG" and keypoints is not None and shade == 0:
        data = synthetic.render_pose_jpeg(keypoints, width=160, height=120)
    else:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (shade, 80, 120)).save(buffer, format=fmt)
        data = buffer.getvalue()
    encoded = base64.b64encode(data).decode()
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return f"data:{mime};base64,{encoded}" if data_url else encoded


def submission(**overrides) -> dict:
    keypoints = overrides.pop("keypoints", pose_keypoints())
    body = {
        "youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "timestamp": 2.0,
        "user_frame": frame_b64(pose_keypoints()),
        "keypoints": keypoints,
    }
    body.update(overrides)
    return body


# A valid answer from the model; each test module changes the fields it asserts on.
GEMINI_ANSWER = {
    "score": 81,
    "good_points": ["Arms match the instructor."],
    "improvements": ["Bend the right knee more."],
    "advice": "Stay low through the move.",
    "short_good_points": ["Arms"],
    "short_improvements": ["Right knee"],
    "short_advice": "Stay low",
}


def analysis_wait_final(analysis_id, timeout: float = 60.0):
    """The analysis once a worker has made it final; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        analysis = Analysis.objects.get(pk=analysis_id)
        if analysis.is_final:
            return analysis
        time.sleep(0.2)
    raise AssertionError(f"analysis {analysis_id} still {analysis.status} after {timeout}s")
