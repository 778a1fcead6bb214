"""The dancer's body as MediaPipe Pose gives it: landmark names, the API's keypoints as arrays,
mirroring, and how much a landmark counts given how sure the model was that it saw it."""

from __future__ import annotations

import numpy as np

from ..base import LANDMARK_COUNT, PermanentAnalyzerError

# MediaPipe Pose landmark numbers of the body parts the analyzer reads ("left" is the dancer's own).
NOSE = 0
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
LEFT_HEEL, RIGHT_HEEL = 29, 30
LEFT_TOES, RIGHT_TOES = 31, 32

# Each left landmark swapped with its right twin, in MediaPipe order (its own inverse).
MIRROR_ORDER = np.array(
    [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23,
     26, 25, 28, 27, 30, 29, 32, 31]
)  # fmt: skip

# A landmark seen with this much less than the visibility threshold counts for nothing, this much
# more counts fully, and in between its weight rises smoothly (0.49 and 0.51 weigh nearly the same).
VISIBILITY_RAMP = 0.2

_VALUES = LANDMARK_COUNT * 4


def visibility_weight(visibility, threshold: float):
    """How much a landmark (or a feature) seen with `visibility` counts, 0..1: a smoothstep from
    threshold - VISIBILITY_RAMP to threshold + VISIBILITY_RAMP. Works on floats and arrays."""
    t = np.asarray(visibility, dtype=np.float64) - (threshold - VISIBILITY_RAMP)
    t *= 1.0 / (2 * VISIBILITY_RAMP)
    t = np.minimum(np.maximum(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def clearly_seen(visibility, threshold: float):
    """Whether a landmark (or feature) was seen well enough to be named in advice: at full weight."""
    return np.asarray(visibility) >= threshold + VISIBILITY_RAMP


def mirror_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """The pose seen in a mirror: left and right landmarks swapped and x flipped (x -> 1 - x)."""
    out = np.array(landmarks, dtype=np.float64)[..., MIRROR_ORDER, :]
    out[..., 0] = 1.0 - out[..., 0]
    return out


def landmark_columns(keypoints) -> np.ndarray:
    """The API's 33 {x, y, z?, visibility?} dicts (or a (33, 3|4) array) as C-contiguous (4, 33)
    columns x, y, z, visibility. A missing z is 0 and a missing visibility 1 (a client that sends
    none still gets scored). Raises PermanentAnalyzerError "keypoints_invalid"."""
    try:
        if isinstance(keypoints, np.ndarray):
            return _checked(_array_columns(keypoints))
        xs, ys = [k["x"] for k in keypoints], [k["y"] for k in keypoints]
        zs = [k.get("z") or 0.0 for k in keypoints]
        vs = [k.get("visibility", 1.0) for k in keypoints]
        try:
            flat = np.array(xs + ys + zs + vs, dtype=np.float64)
        except (TypeError, ValueError):
            flat = None
        # The common case in one conversion: plainly 33 landmarks of finite numbers.
        if flat is not None and flat.shape == (_VALUES,) and np.isfinite(flat).all():
            return flat.reshape(4, LANDMARK_COUNT)
        # numpy turns an explicit null visibility into NaN: treat it as absent.
        vs = [1.0 if (v := k.get("visibility")) is None else v for k in keypoints]
        return _checked(np.array([xs, ys, zs, vs], dtype=np.float64))
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise PermanentAnalyzerError("keypoints_invalid", "keypoints must be 33 {x, y, z?, visibility?}") from exc


def _array_columns(keypoints: np.ndarray) -> np.ndarray:
    columns = np.array(keypoints, dtype=np.float64).T
    if columns.ndim == 2 and columns.shape[0] == 3:
        columns = np.vstack((columns, np.ones(columns.shape[1])))
    return columns


def _checked(columns: np.ndarray) -> np.ndarray:
    if columns.shape != (4, LANDMARK_COUNT) or not np.isfinite(columns).all():
        raise PermanentAnalyzerError("keypoints_invalid", "keypoints must be 33 landmarks of finite numbers")
    return np.ascontiguousarray(columns)
