"""Form alone, for a video without a reference track: in the frame, balanced over the feet,
left and right alike, arms and legs extended.

Every figure here is the same for a pose and its mirror image (a mirrored webcam preview is the
norm) and none depends on which way is up in the image beyond the balance's gentle falloff, so a
camera tilted by a few degrees changes little. Landmarks count by body.visibility_weight, so a
joint at 0.49 and one at 0.51 count nearly the same; each part of the score counts by how much of
the body it rests on was seen, and advice only names what the model saw clearly.
"""

from __future__ import annotations

import math

import numpy as np

from ..base import AnalyzerResult
from . import body, feedback, phrases
from .features import DEGREES, FEATURES, JOINTS, PARTS, TORSO_FRAMES
from .matching import Dancer

FORM_WEIGHT = {"in_frame": 0.3, "balance": 0.25, "symmetry": 0.2, "extension": 0.25}
# What the camera could not see counts at half marks: neither praised nor blamed.
UNSEEN_SCORE = 0.5
# The body landmarks that should be in the frame, and each part's.
_IN_FRAME = [body.NOSE, *range(body.LEFT_SHOULDER, body.RIGHT_WRIST + 1), *range(body.LEFT_HIP, body.RIGHT_TOES + 1)]
_PART_LANDMARKS = {
    "left_arm": [body.LEFT_SHOULDER, body.LEFT_ELBOW, body.LEFT_WRIST],
    "right_arm": [body.RIGHT_SHOULDER, body.RIGHT_ELBOW, body.RIGHT_WRIST],
    "left_leg": [body.LEFT_HIP, body.LEFT_KNEE, body.LEFT_ANKLE, body.LEFT_HEEL, body.LEFT_TOES],
    "right_leg": [body.RIGHT_HIP, body.RIGHT_KNEE, body.RIGHT_ANKLE, body.RIGHT_HEEL, body.RIGHT_TOES],
    "torso": [body.LEFT_SHOULDER, body.RIGHT_SHOULDER, body.LEFT_HIP, body.RIGHT_HIP],
    "head": [body.NOSE],
}
_FEET = [body.LEFT_ANKLE, body.RIGHT_ANKLE, body.LEFT_HEEL, body.RIGHT_HEEL, body.LEFT_TOES, body.RIGHT_TOES]
# A landmark this far outside the frame (in frame widths) no longer counts as in it.
_OUTSIDE_FADE = 0.05
# Share of body mass at segment midpoints (Dempster-style, rounded): head, trunk, upper arms,
# forearms with hands, thighs, shanks with feet. (share, segment start landmarks, end landmarks)
_MASS = (
    (0.08, [body.NOSE], [body.NOSE]),
    (0.50, [body.LEFT_SHOULDER, body.RIGHT_SHOULDER], [body.LEFT_HIP, body.RIGHT_HIP]),
    (0.027, [body.LEFT_SHOULDER], [body.LEFT_ELBOW]), (0.027, [body.RIGHT_SHOULDER], [body.RIGHT_ELBOW]),
    (0.022, [body.LEFT_ELBOW], [body.LEFT_WRIST]), (0.022, [body.RIGHT_ELBOW], [body.RIGHT_WRIST]),
    (0.10, [body.LEFT_HIP], [body.LEFT_KNEE]), (0.10, [body.RIGHT_HIP], [body.RIGHT_KNEE]),
    (0.06, [body.LEFT_KNEE], [body.LEFT_ANKLE]), (0.06, [body.RIGHT_KNEE], [body.RIGHT_ANKLE]),
)  # fmt: skip
# The centre of mass may sit this far (in body lengths: mid-shoulder to mid-hip) beyond the feet
# before balance suffers, and balance halves about every half body length further out.
_BALANCE_MARGIN, _BALANCE_FALLOFF = 0.15, 0.5
# Symmetry: left and right joint angles this far apart score half.
_SYMMETRY_HALF = math.radians(45.0)
_SYMMETRY_PAIRS = {"arms": [("left_shoulder", "right_shoulder"), ("left_elbow", "right_elbow")]}
_SYMMETRY_PAIRS["legs"] = [("left_hip", "right_hip"), ("left_knee", "right_knee")]
# Extension: an elbow or knee bent to 90 degrees or more scores 0, opened to 160 or more scores 1.
_EXTENSION_FROM, _EXTENSION_FULL = math.radians(90.0), math.radians(160.0)
_EXTENDING = ("left_elbow", "right_elbow", "left_knee", "right_knee")
_INDEX = {name: k for k, name in enumerate(FEATURES)}


