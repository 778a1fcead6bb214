"""analyze(): the dancer's keypoints in, a scored AnalyzerResult out, against the reference around
the timestamp or, without one, on form alone."""

from __future__ import annotations

from ..base import AnalyzerInput, AnalyzerResult, PermanentAnalyzerError
from . import body, feedback, form, matching, phrases
from .features import PARTS, SHOULDERS, TORSO_FEATURE, TORSO_FRAMES, UPPER_LIMBS
from .matching import Dancer, Track
from .reference import PoseReference, resolve_reference

MIN_LIMBS = 2  # arms and legs with a visible upper segment needed to score at all


def analyze(
    inp: AnalyzerInput,
    *,
    tolerance: float = 1.0,
    visibility_threshold: float = 0.5,
    allow_mirror: bool = True,
    pose_reference: PoseReference | None = None,
) -> AnalyzerResult:
    """Score the dancer's keypoints against the reference around inp.timestamp (or form alone).

    `pose_reference` overrides inp.reference: build one per track to compute its features once.
    Raises PermanentAnalyzerError "keypoints_required", "keypoints_invalid", "pose_not_visible"
    or "reference_invalid".
    """
    if inp.keypoints is None:
        raise PermanentAnalyzerError("keypoints_required", "the pose analyzer needs the dancer's 33 pose landmarks")
    columns = body.landmark_columns(inp.keypoints)
    threshold = float(visibility_threshold)
    lang = "en" if str(inp.language or "").lower().startswith("en") else "ja"
    dancer = matching.dancer_of(columns, threshold, allow_mirror)
    _require_visible(dancer, threshold)

    reference, first, end = resolve_reference(pose_reference if pose_reference is not None else inp.reference)
    if reference is None or len(reference) == 0:
        return form.form_only(columns, dancer, threshold, lang, note=None)
    lo, hi = reference.window(inp.timestamp, tolerance)
    lo, hi = max(lo, first), min(hi, end)  # within the frames the caller gave
    if lo >= hi:
        return form.form_only(columns, dancer, threshold, lang, note="no_reference_frames_in_window")
    track = reference.track(threshold)
    found = matching.search(dancer, track, lo, hi, float(inp.timestamp))
    if found is None:
        return form.form_only(columns, dancer, threshold, lang, note="no_visible_reference_frames")
    frame = found.frame
    timing = {
        "time_offset": float(inp.timestamp) - float(reference.times[frame]) if reference.timed else None,
        "matched_time": float(reference.times[frame]) if reference.timed else None,
        "timestamp": float(inp.timestamp),
        "tolerance": float(tolerance),
        "frames_compared": hi - lo,
    }
    return _reference_result(_match(dancer, track, found), dancer, timing, lang, threshold)


def _require_visible(dancer: Dancer, threshold: float) -> None:
    """The gates before any score: both shoulders seen, and enough arms and legs."""
    shoulders = dancer.visibility[0, SHOULDERS, TORSO_FEATURE]  # the shoulders frame rests on them alone
    if shoulders < threshold:
        raise PermanentAnalyzerError("pose_not_visible", "both shoulders must be visible to score the pose")
    seen = int((dancer.visibility[0, 0, UPPER_LIMBS] >= threshold).sum())
    if seen < MIN_LIMBS:
        raise PermanentAnalyzerError(
            "pose_not_visible", f"only {seen} of 4 arms and legs are visible; at least {MIN_LIMBS} are needed"
        )


def _match(dancer: Dancer, track: Track, found: matching.Found) -> feedback.Match:
    main = dancer.main_frame
    return feedback.Match(
        mirrored=found.mirrored == 1,
        facing=float(dancer.facing[main]),
        reference_facing=float(track.facing[main, found.frame]),
        dancer=dancer.features[found.mirrored, main],
        reference=found.reference,
        errors=found.errors,
        weights=found.weights,
        visibility=dancer.visibility[found.mirrored, main],
        part_errors=found.part_errors,
        part_weights=found.part_weights,
        pose_error=found.pose_error,
    )


def _reference_result(match: feedback.Match, dancer: Dancer, timing: dict, lang: str, threshold: float):
    percent = 100.0 * matching.score_of(match.pose_error)
    seen, part_percent = feedback.part_scores(match)
    weak = [p for p in seen if part_percent[p] < feedback.WEAK_PART]
    lines = feedback.Lines()
    feedback.improvements(match, weak, lines, lang, threshold)
    _good_points(match, seen, part_percent, percent, timing["time_offset"], lines, lang)
    _advice(percent, timing["time_offset"], lines, lang)
    segments, joints = feedback.figures(match)
    offset, matched = timing["time_offset"], timing["matched_time"]
    own_parts = feedback.OWN_PARTS[match.mirrored]
    details = {
        "mode": "reference",
        "reference": True,
        "score": round(percent, 2),
        "pose_error": round(match.pose_error, 4),
        "mirrored": match.mirrored,
        "time_offset": None if offset is None else round(offset, 3),
        "matched_time": None if matched is None else round(matched, 3),
        "timestamp": round(timing["timestamp"], 3),
        "tolerance": timing["tolerance"],
        "frames_compared": timing["frames_compared"],
        "torso_frame": TORSO_FRAMES[dancer.main_frame],
        "facing": "camera" if match.facing > 0 else "away",
        "reference_facing": "camera" if match.reference_facing > 0 else "away",
        "body_parts": dict(
            zip(own_parts, [round(x, 1) if p in seen else None for p, x in enumerate(part_percent)], strict=True)
        ),
        "weakest": [own_parts[p] for p in sorted(weak, key=lambda p: (part_percent[p], p))],
        "joints": joints,
        "segments": segments,
    }
    return lines.result(percent, details)


def _good_points(match, seen, part_percent, percent, offset, lines: feedback.Lines, lang: str) -> None:
    """Up to three parts that match well, then the timing; at least the closest part."""
    names = phrases.PART_NAMES[lang]
    for p in sorted(seen, key=lambda p: (-part_percent[p], p)):
        if part_percent[p] >= feedback.GOOD_PART and len(lines.good) < 3:
            lines.add_good(feedback.fill(phrases.GOOD_POINTS, "part_match", lang, part=names[match.own(PARTS[p])]))
    if offset is not None and abs(offset) <= feedback.TIMING_GOOD_S and percent >= 70.0 and len(lines.good) < 3:
        lines.add_good(feedback.fill(phrases.GOOD_POINTS, "timing", lang))
    if not lines.good and seen:
        closest = min(seen, key=lambda p: (match.part_errors[p], p))
        lines.add_good(feedback.fill(phrases.GOOD_POINTS, "part_closest", lang, part=names[match.own(PARTS[closest])]))


def _advice(percent: float, offset: float | None, lines: feedback.Lines, lang: str) -> None:
    """Timing first when the pose is right but early or late, else the first improvement."""
    if offset is not None and abs(offset) >= feedback.TIMING_ADVICE_S and percent >= 60.0:
        key = "late" if offset > 0 else "early"
        lines.advice, lines.advice_short = feedback.fill(phrases.ADVICE, key, lang, sec=f"{abs(offset):.1f}")
    elif lines.improvements:
        lines.advice, lines.advice_short = feedback.focus_advice(
            lang, lines.improvements[0], lines.improvements_short[0]
        )
    else:
        lines.advice, lines.advice_short = feedback.fill(phrases.ADVICE, "keep_going", lang)
