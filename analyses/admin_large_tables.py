"""Admin list pages that stay fast on a table of a million analyses (used by analyses/admin.py).

The analyses list spent its time in three whole-table queries: the date hierarchy's
`SELECT DISTINCT DATE_TRUNC(...)`, the error-code filter's `SELECT DISTINCT error_code` and the
paginator's COUNT(*). These replace each with index-only work:

- `EstimatedCountPaginator`: the planner's row estimate for an unfiltered list on
  PostgreSQL (pg_class.reltuples), the exact count as soon as a filter or search applies;
- `RecentErrorCodeFilter`: the codes of failures of the last 30 days (the (status,
  created_at) index), not a scan of every row, and filtering failed rows by code;
- `IndexedDatesQuerySet`: the date hierarchy's years/months/days from MIN and MAX (one
  index look-up each) instead of a DISTINCT over the table; every period between them is
  listed, even one without rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from analyses.models import Analysis

ESTIMATE_FROM_ROWS = 100_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] >= ESTIMATE_FROM_ROWS:
                    return int(row[0])
        return super().count


class RecentErrorCodeFilter(admin.SimpleListFilter):
    """Failed analyses by error code; the choices are the codes of the last 30 days' failures."""

    title = "error code (failed)"
    parameter_name = "error_code"
    days = 30

    def lookups(self, request, model_admin):
        since = timezone.now() - timedelta(days=self.days)
        codes = (
            Analysis.objects.filter(status=Analysis.Status.FAILED, created_at__gte=since)
            .exclude(error_code="")
            .values_list("error_code", flat=True)
            .distinct()
            .order_by("error_code")
        )
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            # With the status the (status, created_at) index narrows the rows first.
            return queryset.filter(status=Analysis.Status.FAILED, error_code=self.value())
        return queryset


def _periods(first: datetime, last: datetime, kind: str) -> list[datetime]:
    tz = timezone.get_current_timezone()
    first, last = timezone.localtime(first, tz), timezone.localtime(last, tz)
    out = []
    if kind == "year":
        out = [datetime(year, 1, 1, tzinfo=tz) for year in range(first.year, last.year + 1)]
    elif kind == "month":
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            out.append(datetime(year, month, 1, tzinfo=tz))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        day = first.date()
        while day <= last.date():
            out.append(datetime(day.year, day.month, day.day, tzinfo=tz))
            day += timedelta(days=1)
    return out


class IndexedDatesQuerySet(QuerySet):
    """`datetimes()` from MIN and MAX (index look-ups) instead of SELECT DISTINCT over the rows."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        periods = _periods(bounds["first"], bounds["last"], kind)
        return periods if order == "ASC" else periods[::-1]


def indexed_dates(queryset: QuerySet) -> IndexedDatesQuerySet:
    """The same rows, answering the admin date hierarchy's `datetimes()` from MIN and MAX."""
    return IndexedDatesQuerySet(queryset.model, query=queryset.all().query, using=queryset.db)
