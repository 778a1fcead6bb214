"""How close the dancer's pose is to the instructor's: feature errors, body-part errors, one score.

1. feature error = |angle difference| / the feature's tolerance, capped at ERROR_CAP;
2. body-part error (left/right arm and leg, torso, head) = weighted mean of its feature errors,
   capped at PART_CAP (a part that far off is simply wrong); a feature's weight is its share of
   its part times how clearly the dancer and the instructor were both seen (body.visibility_weight);
3. pose error = weighted root mean square of the part errors, so an error held in one limb
   counts for more than the same amount spread over the body as landmark jitter;
4. score = 100 / (1 + (pose error / HALF_SCORE_ERROR) ** STEEPNESS): flat while errors look like
   jitter, steep where they look like another pose. Body-part scores use the same curve.
The dancer is compared, as is and mirrored, with every reference frame within the window in one
compiled pass (kernels.window_search); the frame with the least pose error wins.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from . import body, kernels
from .features import DIRECTION, FEATURE_COUNT, FEATURE_PART, FEATURES, HIPS, PARTS, TABLE, TORSO_FEATURE

PROVIDER = "pose"
# Part of the result-cache key: bump it whenever a score or a piece of feedback can change.
POSE_MODEL_VERSION = "pose-v2"

# Error scale of each feature in degrees, about three times its jitter under 2% landmark noise.
# An elbow or knee angle adds two segments' errors, hence sqrt(2); the spine is long and steady,
# so its lean is held tighter.
TOLERANCE_DEGREES = {"segment": 35.0, "head": 30.0, "torso": 20.0, "shoulder": 35.0, "elbow": 35.0 * math.sqrt(2)}
# Within a part: segment directions carry most, the elbow/knee bend next, the shoulder/hip angle
# least (it mostly repeats the upper segment's direction).
WEIGHT_IN_PART = {"segment": 0.3, "head": 1.0, "torso": 1.0, "shoulder": 0.15, "elbow": 0.25}
PART_WEIGHT = {"left_arm": 1.0, "right_arm": 1.0, "left_leg": 1.0, "right_leg": 1.0, "torso": 0.5, "head": 0.25}
ERROR_CAP = 2.5  # feature errors, in tolerances: one wild landmark cannot sink the pose
PART_CAP = 1.0  # part errors: beyond one tolerance a part is simply wrong
HALF_SCORE_ERROR = 0.52  # the pose error that scores 50
STEEPNESS = 6.0
# Tie-breaks, in squared pose-error units (far below any real difference): prefer the frame
# nearest the timestamp (per second away), then the unmirrored comparison.
TIE_PER_SECOND = 1e-4
TIE_MIRRORED = 5e-5


def _kind(feature: str) -> str:
    """The tolerance and weight class of a feature: hips count as shoulders, knees as elbows."""
    if feature in ("head", "torso"):
        return feature
    if feature.endswith(("shoulder", "hip")):
        return "shoulder"
    if feature.endswith(("elbow", "knee")):
        return "elbow"
    return "segment"


class Scoring(NamedTuple):
    """The scoring constants as arrays, the form the compiled kernels take them in."""

    share: np.ndarray  # (K,) each feature's share of the pose: its part's weight shared out
    inverse_tolerance: np.ndarray  # (K,) 1 / tolerance in radians
    part_of: np.ndarray  # (K,) body part index
    signed: np.ndarray  # (K,) True for directions (flipped for a reference facing the other way)
    part_weight: np.ndarray  # (parts,)
    part_order: np.ndarray  # (K,) features ordered by body part...
    part_start: np.ndarray  # (parts + 1,) ...part p's are part_order[part_start[p]:part_start[p + 1]]
    error_cap: float
    part_cap: float
    mirror_tie: float


def _scoring() -> Scoring:
    within = np.array([WEIGHT_IN_PART[_kind(f)] for f in FEATURES])
    part_total = np.bincount(FEATURE_PART, weights=within, minlength=len(PARTS))
    part_weight = np.array([PART_WEIGHT[p] for p in PARTS])
    return Scoring(
        share=part_weight[FEATURE_PART] * within / part_total[FEATURE_PART],
        inverse_tolerance=1.0 / np.radians([TOLERANCE_DEGREES[_kind(f)] for f in FEATURES]),
        part_of=FEATURE_PART,
        signed=TABLE.reading == DIRECTION,
        part_weight=part_weight,
        part_order=np.argsort(FEATURE_PART, kind="stable"),
        part_start=np.searchsorted(np.sort(FEATURE_PART), np.arange(len(PARTS) + 1)),
        error_cap=ERROR_CAP,
        part_cap=PART_CAP,
        mirror_tie=TIE_MIRRORED,
    )


SCORING = _scoring()


def score_of(error):
    """Pose (or part) error, in tolerances, to a 0..1 score."""
    return 1.0 / (1.0 + (error / HALF_SCORE_ERROR) ** STEEPNESS)


class Dancer(NamedTuple):
    """The dancer's pose as the kernels compare it."""

    features: np.ndarray  # (2 mirrorings, 2 torso frames, K) radians
    weights: np.ndarray  # (2, 2, K) how much each feature counts, 0..1
    visibility: np.ndarray  # (2, 2, K) each feature's least landmark visibility
    facing: np.ndarray  # (2 torso frames,) +1 towards the camera, -1 away
    frame_blend: np.ndarray  # (2,) weight of the hips and the shoulders torso frame, summing to 1
    mirrors: int  # 2: compare as is and mirrored; 1: as is only

    @property
    def main_frame(self) -> int:
        return 0 if self.frame_blend[0] >= self.frame_blend[1] else 1


