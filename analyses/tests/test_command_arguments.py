"""Every bad argument of a management command is one sentence and exit status 1, never a traceback."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

BAD_ARGUMENTS = [
    ("reanalyze", "--video", "²"),
    ("reanalyze", "--video", "99999999999999999999999"),
    ("reanalyze", "--video", "not a video"),
    ("reanalyze", "--user", "abc"),
    ("reanalyze", "--user", "99999999999999999999999"),
    ("reanalyze", "--limit", "0"),
    ("reanalyze", "--limit", "18446744073709551616"),
    ("reanalyze", "--batch-size", "x"),
    ("reanalyze", "--since", "yesterday"),
    ("reanalyze", "--since", "0001-01-01T00:00+05:00"),
    ("reanalyze", "--until", "9999-12-31T23:00-05:00"),
    ("reanalyze", "--status", "exploded"),
    ("purge_frames", "--older-than", "-1"),
    ("purge_frames", "--older-than", "10000000000"),
    ("report", "--days", "0"),
    ("report", "--days", "100000000"),
    ("report", "--start", "0001-01-01"),
    ("report", "--end", "9999-12-31"),
    ("report", "--start", "2025-02-30"),
    ("report", "--format", "xml"),
    ("seed_demo", "--weeks", "53"),
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=" ".join)
def test_it_refuses_a_bad_argument_with_a_command_error(argv):
    with pytest.raises(CommandError):
        call_command(*argv)


@pytest.mark.django_db
def test_it_refuses_a_range_longer_than_the_reports_page_allows():
    with pytest.raises(CommandError, match="at most 366 days"):
        call_command("report", "--start", "2020-01-01", "--end", "2025-01-01")


@pytest.mark.django_db
def test_it_says_so_when_the_report_cannot_be_written(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("report", "--output", str(tmp_path / "missing" / "report.txt"))


@pytest.mark.parametrize("argv", [("reanalyze", "--video", "²"), ("reanalyze", "--user", "abc")], ids=" ".join)
def test_it_exits_with_status_1_and_a_sentence_from_the_command_line(argv):
    done = subprocess.run([sys.executable, "manage.py", *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("CommandError: ")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
