"""Reads for videos, playlists and reference tracks, each in a fixed number of queries."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import User
from config.errors import ForbiddenError, NotFoundError
from config.memos import Memo
from playlists.models import Playlist, PlaylistItem, ReferencePoseTrack, Video
from playlists.reference_tracks import frames_from_bytes
from playlists.youtube import InvalidYouTubeURL, youtube_id_from_url

SEARCH_MAX_LENGTH = 200


class PlaylistScope:
    OWN = "own"
    PUBLIC = "public"
    CHOICES = (OWN, PUBLIC)


# --- Videos ---------------------------------------------------------------------------


def _has_reference(video_ref="pk"):
    return Exists(ReferencePoseTrack.objects.filter(video_id=OuterRef(video_ref)))


def video_list(*, search: str | None = None) -> QuerySet[Video]:
    """Videos, newest first, with `has_reference`. `search` matches a title (contains, any
    case), an exact video id, or any YouTube URL of the video."""
    videos = Video.objects.annotate(has_reference=_has_reference()).order_by("-created_at", "-id")
    # PostgreSQL text cannot hold NUL: a search with one would be a 500.
    search = (search or "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    if search:
        match = Q(title__icontains=search) | Q(youtube_id=search)
        try:
            match |= Q(youtube_id=youtube_id_from_url(search))
        except InvalidYouTubeURL:
            pass
        videos = videos.filter(match)
    return videos


def video_get(*, video_id: int) -> Video:
    video = Video.objects.annotate(has_reference=_has_reference()).filter(pk=video_id).first()
    if video is None:
        raise NotFoundError("No such video.")
    return video


# --- Playlists ---------------------------------------------------------------------------


def _playlists() -> QuerySet[Playlist]:
    return Playlist.objects.select_related("owner").annotate(item_count=Count("items"))


def playlist_list(*, user: User, scope: str = PlaylistScope.OWN) -> QuerySet[Playlist]:
    """The user's playlists, or with scope "public" everyone's public ones; most recently changed first."""
    playlists = _playlists().order_by("-updated_at", "-id")
    if scope == PlaylistScope.PUBLIC:
        return playlists.filter(is_public=True)
    return playlists.filter(owner=user)


def playlist_get(*, user: User, playlist_id: int, for_write: bool = False, with_items: bool = False) -> Playlist:
    """A playlist the user may see: their own or a public one.

    Someone else's private playlist is a 404 whatever the verb; someone else's public
    playlist is a 403 when `for_write`. With `with_items`, `playlist.ordered_items`
    holds its items in order, each with its video and `video.has_reference`.
    """
    playlists = _playlists().filter(pk=playlist_id).filter(Q(owner=user) | Q(is_public=True))
    if with_items:
        items = (
            PlaylistItem.objects.select_related("video")
            .annotate(video_has_reference=_has_reference("video_id"))
            .order_by("position")
        )
        playlists = playlists.prefetch_related(Prefetch("items", queryset=items, to_attr="ordered_items"))
    playlist = playlists.first()
    if playlist is None:
        raise NotFoundError("No such playlist.")
    if for_write and playlist.owner_id != user.pk:
        raise ForbiddenError("Only the owner can change this playlist.")
    for item in getattr(playlist, "ordered_items", ()):
        item.video.has_reference = item.video_has_reference
    return playlist


# --- Reference pose tracks ----------------------------------------------------------------


class ReferenceWindow(NamedTuple):
    """Reference frames around a timestamp: frame i at `start + i / fps` seconds.

    Same fields as analyses.analyzers.base.ReferenceContext (fps, start, frames)."""

    fps: float
    start: float
    frames: np.ndarray  # (n, 33, 4) float32, read-only


class _Replaced(Exception):
    """The track changed between reading its metadata and its data."""


# A worker asks for the same video's track on every frame. Its row is read again at most this
# often per video and process, so a replaced track reaches other processes within this time.
TRACK_RECHECK_SECONDS = 1.0
_track_rows = Memo("reference track rows", seconds=TRACK_RECHECK_SECONDS, max_entries=1000)
_NOT_KEPT = object()
# Keyed by (id, updated_at): a replaced track has a new updated_at, so a stale entry is never
# returned; it just ages out. The arrays are read-only and shared.
_decoded_tracks = Memo("decoded reference tracks", seconds=3600, max_entries=8)


def reference_frames_cache_clear() -> None:
    """Forget every decoded track and track row of this process (the next call reads them again)."""
    _decoded_tracks.clear()
    _track_rows.clear()


def _decoded(track_id: int, updated_at, frame_count: int) -> np.ndarray:
    def decode():
        data = (
            ReferencePoseTrack.objects.filter(pk=track_id, updated_at=updated_at).values_list("data", flat=True).first()
        )
        if data is None:
            raise _Replaced
        return frames_from_bytes(bytes(data), frame_count)

    return _decoded_tracks.get_or_set((track_id, updated_at, frame_count), decode)


def _track_row(video_id: int, *, fresh: bool) -> tuple | None:
    """(pk, updated_at, frame_count, fps) of the video's track or None: remembered for
    TRACK_RECHECK_SECONDS unless `fresh`."""
    if not fresh:
        kept = _track_rows.get(video_id, _NOT_KEPT)  # None is kept too: the video has no track
        if kept is not _NOT_KEPT:
            return kept
    row = (
        ReferencePoseTrack.objects.filter(video_id=video_id)
        .values_list("pk", "updated_at", "frame_count", "fps")
        .first()
    )
    return _track_rows.set(video_id, row)


def reference_frames(video: Video | int) -> tuple[float, np.ndarray] | None:
    """(fps, frames) of the video's reference track, frames (n, 33, 4) float32 read-only
    with frame i at i / fps seconds; None when the video has none.

    At most one small query per TRACK_RECHECK_SECONDS; the frames themselves are decoded once
    per process and track version (LRU of 8 tracks).
    """
    video_id = getattr(video, "pk", video)
    for attempt in range(3):
        row = _track_row(video_id, fresh=attempt > 0)
        if row is None:
            return None
        pk, updated_at, frame_count, fps = row
        try:
            return fps, _decoded(pk, updated_at, frame_count)
        except _Replaced:
            continue
    return None


def reference_window(*, video: Video | int, timestamp: float, tolerance: float | None = None) -> ReferenceWindow | None:
    """The reference frames within +-tolerance seconds (default POSE_TOLERANCE_SECONDS) of
    `timestamp`; None when the video has no track or the window misses it entirely."""
    loaded = reference_frames(video)
    if loaded is None:
        return None
    fps, frames = loaded
    tolerance = settings.POSE_TOLERANCE_SECONDS if tolerance is None else tolerance
    first = max(0, math.ceil((timestamp - tolerance) * fps - 1e-9))
    last = min(frames.shape[0] - 1, math.floor((timestamp + tolerance) * fps + 1e-9))
    if first > last:
        return None
    return ReferenceWindow(fps=fps, start=first / fps, frames=frames[first : last + 1])
