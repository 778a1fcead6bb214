"""Helpers for stats, reports and command tests: analyses at given times with given figures."""

from datetime import datetime

from accounts.tests.factories import UserFactory
from analyses.models import Analysis
from analyses.tests.factories import AnalysisFactory, PracticeSessionFactory, VideoFactory


def body_parts(**scores) -> dict:
    """Pose details shaped like the analyzer's: every part 90 unless given."""
    parts = {p: 90.0 for p in ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")}
    parts.update(scores)
    seen = [p for p in parts if parts[p] is not None]
    weakest = [p for p in sorted(seen, key=lambda p: parts[p]) if parts[p] < 80]
    return {"mode": "reference", "reference": True, "body_parts": parts, "weakest": weakest}


def analysis_at(
    when: datetime,
    *,
    user=None,
    video=None,
    session=None,
    score: int | None = 80,
    status: str = Analysis.Status.COMPLETED,
    **fields,
) -> Analysis:
    """One analysis created at `when` (an aware datetime)."""
    user = user or (session.user if session else UserFactory())
    if session is None:
        session = PracticeSessionFactory(user=user, video=video or VideoFactory(), started_at=when)
    if status != Analysis.Status.COMPLETED and score == 80:
        score = None
    return AnalysisFactory(
        user=user,
        session=session,
        video=session.video,
        created_at=when,
        completed_at=when if status in Analysis.FINAL_STATUSES else None,
        status=status,
        score=score,
        **fields,
    )
