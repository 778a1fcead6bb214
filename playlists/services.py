"""Writes for videos, playlists and reference tracks (keyword-only, `<noun>_<verb>`).

Playlist item positions run 0..n-1 with no gaps after every change. Every change to a
playlist's items runs in one transaction that first locks the playlist row
(select_for_update), so concurrent changes to one playlist queue up instead of
interleaving.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError, NotFoundError
from playlists.models import Playlist, PlaylistItem, ReferencePoseTrack, Video
from playlists.reference_tracks import InvalidReferenceTrack, ParsedTrack, parse_track
from playlists.selectors import reference_frames_cache_clear
from playlists.youtube import InvalidYouTubeURL, youtube_id_from_url

TITLE_MAX_LENGTH = Video._meta.get_field("title").max_length
DESCRIPTION_MAX_LENGTH = 2000
# Positions are moved above this while being rewritten; far above any real position.
_POSITION_SHIFT = 1_000_000


# --- Videos --------------------------------------------------------------------------


def _video_find(youtube_id: str) -> Video | None:
    return Video.objects.filter(youtube_id=youtube_id).first()


def video_get_or_create(*, youtube_url: str, title: str | None = None) -> tuple[Video, bool]:
    """The Video of a YouTube URL, created on first sight: (video, created).

    Safe when two requests race for the same new id: the loser's insert fails on the
    unique id inside a savepoint and it returns the winner's row. A title fills in a
    missing one and never overwrites; it comes from staff or tools only (the catalogue is
    shared: a dancer's title belongs to their playlist item). An invalid URL raises an
    ApplicationError on `youtube_url` with code `invalid_youtube_url`.
    """
    try:
        youtube_id = youtube_id_from_url(youtube_url)
    except InvalidYouTubeURL as exc:
        raise ApplicationError(str(exc), code="invalid_youtube_url", field="youtube_url") from exc
    title = (title or "").strip()[:TITLE_MAX_LENGTH]

    video = _video_find(youtube_id)
    if video is None:
        try:
            with transaction.atomic():
                return Video.objects.create(youtube_id=youtube_id, title=title), True
        except IntegrityError:
            video = Video.objects.get(youtube_id=youtube_id)
    if title and not video.title:
        Video.objects.filter(pk=video.pk, title="").update(title=title)
        video.title = title
    return video, False


# --- Playlists -----------------------------------------------------------------------


def _name_clean(name) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A playlist needs a name.", code="blank", field="name")
    limit = min(settings.PLAYLIST_NAME_MAX_LENGTH, Playlist._meta.get_field("name").max_length)
    if len(name) > limit:
        raise ApplicationError(f"A playlist name has at most {limit} characters.", code="max_length", field="name")
    return name


def _description_clean(description) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ApplicationError(
            f"A description has at most {DESCRIPTION_MAX_LENGTH} characters.", code="max_length", field="description"
        )
    return description


def playlist_create(*, owner: User, name: str, description: str = "", is_public: bool = False) -> Playlist:
    name = _name_clean(name)
    description = _description_clean(description)
    with transaction.atomic():
        # Lock the owner so two creations at once cannot both pass the count.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        limit = settings.PLAYLISTS_PER_USER_MAX
        if Playlist.objects.filter(owner=owner).count() >= limit:
            raise ApplicationError(
                f"You already have {limit} playlists, the most allowed; delete one first.", code="too_many_playlists"
            )
        return Playlist.objects.create(owner=owner, name=name, description=description, is_public=is_public)


def playlist_update(*, playlist: Playlist, data: dict) -> Playlist:
    """Changes name, description and is_public from the keys present in `data`."""
    fields = []
    if "name" in data:
        playlist.name = _name_clean(data["name"])
        fields.append("name")
    if "description" in data:
        playlist.description = _description_clean(data["description"])
        fields.append("description")
    if "is_public" in data:
        playlist.is_public = bool(data["is_public"])
        fields.append("is_public")
    if fields:
        playlist.save(update_fields=[*fields, "updated_at"])
    return playlist


def playlist_delete(*, playlist: Playlist) -> None:
    playlist.delete()


def _locked(playlist: Playlist) -> Playlist:
    """Re-read and lock the playlist row for the rest of the transaction."""
    try:
        return Playlist.objects.select_for_update().get(pk=playlist.pk)
    except Playlist.DoesNotExist as exc:
        raise NotFoundError("No such playlist.") from exc


def _item_ids_in_order(playlist: Playlist) -> list[int]:
    return list(PlaylistItem.objects.filter(playlist=playlist).order_by("position").values_list("id", flat=True))


def _positions_write(playlist: Playlist, item_ids: Sequence[int]) -> None:
    """Give `item_ids` positions 0..n-1 in that order, in two statements.

    (playlist, position) is unique and checked row by row, so a single renumbering
    UPDATE can collide with a row not yet moved. Moving every row far up first, then
    into place, never collides on SQLite or PostgreSQL.
    """
    if not item_ids:
        return
    items = PlaylistItem.objects.filter(playlist=playlist)
    items.update(position=F("position") + _POSITION_SHIFT)
    items.update(position=Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(item_ids))))


def _touch(playlist: Playlist) -> None:
    playlist.updated_at = timezone.now()
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=playlist.updated_at)


def playlist_item_add(
    *, playlist: Playlist, video: Video, position: int | None = None, title: str = ""
) -> PlaylistItem:
    """Insert the video at `position` (the end when None or past the end), under the owner's own
    `title` for it (shown in this playlist only, never in the shared catalogue).

    A video already in the playlist is an ApplicationError `duplicate_video`; a full playlist
    `playlist_full`.
    """
    if position is not None and position < 0:
        raise ApplicationError("A position is 0 or more.", code="min_value", field="position")
    with transaction.atomic():
        locked = _locked(playlist)
        ids = _item_ids_in_order(locked)
        if PlaylistItem.objects.filter(playlist=locked, video=video).exists():
            raise ApplicationError("This video is already in the playlist.", code="duplicate_video")
        limit = settings.PLAYLIST_MAX_ITEMS
        if len(ids) >= limit:
            raise ApplicationError(f"A playlist holds at most {limit} videos.", code="playlist_full")
        at = len(ids) if position is None or position >= len(ids) else position
        try:
            with transaction.atomic():
                # Appended first (position len(ids) is free), then moved into place.
                item = PlaylistItem.objects.create(
                    playlist=locked, video=video, position=len(ids), title=(title or "").strip()[:TITLE_MAX_LENGTH]
                )
        except IntegrityError as exc:  # the unique (playlist, video) caught what the check missed
            raise ApplicationError("This video is already in the playlist.", code="duplicate_video") from exc
        if at < len(ids):
            _positions_write(locked, [*ids[:at], item.pk, *ids[at:]])
            item.position = at
        _touch(playlist)
    return item


def playlist_item_remove(*, playlist: Playlist, video: Video) -> None:
    """Remove the video from the playlist (404 when it is not in it); later items move up."""
    with transaction.atomic():
        locked = _locked(playlist)
        deleted, _ = PlaylistItem.objects.filter(playlist=locked, video=video).delete()
        if not deleted:
            raise NotFoundError("This video is not in the playlist.")
        _positions_write(locked, _item_ids_in_order(locked))
        _touch(playlist)


def playlist_reorder(*, playlist: Playlist, video_ids: Sequence[int]) -> None:
    """Put the playlist's videos in the order of `video_ids`, which must be exactly its current videos."""
    video_ids = list(video_ids)
    if len(set(video_ids)) != len(video_ids):
        raise ApplicationError("Each video may appear only once.", code="duplicate_video", field="video_ids")
    with transaction.atomic():
        locked = _locked(playlist)
        item_by_video = dict(PlaylistItem.objects.filter(playlist=locked).values_list("video_id", "id"))
        if set(video_ids) != set(item_by_video):
            missing = sorted(set(item_by_video) - set(video_ids))
            extra = sorted(set(video_ids) - set(item_by_video))
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"not in the playlist {extra}")
            raise ApplicationError(
                f"Send exactly the playlist's current videos ({'; '.join(parts)}).",
                code="video_ids_mismatch",
                field="video_ids",
            )
        _positions_write(locked, [item_by_video[v] for v in video_ids])
        _touch(playlist)


