from django.conf import settings
from django.db import models
from django.db.models import Q

from playlists.youtube import youtube_watch_url


class Video(models.Model):
    """One row per YouTube video, whatever URL form it was first seen under."""

    youtube_id = models.CharField(max_length=11, unique=True)
    title = models.CharField(max_length=200, blank=True, default="")
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds, when known.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(youtube_id__regex=r"^[A-Za-z0-9_-]{11}$"), name="video_youtube_id_format"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.youtube_id})" if self.title else self.youtube_id

    @property
    def url(self) -> str:
        return youtube_watch_url(self.youtube_id)


class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    # The column is the hard bound; settings.PLAYLIST_NAME_MAX_LENGTH (at most this) is enforced by the services.
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # The owner's list, newest change first.
            models.Index(fields=["owner", "-updated_at", "-id"], name="playlist_owner_recent"),
            # `?scope=public`: only public rows, newest change first.
            models.Index(fields=["-updated_at", "-id"], condition=Q(is_public=True), name="playlist_public_recent"),
        ]

    def __str__(self):
        return self.name


class PlaylistItem(models.Model):
    """A video at a position of a playlist; positions run 0..n-1 with no gaps.

    The (playlist, position) constraint is checked row by row on both SQLite and
    PostgreSQL (no deferrable constraint, which SQLite lacks), so the services move
    positions in two steps: out of the way, then into place.
    """

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    # A video in a playlist cannot be deleted from under it (positions would gap).
    video = models.ForeignKey(Video, on_delete=models.PROTECT, related_name="playlist_items")
    position = models.PositiveIntegerField()
    # The owner's own name for the video here; the shared catalogue's title is the video's (staff's).
    title = models.CharField(max_length=200, blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playlist_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "video"], name="playlist_item_video_once"),
            models.UniqueConstraint(fields=["playlist", "position"], name="playlist_item_position_unique"),
        ]
        indexes = [models.Index(fields=["video"], name="playlist_item_video")]

    def __str__(self):
        return f"{self.playlist_id}#{self.position}: {self.video_id}"


class ReferencePoseTrack(models.Model):
    """The instructor's MediaPipe landmarks over the video, one track per video.

    `data` holds `frame_count` frames of 33 landmarks x (x, y, z, visibility) as
    little-endian float32 (numpy `<f4`, C order, shape (frame_count, 33, 4)). Frame i
    is the pose at i / fps seconds of the video, from frame 0 at 0 s. `sha256` is
    the digest of `data`.
    """

    video = models.OneToOneField(Video, on_delete=models.CASCADE, related_name="reference_track")
    fps = models.FloatField()
    frame_count = models.PositiveIntegerField()
    duration = models.FloatField(help_text="Seconds covered: (frame_count - 1) / fps.")
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    source_filename = models.CharField(max_length=255, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(fps__gt=0), name="reference_track_fps_positive"),
            models.CheckConstraint(condition=Q(frame_count__gt=0), name="reference_track_not_empty"),
        ]

    def __str__(self):
        return f"Reference of {self.video_id} ({self.frame_count} frames at {self.fps:g} fps)"
