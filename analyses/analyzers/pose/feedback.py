"""What the dancer reads after a match against the reference: good points, improvements, one piece
of advice, and the details (per body part, per joint and segment) in the dancer's own terms.

Left and right are the dancer's own. When the mirrored comparison wins, the dancer is mirroring
the instructor (their right arm copies the instructor's left): details["mirrored"] says so and
limbs are still named from the dancer's side. Advice only ever names a joint the model saw
clearly (body.clearly_seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..base import AnalyzerResult
from . import body, kernels, phrases
from .features import DEGREES, FEATURES, PARTS, wrap
from .matching import HALF_SCORE_ERROR, POSE_MODEL_VERSION, PROVIDER, STEEPNESS, score_of

GOOD_PART = 85.0  # a part at or above this is a good point
WEAK_PART = 80.0  # a part below this is an improvement and listed in details["weakest"]
TIMING_ADVICE_S = 0.25  # |offset| from which timing becomes the advice
TIMING_GOOD_S = 0.1
# Per part, the features an improvement may name, most telling first: the upper segment, the
# elbow or knee bend, the lower segment, the shoulder or hip.
_PART_FEATURES = {"torso": ("torso",), "head": ("head",)}
for _side in ("left", "right"):
    _PART_FEATURES[f"{_side}_arm"] = (f"{_side}_upper_arm", f"{_side}_elbow", f"{_side}_forearm", f"{_side}_shoulder")
    _PART_FEATURES[f"{_side}_leg"] = (f"{_side}_thigh", f"{_side}_knee", f"{_side}_shin", f"{_side}_hip")
# An improvement names the first of those whose error is at least this share of the part's worst.
_CLOSE_TO_WORST = 0.6
# Segments' improvement words: raise/lower, or open/close when the limb crosses the midline.
_SEGMENT_WORD = {"upper_arm": "arm", "forearm": "hand", "thigh": "leg", "shin": "foot"}
_CROSSING = {"arm": ("arm_open", "arm_close"), "hand": ("hand_out", "hand_in")}
_CROSSING |= {"leg": ("leg_open", "leg_close"), "foot": ("foot_out", "foot_in")}


def swap_side(name: str) -> str:
    if name.startswith("left"):
        return "right" + name[4:]
    if name.startswith("right"):
        return "left" + name[5:]
    return name


def side_of(name: str) -> str | None:
    return name.split("_", 1)[0] if name.startswith(("left", "right")) else None


@dataclass
class Match:
    """The winning comparison: per-feature arrays (K) and per-part arrays, in radians and tolerances."""

    mirrored: bool
    facing: float  # +1: the dancer faces the camera
    reference_facing: float
    dancer: np.ndarray  # the dancer's features as compared
    reference: np.ndarray  # the reference's features as compared
    errors: np.ndarray
    weights: np.ndarray  # > 0 where a feature was compared
    visibility: np.ndarray  # the dancer's feature visibility
    part_errors: np.ndarray
    part_weights: np.ndarray
    pose_error: float

    def own(self, name: str) -> str:
        """A compared feature's or part's name on the dancer's own side."""
        return swap_side(name) if self.mirrored else name


def fill(table: dict, key: str, lang: str, **values) -> tuple[str, str]:
    long, short = table[key][lang]
    return long.format(**values), short.format(**values)


def focus_advice(lang: str, fix_long: str, fix_short: str) -> tuple[str, str]:
    long, short = phrases.ADVICE["focus"][lang]
    if lang == "en":
        fix_long = fix_long[0].lower() + fix_long[1:]
    return long.format(fix=fix_long), short.format(fix=fix_short)


class Lines:
    """Good points, improvements and advice, each kept in its long and short form."""

    def __init__(self):
        self.good, self.good_short = [], []
        self.improvements, self.improvements_short = [], []
        self.advice, self.advice_short = "", ""

    def add_good(self, pair: tuple[str, str]) -> None:
        self.good.append(pair[0])
        self.good_short.append(pair[1])

    def add_improvement(self, pair: tuple[str, str]) -> None:
        if pair[0] not in self.improvements:
            self.improvements.append(pair[0])
            self.improvements_short.append(pair[1])

    def result(self, percent: float, details: dict) -> AnalyzerResult:
        return AnalyzerResult(
            score=int(min(100, max(0, round(percent)))),
            good_points=self.good,
            improvements=self.improvements,
            advice=self.advice,
            short={
                "good_points": self.good_short,
                "improvements": self.improvements_short,
                "advice": self.advice_short,
            },
            details=details,
            provider=PROVIDER,
            model=POSE_MODEL_VERSION,
        )


