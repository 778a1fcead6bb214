"""A practice session's report (`GET /api/v1/sessions/{id}/report/`): where to practise next.

Two queries whatever the session's size: its completed analyses ordered by video time (the
database extracts each body part's score from `body_parts`, so no JSON reaches Python), and
the dancer's previous session on the same video with its average (one grouped query, LIMIT 1).
Python adds up the timeline's rows for the averages and walks it once to group neighbouring
low scores into stretches.

Definitions:
- a low analysis scores below min(LOW_SCORE, the session's average - LOW_MARGIN): a dip
  below the dancer's own level, and never a score of LOW_SCORE or more;
- a worst moment is a run of at least MOMENT_MIN_ANALYSES low analyses in video-time order
  with no gap over MOMENT_GAP_SECONDS between neighbours; runs never overlap; the up to
  MOMENTS_MAX that lost most points below the threshold (depth times length: a long dip
  before a two-frame stumble) are shown, worst first;
- a moment's body parts are those whose average there is below WEAK_PART, the most points
  lost first (at most PARTS_PER_MOMENT);
- `previous` is the latest session on the same video started before this one that has a
  completed analysis.
"""

from __future__ import annotations

from django.db.models import Avg, OuterRef, Q, Subquery

from analyses.models import Analysis, PracticeSession
from analyses.stats import BODY_PARTS, part_score, rounded

LOW_SCORE = 80
LOW_MARGIN = 5
MOMENT_GAP_SECONDS = 6.0  # the front end sends a frame every 3 to 5 s (docs/api.md)
MOMENT_MIN_ANALYSES = 2
MOMENTS_MAX = 3
WEAK_PART = 80.0
PARTS_PER_MOMENT = 3

COMPLETED = Q(status=Analysis.Status.COMPLETED, score__isnull=False)


def _timeline(session: PracticeSession) -> list[dict]:
    """The completed analyses in video-time order, each part's score extracted by the database."""
    rows = (
        Analysis.objects.filter(COMPLETED, session=session)
        .order_by("timestamp", "created_at")
        .values_list("id", "timestamp", "score", *(part_score(p) for p in BODY_PARTS))
    )
    timeline = []
    for analysis_id, timestamp, score, *values in rows:
        parts = {p: v for p, v in zip(BODY_PARTS, values, strict=True) if v is not None}
        weakest = min(parts, key=lambda p: (parts[p], BODY_PARTS.index(p))) if parts else None
        timeline.append(
            {
                "analysis_id": analysis_id,
                "timestamp": timestamp,
                "score": score,
                "weakest_part": weakest,
                "_parts": parts,
            }
        )
    return timeline


def _moment(run: list[dict], threshold: float) -> dict:
    totals: dict[str, list[float]] = {}
    for row in run:
        for part, value in row["_parts"].items():
            totals.setdefault(part, []).append(value)
    averages = {p: sum(v) / len(v) for p, v in totals.items()}
    weak = sorted((p for p in averages if averages[p] < WEAK_PART), key=lambda p: (averages[p], BODY_PARTS.index(p)))
    return {
        "start": run[0]["timestamp"],
        "end": run[-1]["timestamp"],
        "average_score": rounded(sum(r["score"] for r in run) / len(run)),
        "analyses": len(run),
        "body_parts": [{"part": p, "average_score": rounded(averages[p])} for p in weak[:PARTS_PER_MOMENT]],
        "_lost": sum(threshold - r["score"] for r in run),
    }


def worst_moments(timeline: list[dict], average: float | None) -> list[dict]:
    """Runs of neighbouring low analyses (video-time order), the most points lost first."""
    if average is None:
        return []
    threshold = min(LOW_SCORE, average - LOW_MARGIN)
    runs: list[list[dict]] = []
    run: list[dict] = []
    for row in timeline:
        if row["score"] < threshold and (not run or row["timestamp"] - run[-1]["timestamp"] <= MOMENT_GAP_SECONDS):
            run.append(row)
            continue
        if len(run) >= MOMENT_MIN_ANALYSES:
            runs.append(run)
        run = [row] if row["score"] < threshold else []
    if len(run) >= MOMENT_MIN_ANALYSES:
        runs.append(run)
    moments = sorted((_moment(r, threshold) for r in runs), key=lambda m: (-m["_lost"], m["start"]))[:MOMENTS_MAX]
    for moment in moments:
        del moment["_lost"]
    return moments


