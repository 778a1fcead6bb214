"""manage.py delete_user and export_user, for operators answering deletion and access requests (issue 18)."""

import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.ownership_helpers import dancer_with_data, frame_names, rows_referencing_user
from analyses.models import Analysis

pytestmark = pytest.mark.django_db(transaction=True)


def test_delete_user_dry_run_counts_and_changes_nothing(capsys):
    dancer = UserFactory()
    dancer_with_data(dancer, frames=2)
    call_command("delete_user", dancer.email, "--dry-run")
    out = capsys.readouterr().out
    assert "2 analyses" in out and "2 playlists" in out and "2 files" in out and "Nothing was changed" in out
    assert User.objects.filter(pk=dancer.pk).exists() and Analysis.objects.filter(user=dancer).count() == 2


def test_delete_user_deletes_everything_of_theirs_and_says_what(capsys):
    dancer, other = UserFactory(), UserFactory()
    dancer_with_data(dancer, frames=2)
    names = frame_names(dancer.pk)
    call_command("delete_user", str(dancer.pk), "--no-input")
    assert f"Deleted user {dancer.pk}: 2 analyses" in capsys.readouterr().out
    assert rows_referencing_user(dancer.pk) == {} and User.objects.filter(pk=other.pk).exists()
    storage = Analysis._meta.get_field("frame").storage
    assert not any(storage.exists(n) for n in names)


def test_delete_user_asks_first_and_a_no_cancels(monkeypatch, capsys):
    dancer = UserFactory()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    call_command("delete_user", dancer.username)
    assert "Cancelled" in capsys.readouterr().out and User.objects.filter(pk=dancer.pk).exists()


def test_export_user_writes_the_zip_the_dancer_would_get(tmp_path, capsys):
    dancer = UserFactory()
    ids = dancer_with_data(dancer, frames=2)
    target = tmp_path / "out.zip"
    call_command("export_user", dancer.email, "--output", str(target))
    assert "2 analyses, 2 frames" in capsys.readouterr().out
    with zipfile.ZipFile(target) as archive:
        assert sorted(a["id"] for a in json.loads(archive.read("analyses.json"))) == sorted(ids)

    call_command("export_user", dancer.email, "--dry-run")
    assert "2 analyses" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ("delete_user", "nobody@example.com", "--dry-run"),
        ("delete_user", "99999999999999999999999", "--dry-run"),
        ("export_user", "ghost", "--dry-run"),
    ],
    ids=" ".join,
)
def test_an_unknown_user_is_a_command_error(argv):
    with pytest.raises(CommandError):
        call_command(*argv)


def test_export_user_never_overwrites_a_file(tmp_path):
    dancer = UserFactory()
    target = tmp_path / "out.zip"
    target.write_bytes(b"precious")
    with pytest.raises(CommandError):
        call_command("export_user", str(dancer.pk), "--output", str(target))
    assert target.read_bytes() == b"precious"
