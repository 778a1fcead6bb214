"""What a trial would change: its runs against the current results (the admin's trial comparison).

"Before" is each analysis's current result (the row), or for a run already promoted the result it
replaced; "after" is the trial's latest run of it. Both are read as plain values, one row per
analysis in the trial, and summarised here.
"""

from __future__ import annotations

import statistics
from collections import Counter

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.fields.json import KeyTransform

from analyses.models import Analysis, AnalysisRevision

MOVED_MOST = 10
BINS = [f"{low}-{low + 9}" if low < 90 else "90-100" for low in range(0, 100, 10)]


def trials_list() -> list[dict]:
    """Every trial with its runs, newest first."""
    rows = (
        AnalysisRevision.objects.exclude(trial="")
        .values("trial")
        .annotate(
            runs=Count("pk"),
            analyses=Count("analysis", distinct=True),
            completed=Count("pk", filter=Q(status=Analysis.Status.COMPLETED)),
            failed=Count("pk", filter=Q(status=Analysis.Status.FAILED)),
            current=Count("pk", filter=Q(is_current=True)),
            first_run=Min("created_at"),
            last_run=Max("created_at"),
        )
        .order_by("-last_run", "trial")
    )
    return list(rows)


def _bin(score: int) -> int:
    return min(int(score) // 10, 9)


def weakest_part(parts) -> str | None:
    """The body part with the lowest pose score (ties by name), or None without scores."""
    if not isinstance(parts, dict):
        return None
    scored = [(value, name) for name, value in parts.items() if isinstance(value, int | float)]
    return min(scored)[1] if scored else None


def _runs(trial: str) -> list[dict]:
    """The trial's latest finished run of each analysis, with the analysis's current result."""
    rows = (
        AnalysisRevision.objects.filter(trial=trial, status__in=Analysis.FINAL_STATUSES)
        .annotate(
            after_parts=KeyTransform("body_parts", "details"),
            replaced_parts=KeyTransform("body_parts", "replaced__details"),
        )
        .order_by("analysis_id", "-created_at", "-pk")
        .values(
            "analysis_id",
            "status",
            "score",
            "after_parts",
            "error_code",
            "input_tokens",
            "output_tokens",
            "is_current",
            "analysis__status",
            "analysis__score",
            "analysis__body_parts",
            "replaced__status",
            "replaced__score",
            "replaced_parts",
        )
    )
    latest, seen = [], set()
    for row in rows:
        if row["analysis_id"] not in seen:
            seen.add(row["analysis_id"])
            latest.append(_with_before(row))
    return latest


def _with_before(row: dict) -> dict:
    """The result the trial's run is compared with: the row's, or the one a promotion replaced."""
    if row["is_current"]:
        before = (row["replaced__status"], row["replaced__score"], row["replaced_parts"])
    else:
        before = (row["analysis__status"], row["analysis__score"], row["analysis__body_parts"])
    row["before_status"], row["before_score"], row["before_parts"] = before
    return row


def _distribution(scores: list[int]) -> list[int]:
    counts = [0] * len(BINS)
    for score in scores:
        counts[_bin(score)] += 1
    return counts


def _changes(runs: list[dict]) -> list[dict]:
    pairs = []
    for row in runs:
        before = row["before_score"] if row["before_status"] == Analysis.Status.COMPLETED else None
        if row["status"] == Analysis.Status.COMPLETED and before is not None and row["score"] is not None:
            pairs.append({"analysis_id": row["analysis_id"], "before": before, "after": row["score"]})
            pairs[-1]["change"] = row["score"] - before
    return pairs


def _agreement(runs: list[dict]) -> dict:
    compared = agreed = 0
    for row in runs:
        before, after = weakest_part(row["before_parts"]), weakest_part(row["after_parts"])
        if row["status"] == Analysis.Status.COMPLETED and before and after:
            compared += 1
            agreed += before == after
    return {"compared": compared, "agreed": agreed, "rate": round(agreed / compared, 4) if compared else None}


def trial_compare(trial: str) -> dict:
    """The comparison figures of one trial (an empty trial gives zeros and Nones)."""
    runs = _runs(trial)
    completed = [row for row in runs if row["status"] == Analysis.Status.COMPLETED]
    before_scores = [
        row["before_score"]
        for row in completed
        if row["before_status"] == Analysis.Status.COMPLETED and row["before_score"] is not None
    ]
    pairs = _changes(runs)
    changes = [pair["change"] for pair in pairs]
    failures = Counter(row["error_code"] or "(none)" for row in runs if row["status"] == Analysis.Status.FAILED)
    tokens = AnalysisRevision.objects.filter(trial=trial).aggregate(i=Sum("input_tokens"), o=Sum("output_tokens"))
    input_tokens, output_tokens = tokens["i"] or 0, tokens["o"] or 0
    cost = (
        input_tokens / 1e6 * settings.GEMINI_PRICE_INPUT_PER_MTOK
        + output_tokens / 1e6 * settings.GEMINI_PRICE_OUTPUT_PER_MTOK
    )
    return {
        "trial": trial,
        "analyses": len(runs),
        "completed": len(completed),
        "failed": len(runs) - len(completed),
        "promoted": sum(1 for row in runs if row["is_current"]),
        "compared": len(pairs),
        "bins": BINS,
        "before_distribution": _distribution(before_scores),
        "after_distribution": _distribution([row["score"] for row in completed if row["score"] is not None]),
        "mean_change": round(statistics.fmean(changes), 2) if changes else None,
        "median_change": statistics.median(changes) if changes else None,
        "weakest_part": _agreement(runs),
        "moved_most": sorted(pairs, key=lambda p: (-abs(p["change"]), str(p["analysis_id"])))[:MOVED_MOST],
        "failures_by_code": [{"error_code": code, "runs": n} for code, n in sorted(failures.items(), key=_by_count)],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "estimated_cost_usd": round(cost, 4),
    }


def _by_count(item):
    return (-item[1], item[0])