def improvement_key(feature: str, dancer: float, reference: float, facing: float) -> tuple[str, str | None]:
    """(improvement key, side or None) that moves `feature` from the dancer's angle towards the
    reference's (radians), for a dancer facing the camera (+1) or away (-1)."""
    side = side_of(feature)
    kind = feature.split("_", 1)[1] if side else feature
    word = _SEGMENT_WORD.get(kind)
    if word:
        # Angle from hanging down, positive away from the body's midline, +-pi overhead.
        away = facing if side == "left" else -facing
        mine, theirs = float(wrap(dancer * away)), float(wrap(reference * away))
        crossing = (mine > 0) != (theirs > 0)
        if (
            crossing
            and min(abs(mine), abs(theirs)) > math.radians(15.0)
            and max(abs(mine), abs(theirs)) < math.radians(165.0)
        ):
            return _CROSSING[word][0 if theirs > 0 else 1], side
        return f"{word}_{'raise' if abs(theirs) > abs(mine) else 'lower'}", side
    if kind == "shoulder":
        return ("arm_raise" if reference > dancer else "arm_lower"), side
    if kind == "hip":
        return ("leg_raise" if reference < dancer else "leg_lower"), side
    if kind in ("elbow", "knee"):
        return (f"{kind}_straighten" if reference > dancer else f"{kind}_bend"), side
    # Torso lean and head tilt towards the dancer's own left.
    mine, theirs = -dancer * facing, -reference * facing
    upright, lean = ("torso_upright", "torso_lean") if kind == "torso" else ("head_straight", "head_tilt")
    if abs(theirs) < math.radians(5.0):
        return upright, None
    return lean, ("left" if theirs > mine else "right")


def _figure_signs(facing_camera: bool, mirrored: bool) -> np.ndarray:
    """Signs that turn compared angles into the dancer's terms: limb segments positive away from the
    midline, head tilt and torso lean positive towards the dancer's own left, joints as they are."""
    signs = np.ones(len(FEATURES))
    for k, name in enumerate(FEATURES[:8]):
        signs[k] = (1.0 if side_of(name) == "left" else -1.0) * (1.0 if facing_camera else -1.0)
    signs[FEATURES.index("head")] = signs[FEATURES.index("torso")] = 1.0 if facing_camera == mirrored else -1.0
    return signs


_SIGNS = {(facing, mirrored): _figure_signs(facing, mirrored) for facing in (True, False) for mirrored in (True, False)}
# Feature and part names on the dancer's own side, for an unmirrored and a mirrored match.
OWN_FEATURES = {False: FEATURES, True: tuple(swap_side(f) for f in FEATURES)}
OWN_PARTS = {False: PARTS, True: tuple(swap_side(p) for p in PARTS)}
_FIGURES = ("dancer", "reference", "difference", "score", "visibility")


def figures(match: Match) -> tuple[dict, dict]:
    """(segments, joints): per feature {dancer, reference, difference, score, visibility}.

    Arm and leg segments: degrees from hanging down, positive away from the midline (90 = out to
    the side, 180 = overhead). Torso and head: lean or tilt towards the dancer's own left. Joints:
    interior angle, 180 = straight. Difference = dancer - reference. None where not compared.
    """
    signs = _SIGNS[match.facing > 0, match.mirrored]
    table = kernels.figures(
        match.dancer, match.reference, match.errors, match.visibility, signs, DEGREES, 1.0 / HALF_SCORE_ERROR, STEEPNESS
    )
    rows = [
        dict(zip(_FIGURES, column, strict=True))
        if compared
        else dict.fromkeys(_FIGURES[:4]) | {"visibility": column[4]}
        for compared, column in zip((match.weights > 0.0).tolist(), table.T.tolist(), strict=True)
    ]
    names = OWN_FEATURES[match.mirrored]
    return dict(zip(names[:10], rows[:10], strict=True)), dict(zip(names[10:], rows[10:], strict=True))


def part_scores(match: Match) -> tuple[list[int], list[float]]:
    """(parts compared, each part's score 0..100)."""
    seen = np.flatnonzero(match.part_weights > 0.0).tolist()
    return seen, (100.0 * score_of(match.part_errors)).tolist()


def improvements(match: Match, weak: list[int], lines: Lines, lang: str, threshold: float) -> None:
    """Weak parts by their share of the pose error, each with the fix of its most telling feature
    among those the dancer showed clearly."""
    index = {name: k for k, name in enumerate(FEATURES)}
    errors, weights = match.errors.tolist(), match.part_weights.tolist()
    clear = (body.clearly_seen(match.visibility, threshold) & (match.weights > 0.0)).tolist()
    for p in sorted(weak, key=lambda p: (-weights[p] * match.part_errors[p] ** 2, p)):
        candidates = [index[f] for f in _PART_FEATURES[PARTS[p]] if clear[index[f]]]
        if not candidates:
            continue
        worst = max(errors[k] for k in candidates)
        k = next(k for k in candidates if errors[k] >= _CLOSE_TO_WORST * worst)
        key, side = improvement_key(FEATURES[k], float(match.dancer[k]), float(match.reference[k]), match.facing)
        side_word = phrases.SIDES[lang][match.own(side)] if side else ""
        lines.add_improvement(fill(phrases.IMPROVEMENTS, key, lang, side=side_word))
        if len(lines.improvements) == 3:
            return
