"""The video of a submission and its reference track's version, kept a minute by each process.

Every submission names a video: looking it up was a good part of a submission's server time.
A process keeps what it found in the `process` cache (Django's local memory, per process) for
VIDEO_MEMORY_SECONDS: videos are never renamed by id, and a new reference track reaches new
analyses' result-cache keys within that time.
"""

from django.core.cache import caches

from config.errors import ApplicationError
from playlists.models import ReferencePoseTrack, Video
from playlists.services import video_get_or_create
from playlists.youtube import InvalidYouTubeURL, youtube_id_from_url

VIDEO_MEMORY_SECONDS = 60


def video_for_url(youtube_url: str) -> Video:
    """The Video of a YouTube URL, created on first sight; ApplicationError for a URL of no video."""
    try:
        youtube_id = youtube_id_from_url(youtube_url)
    except InvalidYouTubeURL as exc:
        raise ApplicationError(str(exc), code="invalid_youtube_url", field="youtube_url") from exc
    key = f"video:{youtube_id}"
    video = caches["process"].get(key)
    if video is None:
        video, _ = video_get_or_create(youtube_url=youtube_url)
        caches["process"].set(key, video, VIDEO_MEMORY_SECONDS)
    return video


def video_forget(video: Video) -> None:
    """Look the video up again next time (its row changed or went away)."""
    caches["process"].delete_many([f"video:{video.youtube_id}", f"reference:{video.pk}"])


def reference_version(video: Video) -> str:
    """SHA-256 of the video's reference track, "" when it has none."""
    key = f"reference:{video.pk}"
    version = caches["process"].get(key)
    if version is None:
        version = ReferencePoseTrack.objects.filter(video=video).values_list("sha256", flat=True).first() or ""
        caches["process"].set(key, version, VIDEO_MEMORY_SECONDS)
    return version
