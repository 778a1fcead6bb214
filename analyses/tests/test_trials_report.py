"""The trial comparison (analyses.trials) on constructed data, and its admin pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from analyses import trials
from analyses.models import Analysis, AnalysisRevision
from analyses.tests.stats_factories import analysis_at, body_parts

pytestmark = pytest.mark.django_db


def run(analysis, *, score=None, status="completed", parts=None, minutes_ago=0, trial="t", **fields):
    return AnalysisRevision.objects.create(
        analysis=analysis,
        trial=trial,
        status=status,
        score=score,
        provider="pose",
        details=body_parts(**parts) if parts is not None else {},
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def constructed_trial():
    """Five analyses in trial "t"; the figures the comparison must give are in the test."""
    when = timezone.now() - timedelta(days=1)
    a = analysis_at(when, score=50, details=body_parts(left_arm=40))
    b = analysis_at(when, score=80, details=body_parts(torso=50))
    c = analysis_at(when, score=30)
    d = analysis_at(when, score=60)
    e = analysis_at(when, status=Analysis.Status.FAILED, error_code="timeout")
    run(a, score=10, minutes_ago=30, input_tokens=500, output_tokens=50)  # older run of the same trial: ignored
    run(a, score=70, parts={"left_arm": 45}, input_tokens=1000, output_tokens=100)
    run(b, score=60, parts={"head": 20}, input_tokens=1000, output_tokens=100)
    run(c, score=35)
    run(d, status="failed", error_code="timeout", input_tokens=5, output_tokens=1)
    run(e, score=90)
    run(a, score=99, trial="other")  # another trial
    return a, b, c, d, e


def test_the_comparison_figures_on_constructed_data_are_right(settings):
    settings.GEMINI_PRICE_INPUT_PER_MTOK, settings.GEMINI_PRICE_OUTPUT_PER_MTOK = 0.30, 2.50
    a, b, c, _d, _e = constructed_trial()
    figures = trials.trial_compare("t")
    assert (figures["analyses"], figures["completed"], figures["failed"], figures["compared"]) == (5, 4, 1, 3)
    assert figures["before_distribution"] == [0, 0, 0, 1, 0, 1, 0, 0, 1, 0]  # 30, 50, 80
    assert figures["after_distribution"] == [0, 0, 0, 1, 0, 0, 1, 1, 0, 1]  # 35, 60, 70, 90
    assert figures["mean_change"] == round((20 - 20 + 5) / 3, 2)
    assert figures["median_change"] == 5
    assert figures["weakest_part"] == {"compared": 2, "agreed": 1, "rate": 0.5}
    moved = [(m["analysis_id"], m["before"], m["after"], m["change"]) for m in figures["moved_most"]]
    assert sorted(moved[:2]) == sorted([(a.pk, 50, 70, 20), (b.pk, 80, 60, -20)])
    assert moved[2] == (c.pk, 30, 35, 5)
    assert figures["failures_by_code"] == [{"error_code": "timeout", "runs": 1}]
    assert (figures["input_tokens"], figures["output_tokens"]) == (2505, 251)
    assert figures["estimated_cost_usd"] == round(2505 / 1e6 * 0.30 + 251 / 1e6 * 2.50, 4)


def test_an_empty_comparison_has_no_averages():
    figures = trials.trial_compare("nothing")
    assert (figures["analyses"], figures["mean_change"], figures["median_change"]) == (0, None, None)
    assert figures["weakest_part"]["rate"] is None


def test_the_weakest_part_ignores_missing_scores_and_breaks_ties_by_name():
    assert trials.weakest_part({"torso": 50, "head": 50, "left_arm": None}) == "head"
    assert trials.weakest_part(None) is None and trials.weakest_part({"head": None}) is None


def test_the_trials_list_counts_each_trial():
    constructed_trial()
    listed = {t["trial"]: t for t in trials.trials_list()}
    assert set(listed) == {"t", "other"}
    assert (listed["t"]["analyses"], listed["t"]["runs"], listed["t"]["failed"]) == (5, 6, 1)


def test_staff_see_the_trial_pages_and_others_are_sent_to_the_login(client):
    a, *_ = constructed_trial()
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert client.get("/admin/reports/trials/t/").status_code == 302
    client.force_login(staff)
    listing = client.get("/admin/reports/trials/")
    assert listing.status_code == 200 and b'data-trial="t"' in listing.content
    page = client.get("/admin/reports/trials/t/")
    assert page.status_code == 200
    assert f'data-figure="moved:{a.pk}">20<'.encode() in page.content
    assert client.get("/admin/reports/trials/missing/").status_code == 404