class Track(NamedTuple):
    """A reference track's features, prepared once per track and visibility threshold."""

    features: np.ndarray  # (2 torso frames, n, K)
    weights: np.ndarray  # (2, n, K)
    facing: np.ndarray  # (2, n)
    usable: np.ndarray  # (2, n) 1.0 where the frame's torso is seen in that torso frame, else 0.0
    tie: np.ndarray  # (n,) TIE_PER_SECOND * the frame's time


def dancer_of(columns: np.ndarray, threshold: float, allow_mirror: bool) -> Dancer:
    """The dancer from landmark columns (4, 33), by the compiled kernel."""
    features, visibility, weights, facing = kernels.dancer_features(columns, TABLE, threshold, body.VISIBILITY_RAMP)
    hips = float(weights[0, HIPS, TORSO_FEATURE])
    return Dancer(
        features=features,
        weights=weights,
        visibility=visibility,
        facing=facing,
        frame_blend=np.array([hips, 1.0 - hips]),
        mirrors=2 if allow_mirror else 1,
    )


class Found(NamedTuple):
    """The best pair in a window and its compared figures (see kernels.pair_details)."""

    mirrored: int
    frame: int
    pose_error: float
    errors: np.ndarray
    weights: np.ndarray
    reference: np.ndarray
    part_errors: np.ndarray
    part_weights: np.ndarray


def search(dancer: Dancer, track: Track, lo: int, hi: int, timestamp: float) -> Found | None:
    """The best (mirroring, reference frame) pair within frames [lo, hi), or None."""
    best, error2, *compared = kernels.best_match(dancer, track, lo, hi, timestamp * TIE_PER_SECOND, SCORING)
    if best < 0:
        return None
    mirrored, offset = divmod(best, hi - lo)
    return Found(mirrored, lo + offset, math.sqrt(error2), *compared)


def warm_up() -> None:
    """Every kernel called once with the argument types the analyzer passes (compiles them)."""
    columns = np.ones((4, 33))
    dancer = dancer_of(columns, 0.5, True)
    frames = np.zeros((2, 1, FEATURE_COUNT))
    track = Track(frames, frames.copy(), np.ones((2, 1)), np.ones((2, 1)), np.zeros(1))
    search(dancer, track, 0, 1, 0.0)
    ones = np.ones(FEATURE_COUNT)
    kernels.figures(ones, ones, ones, ones, ones, 1.0, 1.0, STEEPNESS)


def _started() -> tuple[float, bool]:
    start = time.perf_counter()
    warm_up()
    return time.perf_counter() - start, kernels.loaded_from_cache()


# Compiled (or loaded from numba's cache) at import, so no request pays for it.
STARTUP_SECONDS, STARTUP_FROM_CACHE = _started()
