"""Re-analysis as revisions: a failed re-run never loses a result; preflight; trials and promotion."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from analyses import analyzing, caching
from analyses.analyzers.base import AnalyzerResult, PermanentAnalyzerError
from analyses.models import Analysis, AnalysisRevision
from analyses.services import maintenance, trials
from analyses.tests.factories import pose_keypoints
from analyses.tests.stats_factories import analysis_at
from analyses.trials import trial_compare

pytestmark = pytest.mark.django_db


def old_analysis(days_ago=3, **fields):
    fields.setdefault("keypoints", pose_keypoints())
    fields.setdefault("score", 40)
    fields.setdefault("advice", "old advice")
    return analysis_at(timezone.now() - timedelta(days=days_ago), **fields)


def result_of(row):
    return (row.status, row.score, row.advice, row.provider, row.error_code)


class FakeAnalyzer:
    """Stands in for analyzing.analyze: a fixed score, or a permanent failure for some analyses."""

    def __init__(self, score=77, fail=()):
        self.score, self.fail, self.calls = score, set(fail), []

    def __call__(self, *, analysis):
        self.calls.append(analysis.pk)
        if analysis.pk in self.fail or "all" in self.fail:
            raise PermanentAnalyzerError("gemini_not_configured", "gemini_not_configured: no Gemini API key is set")
        return AnalyzerResult(
            score=self.score,
            good_points=["Arms"],
            improvements=["Knees"],
            advice="new advice",
            provider=analysis.provider,
            model="test-model",
            input_tokens=100,
            output_tokens=10,
        )


@pytest.fixture
def analyzer(monkeypatch):
    fake = FakeAnalyzer()
    monkeypatch.setattr(analyzing, "analyze", fake)
    return fake


# --- a re-run never loses a result -----------------------------------------------------------------


def test_it_keeps_a_completed_result_when_the_rerun_fails_and_records_the_failure_beside_it(analyzer, capsys):
    row = old_analysis()
    analyzer.fail = {row.pk}
    call_command("reanalyze", "--sync")
    row.refresh_from_db()
    assert result_of(row) == ("completed", 40, "old advice", "pose", "")
    runs = list(row.revisions.order_by("created_at", "pk"))
    assert [(r.status, r.is_current, r.score, r.error_code) for r in runs] == [
        ("completed", True, 40, ""),
        ("failed", False, None, "gemini_not_configured"),
    ]
    out = capsys.readouterr().out
    assert "completed 0, failed 0, failed but kept the previous result 1" in out


def test_it_leaves_a_failed_first_run_failed_when_the_rerun_fails_too(analyzer):
    row = old_analysis(status=Analysis.Status.FAILED, score=None, error_code="timeout")
    analyzer.fail = {"all"}
    assert maintenance.reanalyze_one(analysis_id=row.pk, sync=True) == "failed"
    row.refresh_from_db()
    assert (row.status, row.error_code) == ("failed", "timeout")
    assert list(row.revisions.values_list("status", "is_current")) == [("failed", False), ("failed", False)]


def test_a_successful_rerun_becomes_the_current_revision_and_the_rows_result(
    analyzer, django_capture_on_commit_callbacks
):
    row = old_analysis()
    with django_capture_on_commit_callbacks(execute=True):
        assert maintenance.reanalyze_one(analysis_id=row.pk, sync=True) == "completed"
    row.refresh_from_db()
    assert result_of(row) == ("completed", 77, "new advice", "pose", "")
    current = row.revisions.get(is_current=True)
    assert (current.score, current.model, current.trial, current.input_tokens) == (77, "test-model", "", 100)
    assert current.analyzer_version == analyzing.analyzer_version("pose")
    assert row.revisions.count() == 2  # the first run's result, kept as a revision
    assert caching.result_get(row.fingerprint)["score"] == 77  # identical submissions share it


def test_a_queued_rerun_leaves_the_row_untouched_until_it_has_run(analyzer, django_capture_on_commit_callbacks):
    row = old_analysis()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("reanalyze")
    row.refresh_from_db()
    assert result_of(row) == ("completed", 40, "old advice", "pose", "")  # not even pending
    assert row.revisions.filter(status="pending").count() == 1
    for callback in callbacks:
        callback()  # the broker delivers: eager here
    row.refresh_from_db()
    assert (row.status, row.score) == ("completed", 77)
    assert analyzer.calls == [row.pk]


def test_requesting_a_rerun_twice_runs_it_once(analyzer, django_capture_on_commit_callbacks):
    row = old_analysis()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert maintenance.analysis_reanalyze(analysis=row) is True
        assert maintenance.analysis_reanalyze(analysis=row) is False  # already requested
    for callback in callbacks:
        callback()
    assert analyzer.calls == [row.pk]


# --- preflight -------------------------------------------------------------------------------------


def test_preflight_refuses_gemini_without_a_key_with_the_counts_before_changing_anything(analyzer, settings):
    settings.GEMINI_API_KEY = ""
    rows = [old_analysis() for _ in range(3)]
    with pytest.raises(CommandError, match=r"3 of 3 analyses would run on gemini, but no Gemini API key"):
        call_command("reanalyze", "--sync", "--to-provider", "gemini")
    assert AnalysisRevision.objects.count() == 0 and analyzer.calls == []
    for row in rows:
        row.refresh_from_db()
        assert result_of(row) == ("completed", 40, "old advice", "pose", "")


def test_preflight_refuses_a_pose_rerun_of_analyses_without_keypoints(analyzer):
    old_analysis()
    old_analysis(keypoints=None, provider="gemini")
    with pytest.raises(CommandError, match=r"1 of 2 analyses would run on pose, but were submitted without keypoints"):
        call_command("reanalyze", "--to-provider", "pose")
    assert AnalysisRevision.objects.count() == 0 and analyzer.calls == []


def test_preflight_refuses_a_gemini_rerun_of_analyses_whose_frame_is_gone_and_that_have_no_keypoints(
    analyzer, settings
):
    settings.GEMINI_API_KEY = "key"
    old_analysis(provider="gemini", keypoints=None, frame="")
    old_analysis(provider="gemini", frame="")  # its keypoints still give Gemini the pose figures
    with pytest.raises(CommandError, match=r"1 of 2 analyses would run on gemini, but their frames are gone"):
        call_command("reanalyze", "--to-provider", "gemini")
    assert AnalysisRevision.objects.count() == 0 and analyzer.calls == []


def test_preflight_counts_each_analysis_by_its_own_provider(settings):
    settings.GEMINI_API_KEY = ""
    old_analysis(provider="gemini")
    old_analysis(provider="gemini", keypoints=None, frame="frames/kept.jpg")
    old_analysis(provider="pose", keypoints=None)
    old_analysis()
    report = trials.reanalyze_preflight(queryset=Analysis.objects.all())
    assert (report.total, report.gemini_without_key, report.pose_without_keypoints) == (4, 2, 1)
    assert trials.reanalyze_preflight(queryset=Analysis.objects.all(), limit=1).total == 1
    settings.GEMINI_API_KEY = "key"
    assert trials.reanalyze_preflight(queryset=Analysis.objects.filter(provider="gemini")).ok


def test_a_dry_run_prints_the_preflight_warnings(analyzer, settings, capsys):
    settings.GEMINI_API_KEY = ""
    old_analysis(provider="gemini")
    call_command("reanalyze", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run: 1 analyses would be re-analysed" in out
    assert "Warning: 1 of 1 analyses would run on gemini" in out and "would be refused" in out
    assert AnalysisRevision.objects.count() == 0


# --- trials ----------------------------------------------------------------------------------------


def dancer_view(user) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    listing = client.get("/api/v1/analyses/")
    assert listing.status_code == 200
    details = {a["id"]: client.get(f"/api/v1/analyses/{a['id']}/").json() for a in listing.json()["results"]}
    sessions = client.get("/api/v1/sessions/").json()
    reports = {x["id"]: client.get(f"/api/v1/sessions/{x['id']}/").json() for x in sessions["results"]}
    assert len(details) == len(reports) == 3
    return {
        "list": listing.json(),
        "details": details,
        "sessions": sessions,
        "reports": reports,  # each session's report
        "stats": client.get("/api/v1/stats/").json(),
    }


def test_a_trial_changes_nothing_the_api_shows_a_dancer(analyzer):
    dancer = UserFactory()
    rows = [old_analysis(days_ago=3 - i, user=dancer, score=40 + i) for i in range(3)]
    before = dancer_view(dancer)
    call_command("reanalyze", "--sync", "--trial", "new-model")
    assert dancer_view(dancer) == before
    assert AnalysisRevision.objects.filter(trial="new-model", status="completed").count() == 3
    for row in rows:
        row.refresh_from_db()
        assert row.score != 77 and row.revisions.get(is_current=True).trial == ""
        assert caching.result_get(row.fingerprint) is None  # nor does an identical new submission see it


def test_promotion_switches_exactly_the_trials_analyses(analyzer):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory()
    tried = [old_analysis(user=alice) for _ in range(2)]
    failed_in_trial = old_analysis(user=alice)
    outside = old_analysis(user=bob)
    analyzer.fail = {failed_in_trial.pk}
    call_command("reanalyze", "--sync", "--trial", "t1", "--user", "alice@example.com")
    call_command("reanalyze", "--promote", "t1", "--dry-run")
    assert Analysis.objects.filter(score=77).count() == 0  # a dry run promotes nothing
    call_command("reanalyze", "--promote", "t1")
    for row in tried:
        row.refresh_from_db()
        assert (row.status, row.score, row.advice) == ("completed", 77, "new advice")
        assert row.revisions.get(is_current=True).trial == "t1"
    for row in (failed_in_trial, outside):
        row.refresh_from_db()
        assert (row.score, row.advice) == (40, "old advice")
    again = trials.trial_promote(trial="t1")
    assert (again.promoted, again.already_current, again.failed_runs) == (0, 2, 1)


def test_promotion_and_discard_take_the_filters(analyzer, capsys):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    a, b = old_analysis(user=alice), old_analysis(user=bob)
    call_command("reanalyze", "--sync", "--trial", "t2")
    call_command("reanalyze", "--promote", "t2", "--user", "alice@example.com")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.score, b.score) == (77, 40)
    call_command("reanalyze", "--discard", "t2", "--dry-run")
    call_command("reanalyze", "--discard", "t2")
    out = capsys.readouterr().out
    assert "Dry run: would discard 1 runs of trial 't2'" in out
    assert "Discarded 1 runs of trial 't2'" in out  # the promoted run stays
    assert list(AnalysisRevision.objects.filter(trial="t2").values_list("analysis_id", flat=True)) == [a.pk]
    b.refresh_from_db()
    assert b.score == 40


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--trial", "bad name"], "not a trial name"),
        (["--trial", "a", "--promote", "a"], "not allowed with argument"),
        (["--promote", "a", "--sync"], "take the filters only"),
        (["--discard", "a", "--to-provider", "pose"], "take the filters only"),
    ],
)
def test_bad_trial_arguments_are_a_command_error(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("reanalyze", *argv)


# --- recovery and the admin action -----------------------------------------------------------------


def test_the_recovery_job_requeues_a_rerun_whose_task_was_lost(analyzer, settings):
    row = old_analysis()
    assert maintenance.analysis_reanalyze(analysis=row) is True  # its task is never delivered (no on-commit here)
    lost = row.revisions.get(status="pending")
    AnalysisRevision.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    counts = maintenance.analyses_recover_stuck()
    assert counts == {"requeued": 1, "failed": 0}
    row.refresh_from_db()
    assert (row.status, row.score) == ("completed", 77)  # the requeued run ran (eagerly here)
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 0}


def test_the_recovery_job_fails_a_rerun_past_its_attempts_and_the_result_stays(analyzer, settings):
    row = old_analysis()
    maintenance.analysis_reanalyze(analysis=row)
    AnalysisRevision.objects.filter(trial="", status="pending").update(
        status="processing", attempts=settings.ANALYSIS_MAX_ATTEMPTS, lease_until=timezone.now() - timedelta(minutes=1)
    )
    assert maintenance.analyses_recover_stuck() == {"requeued": 0, "failed": 1}
    row.refresh_from_db()
    assert (row.status, row.score, row.advice) == ("completed", 40, "old advice")
    assert row.revisions.filter(status="failed", error_code="too_many_attempts").count() == 1


def test_the_admin_action_refuses_what_cannot_run_and_queues_the_rest(analyzer, client, settings):
    settings.GEMINI_API_KEY = ""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    gemini = old_analysis(provider="gemini")
    pose = old_analysis()
    url = "/admin/analyses/analysis/"
    refused = client.post(url, {"action": "reanalyze", "_selected_action": [gemini.pk, pose.pk]}, follow=True)
    assert "1 of 2 analyses would run on gemini" in refused.content.decode()
    assert AnalysisRevision.objects.count() == 0
    queued = client.post(url, {"action": "reanalyze", "_selected_action": [pose.pk]}, follow=True)
    assert "1 analyses queued again" in queued.content.decode()
    assert pose.revisions.filter(trial="").count() == 2


def test_the_comparison_reads_the_same_after_a_promotion(analyzer):
    for i in range(3):
        old_analysis(score=30 + 10 * i)
    call_command("reanalyze", "--sync", "--trial", "t3")
    before = trial_compare("t3")
    assert (before["mean_change"], before["promoted"]) == (77 - 40, 0)
    call_command("reanalyze", "--promote", "t3")
    after = trial_compare("t3")
    assert after["promoted"] == 3
    assert {k: v for k, v in after.items() if k != "promoted"} == {k: v for k, v in before.items() if k != "promoted"}


def test_the_frame_purge_keeps_the_frame_of_an_analysis_being_re_run(analyzer):
    from analyses.tests.test_commands import with_frame

    rerun, idle = with_frame(40), with_frame(40)
    maintenance.analysis_reanalyze(analysis=rerun)  # queued, not yet run: the analyzer will read the frame
    summary = maintenance.frames_purge(older_than_days=30)
    assert summary.purged == 1
    rerun.refresh_from_db()
    idle.refresh_from_db()
    assert rerun.frame.name and rerun.frame.storage.exists(rerun.frame.name)
    assert idle.frame.name == ""
