import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from playlists.management.commands.import_reference import Command
from playlists.models import ReferencePoseTrack, Video
from playlists.tests.factories import fps_document, random_track, timed_document

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("import_reference", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_the_command_imports_a_track_creates_the_video_and_prints_the_summary(tmp_path):
    path = write(tmp_path, "routine.json", fps_document(random_track(90)))
    out = run("https://www.youtube.com/shorts/dQw4w9WgXcQ", str(path), "--title", "Routine")
    track = ReferencePoseTrack.objects.get()
    assert "Imported the reference track of dQw4w9WgXcQ: 90 frames at 30 fps (2.97 s)" in out
    assert track.sha256 in out
    assert track.source_filename == "routine.json"
    assert Video.objects.get().title == "Routine"


def test_running_it_again_replaces_the_track(tmp_path):
    run("https://youtu.be/dQw4w9WgXcQ", str(write(tmp_path, "a.json", fps_document(random_track(5)))))
    track = random_track(20)
    timed = write(tmp_path, "b.json", timed_document(track, [i / 30 for i in range(20)]))
    out = run("https://m.youtube.com/watch?v=dQw4w9WgXcQ", str(timed))
    assert out.startswith("Replaced the reference track of dQw4w9WgXcQ: 20 frames")
    assert ReferencePoseTrack.objects.get().frame_count == 20


def test_a_bad_file_is_a_clear_command_error_naming_the_frame_and_writes_nothing(tmp_path):
    document = fps_document(random_track(10))
    document["frames"][7].pop()
    with pytest.raises(CommandError, match="not a usable reference track: Frame 7: expected 33 landmarks, got 32"):
        run("https://youtu.be/dQw4w9WgXcQ", str(write(tmp_path, "bad.json", document)))
    assert not Video.objects.exists() and not ReferencePoseTrack.objects.exists()


@pytest.mark.parametrize(
    "url, name, content, message",
    [
        ("https://youtu.be/dQw4w9WgXcQ", "missing.json", None, "No such file"),
        ("https://youtu.be/dQw4w9WgXcQ", "text.json", "not json", "not valid JSON"),
        ("https://vimeo.com/1", "ok.json", "GOOD", "Not a YouTube video URL"),
    ],
)
def test_other_failures_are_command_errors(tmp_path, url, name, content, message):
    path = tmp_path / name
    if content == "GOOD":
        content = json.dumps(fps_document(random_track(2)))
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(url, str(path))
    assert not ReferencePoseTrack.objects.exists()


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("https://youtu.be/dQw4w9WgXcQ", str(tmp_path))


def test_the_help_explains_both_formats():
    text = Command().create_parser("manage.py", "import_reference").format_help()
    assert "youtube_url" in text and "file" in text
    assert '"fps"' in text and '"landmarks"' in text
