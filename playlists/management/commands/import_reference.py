"""manage.py import_reference <youtube_url> <file>: store a video's reference pose track."""

from pathlib import Path

from django.core.management.base import CommandError

from config.commands import OperatorCommand
from config.errors import ApplicationError
from playlists import services
from playlists.reference_tracks import InvalidReferenceTrack


class Command(OperatorCommand):
    help = (
        "Import the instructor's reference pose track of a YouTube video from a JSON file, replacing any "
        "earlier track of that video. The file is either "
        '{"fps": 30, "frames": [[[x, y, z, visibility] x 33], ...]} or '
        '[{"t": seconds, "landmarks": [{"x": .., "y": .., "z": .., "visibility": ..} x 33]}, ...] '
        "(timed samples are resampled to a fixed rate). The video row is created if needed. "
        "Nothing is written unless the whole file is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("youtube_url", help="Any YouTube URL of the video (watch, youtu.be, shorts, embed...).")
        parser.add_argument("file", help="Path of the JSON track file.")
        parser.add_argument("--title", default=None, help="Title for the video if it has none yet.")

    def handle(self, *args, youtube_url, file, title, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        try:
            parsed = services.reference_track_parse(data=data)
        except InvalidReferenceTrack as exc:
            raise CommandError(f"{path} is not a usable reference track: {exc}") from exc
        try:
            video, _ = services.video_get_or_create(youtube_url=youtube_url, title=title)
        except ApplicationError as exc:
            raise CommandError(f"Not a YouTube video URL: {exc.message}") from exc
        track, created = services.reference_track_import(video=video, data=parsed, filename=path.name)
        verb = "Imported" if created else "Replaced"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} the reference track of {video.youtube_id}: {track.frame_count} frames at {track.fps:g} fps "
                f"({track.duration:.2f} s), sha256 {track.sha256}"
            )
        )
