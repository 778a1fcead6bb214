"""The staff reports page in the admin (`/admin/reports/`) and its CSV (`/admin/reports.csv`), and
the trials' comparison pages (`/admin/reports/trials/`, `/admin/reports/trials/<name>/`).

The project's admin site (config.admin_site) routes to these views through its `admin_view`.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse

from analyses import reports, trials
from analyses.models import AnalysisRevision


class ReportRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        default = reports.DateRange.last_days()
        end = data.get("end") or default.end
        start = data.get("start") or (end - timedelta(days=reports.DEFAULT_DAYS - 1))
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days + 1 > reports.MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {reports.MAX_RANGE_DAYS} days.")
        data["range"] = reports.DateRange(start=start, end=end, tz=default.tz)
        return data


def _range_from(request) -> tuple[ReportRangeForm, reports.DateRange]:
    form = ReportRangeForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["range"]
    default = reports.DateRange.last_days()
    if not form.is_bound:
        form = ReportRangeForm(initial={"start": default.start, "end": default.end})
    return form, default


def _chart_data(report: dict) -> dict:
    """What the page's charts draw (the same figures as the tables)."""
    daily = report["daily"]
    return {
        "days": [d["date"].isoformat() for d in daily],
        "analyses": [d["analyses"] for d in daily],
        "failed": [d["failed"] for d in daily],
        "average_score": [d["average_score"] for d in daily],
        "bins": [b["bin"] for b in report["score_distribution"]],
        "bin_counts": [b["analyses"] for b in report["score_distribution"]],
        "error_codes": [f["error_code"] for f in report["failures_by_code"]],
        "error_counts": [f["analyses"] for f in report["failures_by_code"]],
    }


def reports_view(request):
    form, date_range = _range_from(request)
    report = reports.report_build(date_range)
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "form": form,
        "report": report,
        "chart_data": _chart_data(report),
        "csv_query": f"start={date_range.start.isoformat()}&end={date_range.end.isoformat()}",
    }
    return TemplateResponse(request, "admin/reports.html", context)


def reports_csv_view(request):
    _, date_range = _range_from(request)
    report = reports.report_build(date_range)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"reports_{date_range.start:%Y%m%d}_{date_range.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    reports.report_csv(report, out=response)
    return response


def trials_view(request):
    context = {**admin.site.each_context(request), "title": "Trials", "trials": trials.trials_list()}
    return TemplateResponse(request, "admin/trials.html", context)


def trial_compare_view(request, name: str):
    if not AnalysisRevision.objects.filter(trial=name).exists():
        raise Http404("No such trial.")
    comparison = trials.trial_compare(name)
    chart = {key: comparison[key] for key in ("bins", "before_distribution", "after_distribution")}
    chart["error_codes"] = [f["error_code"] for f in comparison["failures_by_code"]]
    chart["error_counts"] = [f["runs"] for f in comparison["failures_by_code"]]
    context = {
        **admin.site.each_context(request),
        "title": f"Trial {name}",
        "comparison": comparison,
        "chart_data": chart,
        "distribution_rows": zip(
            comparison["bins"], chart["before_distribution"], chart["after_distribution"], strict=True
        ),
        "prices": {
            "input_per_mtok": settings.GEMINI_PRICE_INPUT_PER_MTOK,
            "output_per_mtok": settings.GEMINI_PRICE_OUTPUT_PER_MTOK,
        },
    }
    return TemplateResponse(request, "admin/trial_compare.html", context)