def _figures(timeline: list[dict]) -> tuple[float | None, dict[str, float]]:
    """The session's average score and its average per body part: sums over the timeline's rows."""
    if not timeline:
        return None, {}
    totals: dict[str, list[float]] = {}
    for row in timeline:
        for part, value in row["_parts"].items():
            totals.setdefault(part, []).append(value)
    parts = {p: rounded(sum(totals[p]) / len(totals[p])) for p in BODY_PARTS if p in totals}
    return sum(row["score"] for row in timeline) / len(timeline), parts


def _previous(session: PracticeSession, average: float | None) -> dict | None:
    """The latest earlier session on the video with a score: the dancer's sessions walked back
    from this one (index `session_user_started`), each average a subquery that stops the walk
    at the first scored one (from the covering index `analysis_user_session_cover` on PostgreSQL)."""
    scored = (
        Analysis.objects.filter(COMPLETED, user_id=session.user_id, video_id=session.video_id, session=OuterRef("pk"))
        .values("session")
        .annotate(average=Avg("score"))
        .values("average")
    )
    earlier = (
        PracticeSession.objects.filter(
            user_id=session.user_id, video_id=session.video_id, started_at__lt=session.started_at
        )
        .annotate(average=Subquery(scored))
        .filter(average__isnull=False)
        .order_by("-started_at")
        .values("id", "average")
        .first()
    )
    if earlier is None:
        return None
    delta = None if average is None else round(rounded(average) - rounded(earlier["average"]), 1)
    return {"session_id": earlier["id"], "average_score": rounded(earlier["average"]), "delta": delta}


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _span(moment: dict, dash: str) -> str:
    start, end = _clock(moment["start"]), _clock(moment["end"])
    return start if start == end else f"{start}{dash}{end}"


PART_NAMES = {
    "en": {
        "left_arm": "left arm",
        "right_arm": "right arm",
        "left_leg": "left leg",
        "right_leg": "right leg",
        "torso": "torso",
        "head": "head",
    },
    "ja": {
        "left_arm": "左腕",
        "right_arm": "右腕",
        "left_leg": "左脚",
        "right_leg": "右脚",
        "torso": "体幹",
        "head": "頭",
    },
}


def summary_text(*, language: str, average, scored: int, moments: list, previous: dict | None, parts: dict) -> str:
    """One or two sentences from the figures, in the dancer's language (no AI call)."""
    ja = language == "ja"
    names = PART_NAMES["ja" if ja else "en"]
    if not scored:
        return "まだ採点された動きがありません。" if ja else "No scored moves in this session yet."
    score = round(average)
    first = f"平均{score}点（{scored}回の採点）" if ja else f"Average {score} over {scored} scored moves"
    if previous and previous["delta"] is not None:
        delta = previous["delta"]
        first += f"、前回より{delta:+g}点" if ja else f", {delta:+g} since last time"
    first += "。" if ja else "."
    if moments:
        worst = moments[0]
        span = _span(worst, "〜" if ja else "–")
        part = names[worst["body_parts"][0]["part"]] if worst["body_parts"] else None
        if ja:
            second = f"まず{span}を繰り返し練習しましょう" + (f"（{part}が一番点を落としています）。" if part else "。")
        else:
            second = f"Loop {span} first" + (f": the {part} lost the most points there." if part else ".")
        return f"{first}{second}" if ja else f"{first} {second}"
    weakest = min(parts, key=parts.get) if parts else None
    if weakest and parts[weakest] < WEAK_PART:
        return f"{first}{names[weakest]}を意識しましょう。" if ja else f"{first} Keep an eye on the {names[weakest]}."
    return f"{first}大きく崩れた所はありません。" if ja else f"{first} No stretch fell apart: well done."


def session_report(*, session: PracticeSession, language: str) -> dict:
    """Timeline, worst moments, body parts, the previous session and a summary."""
    timeline = _timeline(session)
    average, parts = _figures(timeline)
    moments = worst_moments(timeline, average)
    previous = _previous(session, average)
    for row in timeline:
        del row["_parts"]
    return {
        "session_id": session.pk,
        "video_id": session.video_id,
        "analyses": len(timeline),
        "average_score": rounded(average),
        "timeline": timeline,
        "worst_moments": moments,
        "body_parts": parts,
        "previous": previous,
        "summary": summary_text(
            language=language, average=average, scored=len(timeline), moments=moments, previous=previous, parts=parts
        ),
        "language": language,
    }


def session_for_report(*, user, session_id) -> PracticeSession | None:
    """The dancer's own session (another dancer's looks exactly like a missing one)."""
    return PracticeSession.objects.filter(pk=session_id, user=user).first()