def _averaging(*groups: list[int]) -> np.ndarray:
    """Rows that average the given landmarks of a (33,) vector, one row per group."""
    rows = np.zeros((len(groups), 33))
    for row, landmarks in enumerate(groups):
        rows[row, landmarks] = 1.0 / len(landmarks)
    return rows


_IN_FRAME_SHARE = _averaging(_IN_FRAME)[0]
_PART_SHARES = _averaging(*_PART_LANDMARKS.values())
# Landmark x to the centre of mass's x in one product.
_MASS_SHARES = sum(share * (_averaging(a)[0] + _averaging(b)[0]) / 2 for share, a, b in _MASS)
_MASS_SHARES /= _MASS_SHARES.sum()


class _Body:
    """The dancer as is, for form: how much each landmark and joint counts, and the figures used."""

    def __init__(self, columns: np.ndarray, dancer: Dancer, threshold: float):
        x, y, visibility = columns[0], columns[1], columns[3]
        outside = np.maximum(np.maximum(-x, x - 1.0), np.maximum(-y, y - 1.0))
        inside = np.minimum(np.maximum(1.0 - outside * (1.0 / _OUTSIDE_FADE), 0.0), 1.0)
        self.counts = body.visibility_weight(visibility, threshold) * inside  # per landmark, 0..1
        self.feet = self.counts[_FEET].tolist()
        self.feet_x = x[_FEET].tolist()
        self.feet_clear = bool((body.clearly_seen(visibility[_FEET], threshold) & (outside[_FEET] <= 0.0)).any())
        self.mass_x = float(_MASS_SHARES @ x)
        hips, shoulders = dancer.frame_blend.tolist()
        # Joint angles blended over the torso frames, so none jumps when the hips fade from view.
        self.angles = (hips * dancer.features[0, 0] + shoulders * dancer.features[0, 1]).tolist()
        self.joint_weights = dancer.weights[0, 0].tolist()
        self.joint_visibility = dancer.visibility[0, 0].tolist()
        self.joint_clear = body.clearly_seen(dancer.visibility[0, 0], threshold).tolist()
        self.frame = TORSO_FRAMES[dancer.main_frame]
        xs, ys = x.tolist(), y.tolist()
        ls, rs, lh, rh = body.LEFT_SHOULDER, body.RIGHT_SHOULDER, body.LEFT_HIP, body.RIGHT_HIP
        torso = math.hypot((xs[lh] + xs[rh] - xs[ls] - xs[rs]) / 2, (ys[lh] + ys[rh] - ys[ls] - ys[rs]) / 2)
        shoulder_width = math.hypot(xs[ls] - xs[rs], ys[ls] - ys[rs])
        self.length = hips * torso + shoulders * 1.4 * shoulder_width  # mid-shoulder to mid-hip


def _in_frame(pose: _Body) -> tuple[float, float]:
    return float(_IN_FRAME_SHARE @ pose.counts), 1.0


def _balance(pose: _Body) -> tuple[float, float]:
    """(how well the centre of mass sits over the base of support, how much of the feet was seen).

    A foot point widens the base only as far as it was seen, so one fading from view narrows
    the base smoothly instead of at a threshold."""
    counts, feet = pose.feet, pose.feet_x
    if sum(counts) == 0.0 or pose.length <= 0.0:
        return UNSEEN_SCORE, 0.0
    centre = sum(c * x for c, x in zip(counts, feet, strict=True)) / sum(counts)
    base = [centre + c * (x - centre) for c, x in zip(counts, feet, strict=True)]
    margin = _BALANCE_MARGIN * pose.length
    off = max(0.0, min(base) - margin - pose.mass_x, pose.mass_x - max(base) - margin)
    return _shrunk([math.exp(-((off / (_BALANCE_FALLOFF * pose.length)) ** 2))], [max(counts)])