# --- Reference pose tracks ---------------------------------------------------------------


def reference_track_parse(*, data) -> ParsedTrack:
    """Validate a track (JSON bytes/str, or the decoded dict/list) without writing anything.

    Raises InvalidReferenceTrack (a ValueError with `code` and `frame`).
    """
    return parse_track(data)


def reference_track_import(
    *, video: Video, data, uploaded_by: User | None = None, filename: str = ""
) -> tuple[ReferencePoseTrack, bool]:
    """Store the video's reference track, replacing any earlier one: (track, created).

    `data` is JSON (bytes or str), the decoded dict/list, or a ParsedTrack. It is fully
    validated before anything is written, and the replacement happens in one transaction
    with the video row locked, so readers see the old track or the new one, never a mix.
    Raises InvalidReferenceTrack when the data is not a usable track.
    """
    parsed = data if isinstance(data, ParsedTrack) else parse_track(data)
    blob = parsed.to_bytes()
    fields = {
        "fps": parsed.fps,
        "frame_count": parsed.frame_count,
        "duration": parsed.duration,
        "data": blob,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "source_filename": (filename or "")[:255],
        "uploaded_by": uploaded_by,
    }
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        track = ReferencePoseTrack.objects.filter(video=video).first()
        created = track is None
        if created:
            track = ReferencePoseTrack.objects.create(video=video, **fields)
        else:
            for name, value in fields.items():
                setattr(track, name, value)
            track.save()
    # This process reads the new track at once; others within selectors.TRACK_RECHECK_SECONDS.
    reference_frames_cache_clear()
    return track, created


__all__ = [
    "InvalidReferenceTrack",
    "playlist_create",
    "playlist_delete",
    "playlist_item_add",
    "playlist_item_remove",
    "playlist_reorder",
    "playlist_update",
    "reference_track_import",
    "reference_track_parse",
    "video_get_or_create",
]
