"""The admin list helpers that keep list pages fast on a million analyses."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from analyses import admin_large_tables
from analyses.models import Analysis
from analyses.tests.stats_factories import analysis_at

pytestmark = pytest.mark.django_db


def test_the_paginator_counts_exactly_below_the_estimate_threshold_or_with_a_filter():
    for _ in range(3):
        analysis_at(timezone.now())
    assert admin_large_tables.EstimatedCountPaginator(Analysis.objects.order_by("pk"), 10).count == 3
    filtered = Analysis.objects.filter(status=Analysis.Status.FAILED).order_by("pk")
    assert admin_large_tables.EstimatedCountPaginator(filtered, 10).count == 0


def test_the_paginator_uses_the_planners_estimate_for_a_whole_table_on_postgresql(
    monkeypatch, django_assert_num_queries
):
    if connection.vendor != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's pg_class")
    for _ in range(5):
        analysis_at(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analyses_analysis")
    monkeypatch.setattr(admin_large_tables, "ESTIMATE_FROM_ROWS", 1)
    with django_assert_num_queries(1):
        count = admin_large_tables.EstimatedCountPaginator(Analysis.objects.order_by("pk"), 10).count
    assert count >= 1  # an estimate, not a COUNT(*)


def test_the_error_code_filter_lists_recent_failure_codes_and_filters_failed_rows():
    now = timezone.now()
    analysis_at(now, status=Analysis.Status.FAILED, error_code="timeout")
    analysis_at(now, status=Analysis.Status.FAILED, error_code="pose_not_visible")
    analysis_at(now - timedelta(days=40), status=Analysis.Status.FAILED, error_code="ancient_code")
    analysis_at(now, status=Analysis.Status.PENDING, error_code="timeout")  # a retry in progress
    model_admin = admin.site._registry[Analysis]
    request = RequestFactory().get("/admin/analyses/analysis/", {"error_code": "timeout"})
    flt = admin_large_tables.RecentErrorCodeFilter(request, {"error_code": ["timeout"]}, Analysis, model_admin)
    assert [code for code, _ in flt.lookup_choices] == ["pose_not_visible", "timeout"]
    assert flt.queryset(request, Analysis.objects.all()).count() == 1


def test_indexed_dates_list_every_period_between_the_first_and_the_last_row():
    analysis_at(datetime(2025, 11, 20, 12, tzinfo=UTC))
    analysis_at(datetime(2026, 2, 3, 12, tzinfo=UTC))
    queryset = admin_large_tables.indexed_dates(Analysis.objects.all())
    months = list(queryset.datetimes("created_at", "month"))
    assert [(d.year, d.month) for d in months] == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    years = queryset.datetimes("created_at", "year", order="DESC")
    assert [d.year for d in years] == [2026, 2025]
    days = queryset.filter(created_at__year=2026).datetimes("created_at", "day")
    assert [d.day for d in days] == [3]
    assert admin_large_tables.indexed_dates(Analysis.objects.none()).datetimes("created_at", "month") == []
    assert queryset.filter(status="completed").count() == 2  # still an ordinary queryset