def _shrunk(values: list[float], weights: list[float]) -> tuple[float, float]:
    """(mean of the values, each pulled towards UNSEEN_SCORE as far as it was not seen; evidence:
    the mean weight). A joint fading from view slides to half marks instead of dropping out."""
    mixed = [w * v + (1.0 - w) * UNSEEN_SCORE for v, w in zip(values, weights, strict=True)]
    return float(sum(mixed) / len(mixed)), float(sum(weights) / len(weights))


def _symmetry(pose: _Body, group: tuple[str, ...] = ("arms", "legs")) -> tuple[float, float]:
    """(how alike left and right joint angles are, evidence): a pair counts by both sides' weights."""
    values, weights = [], []
    for name in group:
        for left, right in _SYMMETRY_PAIRS[name]:
            a, b = _INDEX[left], _INDEX[right]
            values.append(_pair_symmetry(pose, left, right))
            weights.append(pose.joint_weights[a] * pose.joint_weights[b])
    return _shrunk(values, weights)


def _pair_symmetry(pose: _Body, left: str, right: str) -> float:
    difference = abs(pose.angles[_INDEX[left]] - pose.angles[_INDEX[right]])
    return 1.0 / (1.0 + (difference / _SYMMETRY_HALF) ** 4)


def _extension(pose: _Body) -> tuple[float, float]:
    values = [_extended(pose, name) for name in _EXTENDING]
    return _shrunk(values, [pose.joint_weights[_INDEX[name]] for name in _EXTENDING])


def _extended(pose: _Body, joint: str) -> float:
    angle = pose.angles[_INDEX[joint]]
    return min(1.0, max(0.0, (angle - _EXTENSION_FROM) / (_EXTENSION_FULL - _EXTENSION_FROM)))


_COMPONENTS = {"in_frame": _in_frame, "balance": _balance, "symmetry": _symmetry, "extension": _extension}


def form_only(columns: np.ndarray, dancer: Dancer, threshold: float, lang: str, note: str | None) -> AnalyzerResult:
    """Score form alone (see the module's docstring)."""
    pose = _Body(columns, dancer, threshold)
    found = {name: measure(pose) for name, measure in _COMPONENTS.items()}
    percent = 100.0 * sum(FORM_WEIGHT[n] * value for n, (value, _) in found.items()) / sum(FORM_WEIGHT.values())
    parts = _part_scores(pose, found)
    lines = feedback.Lines()
    _improvements(pose, found, lines, lang)
    _good_points(found, parts, lines, lang)
    if lines.improvements:
        lines.advice, lines.advice_short = feedback.focus_advice(
            lang, lines.improvements[0], lines.improvements_short[0]
        )
    else:
        lines.advice, lines.advice_short = feedback.fill(phrases.ADVICE, "form_keep", lang)
    details = {
        "mode": "form_only",
        "reference": False,
        "score": round(percent, 2),
        "mirrored": False,
        "time_offset": None,
        "matched_time": None,
        "torso_frame": pose.frame,
        "components": {
            n: round(100.0 * value, 1) if evidence > 0.0 else None for n, (value, evidence) in found.items()
        },
        "body_parts": parts,
        "weakest": [
            p for p in sorted(PARTS, key=lambda p: (parts[p], PARTS.index(p))) if parts[p] < feedback.WEAK_PART
        ],
        "joints": {name: _joint_figures(pose, name) for name in JOINTS},
    }
    if note:
        details["note"] = note
    return lines.result(percent, details)


def _joint_figures(pose: _Body, name: str) -> dict:
    k = _INDEX[name]
    counted = pose.joint_weights[k] > 0.0
    return {
        "dancer": round(pose.angles[k] * DEGREES, 1) if counted else None,
        "reference": None,
        "difference": None,
        "score": None,
        "visibility": round(pose.joint_visibility[k], 2),
    }


