"""Operator commands: reanalyze, purge_frames (and its beat task), seed_demo."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from analyses import analyzing
from analyses.analyzers.base import AnalyzerResult
from analyses.models import Analysis, PracticeSession
from analyses.services import maintenance
from analyses.tests.factories import VideoFactory, pose_keypoints
from analyses.tests.stats_factories import analysis_at
from playlists.models import Playlist, ReferencePoseTrack, Video

pytestmark = pytest.mark.django_db


def old_analysis(days_ago=3, **fields):
    fields.setdefault("keypoints", pose_keypoints())
    fields.setdefault("score", 1)
    fields.setdefault("advice", "old advice")
    return analysis_at(timezone.now() - timedelta(days=days_ago), **fields)


def snapshot():
    return list(Analysis.objects.order_by("pk").values_list("pk", "status", "score", "advice", "provider", "attempts"))


@pytest.fixture
def counting_analyzer(monkeypatch):
    """Replace the analyzer call: counts calls per analysis, can be told to interrupt on the n-th."""

    class Analyzer:
        def __init__(self):
            self.calls = []
            self.interrupt_on = None

        def __call__(self, *, analysis):
            self.calls.append(analysis.pk)
            if self.interrupt_on is not None and len(self.calls) == self.interrupt_on:
                raise KeyboardInterrupt  # the operator pressed Ctrl-C in the middle of an analysis
            return AnalyzerResult(
                score=77,
                good_points=["Arms"],
                improvements=["Knees"],
                advice="new advice",
                provider=analysis.provider,
                model="test",
            )

    analyzer = Analyzer()
    monkeypatch.setattr(analyzing, "analyze", analyzer)
    return analyzer


# --- reanalyze --------------------------------------------------------------------------------


def test_reanalyze_help_explains_the_command(capsys):
    with pytest.raises(SystemExit):
        call_command("reanalyze", "--help")
    out = capsys.readouterr().out
    assert "keeps its previous result" in out.replace("\n", " ").replace("  ", " ") or "previous result" in out
    for option in ("--status", "--video", "--user", "--since", "--until", "--provider", "--limit", "--batch-size"):
        assert option in out
    assert "--sync" in out and "--dry-run" in out


def test_a_reanalyze_dry_run_changes_nothing(capsys, counting_analyzer):
    for _ in range(3):
        old_analysis()
    before = snapshot()
    call_command("reanalyze", "--dry-run", "--sync")
    assert snapshot() == before
    assert counting_analyzer.calls == []
    assert "Dry run: 3 analyses would be re-analysed" in capsys.readouterr().out


def test_reanalyze_sync_runs_each_analysis_once_with_the_real_pose_analyzer(capsys, django_capture_on_commit_callbacks):
    rows = [old_analysis() for _ in range(3)]
    # Executing the on-commit callbacks runs the eager enqueue of analysis_reanalyze too: it must
    # find the rows already done and not run them a second time.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reanalyze", "--sync")
    for row in rows:
        row.refresh_from_db()
        assert row.status == Analysis.Status.COMPLETED
        assert row.score != 1 and row.advice != "old advice"
        assert row.details["mode"] in ("reference", "form_only")
        assert row.revisions.get(is_current=True).attempts == 1  # run once, as a new revision
        assert row.revisions.count() == 2
    assert Analysis.objects.count() == 3
    assert "Done: 3 matched; completed 3, failed 0" in capsys.readouterr().out


def test_reanalyze_enqueues_by_default_and_the_previous_result_stays_until_the_new_one(
    counting_analyzer, django_capture_on_commit_callbacks
):
    row = old_analysis()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("reanalyze")
    row.refresh_from_db()
    # Untouched while queued: still completed with its result (the run is a pending revision).
    assert (row.status, row.score, row.advice) == (Analysis.Status.COMPLETED, 1, "old advice")
    assert counting_analyzer.calls == []
    for callback in callbacks:
        callback()  # the broker delivers: eager here
    row.refresh_from_db()
    assert (row.status, row.score, row.advice) == (Analysis.Status.COMPLETED, 77, "new advice")
    assert counting_analyzer.calls == [row.pk]


def test_an_interrupted_reanalyze_resumed_twice_gives_one_result_per_analysis(counting_analyzer, capsys):
    rows = [old_analysis(days_ago=10 - i) for i in range(5)]
    started = timezone.now()
    counting_analyzer.interrupt_on = 3
    with pytest.raises(KeyboardInterrupt):
        call_command("reanalyze", "--sync", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "--completed-before" in out

    # The interrupted analysis kept its previous result; nothing is stuck half-way.
    interrupted = Analysis.objects.get(pk=counting_analyzer.calls[-1])
    assert (interrupted.status, interrupted.score, interrupted.advice) == ("completed", 1, "old advice")
    assert Analysis.objects.filter(advice="new advice").count() == 2

    resume = ["reanalyze", "--sync", "--completed-before", started.isoformat()]
    call_command(*resume)
    call_command(*resume)  # resumed a second time: nothing left to do

    assert Analysis.objects.count() == 5
    assert PracticeSession.objects.count() == 5
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.score, row.advice) == (Analysis.Status.COMPLETED, 77, "new advice")
    successful = counting_analyzer.calls[:2] + counting_analyzer.calls[3:]
    assert sorted(successful) == sorted(r.pk for r in rows)  # each analysed once, the interrupted one again
    assert "Done: 0 matched" in capsys.readouterr().out


def test_reanalyze_filters_select_the_analyses(counting_analyzer):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory()
    video = VideoFactory(youtube_id="abcdefghijk")
    target = old_analysis(days_ago=2, user=alice, video=video)
    old_analysis(days_ago=2, user=bob, video=video)  # another user
    old_analysis(days_ago=2, user=alice)  # another video
    old_analysis(days_ago=20, user=alice, video=video)  # too old
    old_analysis(days_ago=2, user=alice, video=video, provider="gemini")  # another provider
    old_analysis(days_ago=2, user=alice, video=video, status=Analysis.Status.FAILED, score=None)
    since = (timezone.now() - timedelta(days=5)).isoformat()
    call_command(
        "reanalyze",
        "--sync",
        "--user",
        "alice@example.com",
        "--video",
        "abcdefghijk",
        "--since",
        since,
        "--until",
        timezone.now().isoformat(),
        "--provider",
        "pose",
        "--status",
        "completed",
    )
    assert counting_analyzer.calls == [target.pk]


def test_reanalyze_limit_and_status_failed(counting_analyzer):
    failed = [old_analysis(days_ago=5 - i, status=Analysis.Status.FAILED, error_code="timeout") for i in range(3)]
    old_analysis()
    call_command("reanalyze", "--sync", "--status", "failed", "--limit", "2", "--batch-size", "1")
    assert counting_analyzer.calls == [failed[0].pk, failed[1].pk]
    failed[0].refresh_from_db()
    assert (failed[0].status, failed[0].error_code) == (Analysis.Status.COMPLETED, "")


def test_reanalyze_leaves_a_running_analysis_alone(counting_analyzer):
    running = old_analysis(status=Analysis.Status.PROCESSING, lease_until=timezone.now() + timedelta(minutes=2))
    assert maintenance.reanalyze_one(analysis_id=running.pk, sync=True) == "skipped"
    running.refresh_from_db()
    assert running.status == Analysis.Status.PROCESSING
    assert counting_analyzer.calls == []


def test_reanalyze_refuses_a_bad_date():
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("reanalyze", "--since", "yesterday")


# --- purge_frames ------------------------------------------------------------------------------


def with_frame(days_ago, **fields):
    analysis = old_analysis(days_ago=days_ago, **fields)
    analysis.frame.save(f"{analysis.pk}.jpg", ContentFile(b"\xff\xd8 jpeg bytes"), save=True)
    return analysis


def test_purge_frames_deletes_old_frames_and_keeps_the_rows(capsys):
    old = with_frame(40)
    recent = with_frame(5)
    running = with_frame(40, status=Analysis.Status.PENDING)
    storage = old.frame.storage
    old_name = old.frame.name

    call_command("purge_frames", "--older-than", "30")

    old.refresh_from_db()
    assert old.frame.name == "" and not storage.exists(old_name)
    assert old.score == 1 and old.frame_sha256 == ""  # the row and its result stay
    recent.refresh_from_db()
    running.refresh_from_db()
    assert storage.exists(recent.frame.name) and storage.exists(running.frame.name)
    assert Analysis.objects.count() == 3
    assert "Done: 1 frames purged" in capsys.readouterr().out


def test_purge_frames_defaults_to_the_retention_setting(settings):
    settings.FRAME_RETENTION_DAYS = 3
    old = with_frame(4)
    kept = with_frame(2)
    call_command("purge_frames")
    old.refresh_from_db()
    kept.refresh_from_db()
    assert old.frame.name == "" and kept.frame.name != ""


def test_a_purge_frames_dry_run_changes_nothing(capsys):
    analysis = with_frame(40)
    call_command("purge_frames", "--older-than", "30", "--dry-run")
    analysis.refresh_from_db()
    assert analysis.frame.name and analysis.frame.storage.exists(analysis.frame.name)
    assert "Dry run: 1 frames" in capsys.readouterr().out


def test_purge_frames_counts_a_file_already_gone():
    analysis = with_frame(40)
    analysis.frame.storage.delete(analysis.frame.name)
    summary = maintenance.frames_purge(older_than_days=30)
    assert (summary.purged, summary.missing_files) == (1, 1)


def test_the_purge_is_a_daily_beat_job():
    from analyses.tasks import purge_frames
    from config.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-frames"]
    assert entry["task"] == "analyses.purge_frames"
    assert entry["schedule"] == 24 * 3600
    assert "analyses.purge_frames" in app.tasks
    analysis = with_frame(django_settings.FRAME_RETENTION_DAYS + 1)
    assert purge_frames.delay().get()["purged"] == 1
    analysis.refresh_from_db()
    assert analysis.frame.name == ""


# --- seed_demo --------------------------------------------------------------------------------


def test_seed_demo_fills_a_new_database_and_twice_changes_nothing(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo@example.com / demo-dance-2025" in out
    assert "admin@example.com / demo-admin-2025" in out

    demo = User.objects.get(email="demo@example.com")
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser and not demo.is_staff
    assert demo.check_password("demo-dance-2025")
    assert Video.objects.filter(youtube_id__startswith="DemoDance").count() == 4
    assert ReferencePoseTrack.objects.count() == 3
    assert Playlist.objects.filter(owner=demo).count() == 2
    analyses = Analysis.objects.filter(user=demo)
    assert analyses.count() > 100
    assert analyses.filter(status=Analysis.Status.FAILED).exists()
    assert analyses.filter(provider="gemini", input_tokens__gt=0).exists()
    assert analyses.filter(cached=True).exists()
    pose_rows = analyses.filter(status=Analysis.Status.COMPLETED, provider="pose")
    sample = pose_rows.first()
    assert set(sample.details["body_parts"]) == {"left_arm", "right_arm", "left_leg", "right_leg", "torso", "head"}
    assert sample.details["mode"] in ("reference", "form_only")
    scores = list(pose_rows.values_list("score", flat=True))
    assert min(scores) < 60 and max(scores) > 90  # a realistic spread
    assert analyses.exclude(frame="").exists()

    counts = (User.objects.count(), Video.objects.count(), Playlist.objects.count(), Analysis.objects.count())
    sessions = PracticeSession.objects.count()
    call_command("seed_demo")
    assert (User.objects.count(), Video.objects.count(), Playlist.objects.count(), Analysis.objects.count()) == counts
    assert PracticeSession.objects.count() == sessions


def test_seed_demo_gives_the_demo_dancer_stats(make_auth_client):
    call_command("seed_demo")
    client = make_auth_client(user=User.objects.get(email="demo@example.com"))
    body = client.get("/api/v1/stats/").json()
    assert body["total_analyses"] > 100
    assert body["current_streak"] >= 4
    assert len(body["weakest_body_parts"]) == 3
    assert len(body["videos"]) >= 3


def test_a_seed_demo_dry_run_creates_nothing(capsys):
    call_command("seed_demo", "--dry-run")
    assert User.objects.count() == 0 and Analysis.objects.count() == 0
    assert "Dry run: nothing was changed" in capsys.readouterr().out


def test_seed_demo_reset_rebuilds_the_analyses_without_duplicates():
    call_command("seed_demo", "--weeks", "1")
    first = Analysis.objects.count()
    call_command("seed_demo", "--weeks", "1", "--reset")
    assert Analysis.objects.count() == first  # same seed, same data
