"""Deleting dancers leaves the staff reports' totals and per-day counts unchanged (issue 18)."""

import pytest

from accounts.models import AnalysisTally
from accounts.ownership import user_delete
from analyses import reports
from analyses.models import Analysis
from analyses.tests.test_reports import RANGE, data, prices  # noqa: F401 - the fixtures

pytestmark = pytest.mark.django_db

COUNTS = (
    "analyses",
    "completed",
    "failed",
    "unfinished",
    "cache_hits",
    "gemini_analyses",
    "input_tokens",
    "output_tokens",
    "average_score",
    "failure_rate",
    "cache_hit_rate",
    "estimated_cost_usd",
)
DAILY = ("date", "analyses", "completed", "failed", "average_score", "input_tokens", "output_tokens")


def figures(report):
    totals = {name: report["totals"][name] for name in COUNTS}
    daily = [{name: row[name] for name in DAILY} for row in report["daily"]]
    return totals, daily


def test_the_reports_totals_and_days_are_unchanged_after_deleting_dancers(data):  # noqa: F811
    ids = [data["alice"].pk, data["bob"].pk]
    before = reports.report_build(RANGE)
    assert before["totals"]["analyses"] == 9

    user_delete(user=data["alice"])
    middle = reports.report_build(RANGE)
    user_delete(user=data["bob"])
    after = reports.report_build(RANGE)

    assert figures(middle) == figures(before) and figures(after) == figures(before)
    assert not Analysis.objects.filter(user__in=ids).exists()
    # The counts name no one: no user, no video, no text.
    fields = {f.name for f in AnalysisTally._meta.get_fields()}
    assert not fields & {"user", "user_id", "video", "advice", "frame", "keypoints"}