_LIMB_JOINT = {"left_arm": "left_elbow", "right_arm": "right_elbow", "left_leg": "left_knee", "right_leg": "right_knee"}


def _part_scores(pose: _Body, found: dict) -> dict[str, float]:
    """Per part: how much of it is in the frame, with its joint's extension and, for the torso,
    the balance, each counting as far as it was seen."""
    balance, balance_evidence = found["balance"]
    scores = {}
    for part, in_frame in zip(_PART_LANDMARKS, (_PART_SHARES @ pose.counts).tolist(), strict=True):
        values, weights = [in_frame], [1.0]
        if part in _LIMB_JOINT:
            values.append(_extended(pose, _LIMB_JOINT[part]))
            weights.append(pose.joint_weights[_INDEX[_LIMB_JOINT[part]]])
        if part == "torso":
            values.append(balance)
            weights.append(balance_evidence)
        scores[part] = round(100.0 * sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights), 1)
    return scores


def _improvements(pose: _Body, found: dict, lines: feedback.Lines, lang: str) -> None:
    """The weak components by the points they cost, each with a fix about what was seen clearly."""
    fixes = []  # (points lost, improvement key, side)
    for name, (value, evidence) in found.items():
        if evidence > 0.0 and value < feedback.WEAK_PART / 100.0:
            fix = _fix(pose, name)
            if fix is not None:
                fixes.append((FORM_WEIGHT[name] * (1.0 - value), *fix))
    for _, key, side in sorted(fixes, key=lambda f: -f[0])[:3]:
        lines.add_improvement(feedback.fill(phrases.IMPROVEMENTS, key, lang, side=phrases.SIDES[lang].get(side, "")))


def _fix(pose: _Body, component: str) -> tuple[str, str | None] | None:
    """(improvement key, side) for a weak component, or None unless something seen clearly is weak."""
    weak = feedback.WEAK_PART / 100.0
    if component == "in_frame":
        return "frame_step_back", None
    if component == "balance":
        return ("balance", None) if pose.feet_clear else None
    if component == "symmetry":
        seen = {group: _clear_symmetry(pose, pairs) for group, pairs in _SYMMETRY_PAIRS.items()}
        seen = {group: value for group, value in seen.items() if value is not None}
        worst = min(seen, key=lambda group: seen[group], default=None)
        return (f"symmetry_{worst}", None) if worst is not None and seen[worst] < weak else None
    joints = [j for j in _EXTENDING if pose.joint_clear[_INDEX[j]]]
    joint = min(joints, key=lambda j: (_extended(pose, j), _INDEX[j]), default=None)
    if joint is None or _extended(pose, joint) >= weak:
        return None
    side, kind = joint.split("_")
    return f"{kind}_straighten", side


def _clear_symmetry(pose: _Body, pairs: list[tuple[str, str]]) -> float | None:
    """The mean symmetry of the pairs whose both sides were seen clearly, or None."""
    values = [
        _pair_symmetry(pose, a, b) for a, b in pairs if pose.joint_clear[_INDEX[a]] and pose.joint_clear[_INDEX[b]]
    ]
    return sum(values) / len(values) if values else None


_GOOD = {"in_frame": "in_frame", "balance": "balanced", "symmetry": "symmetric", "extension": "extended"}


def _good_points(found: dict, parts: dict, lines: feedback.Lines, lang: str) -> None:
    """Components that are good and rest on a body mostly seen; else the steadiest part."""
    for name, key in _GOOD.items():
        value, evidence = found[name]
        if evidence >= 0.5 and value >= feedback.GOOD_PART / 100.0 and len(lines.good) < 3:
            lines.add_good(feedback.fill(phrases.GOOD_POINTS, key, lang))
    if not lines.good:
        best = max(PARTS, key=lambda p: (parts[p], -PARTS.index(p)))
        lines.add_good(feedback.fill(phrases.GOOD_POINTS, "part_form", lang, part=phrases.PART_NAMES[lang][best]))
