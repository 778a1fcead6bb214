import factory
import numpy as np

from accounts.tests.factories import UserFactory
from playlists.models import Playlist, PlaylistItem, Video

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def youtube_id(n: int) -> str:
    """A distinct valid 11-character id for every n."""
    chars = []
    for _ in range(11):
        n, r = divmod(n, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[r])
    return "v" + "".join(chars)[:10]


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    youtube_id = factory.Sequence(youtube_id)
    title = factory.Sequence(lambda n: f"Choreography {n}")
    duration = 180


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playlist

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Practice list {n}")
    description = ""
    is_public = False


class PlaylistItemFactory(factory.django.DjangoModelFactory):
    """Low level: give `position` yourself, or use playlist_with_videos."""

    class Meta:
        model = PlaylistItem

    playlist = factory.SubFactory(PlaylistFactory)
    video = factory.SubFactory(VideoFactory)
    position = 0


def playlist_with_videos(count: int, **kwargs) -> Playlist:
    playlist = PlaylistFactory(**kwargs)
    for position in range(count):
        PlaylistItemFactory(playlist=playlist, position=position)
    return playlist


def random_track(frames: int = 90, seed: int = 0) -> np.ndarray:
    """(frames, 33, 4) landmarks in the frame, visibility 0.5..1 (float32-exact values)."""
    rng = np.random.default_rng(seed)
    track = rng.random((frames, 33, 4))
    track[..., 2] -= 0.5
    track[..., 3] = 0.5 + track[..., 3] / 2
    return track.astype(np.float32).astype(np.float64)


def fps_document(track: np.ndarray, fps: float = 30) -> dict:
    return {"fps": fps, "frames": track.tolist()}


def timed_document(track: np.ndarray, times) -> list:
    return [
        {"t": float(t), "landmarks": [{"x": x, "y": y, "z": z, "visibility": v} for x, y, z, v in frame]}
        for t, frame in zip(times, track.tolist(), strict=True)
    ]
