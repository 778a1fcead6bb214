"""What the analyzer measures of a pose: 18 angles in the dancer's torso frame.

Body size, distance to the camera and place in the frame do not matter: every feature is an
angle. Limb segments (upper arms, forearms, thighs, shins) and the head are directions relative
to the spine; the torso's is its lean against the image vertical; shoulders, elbows, hips and
knees are the joints' interior angles. Only x and y are used: MediaPipe's z is too noisy to help.

The spine runs from mid-shoulder to mid-hip ("hips" torso frame) or, when the hips are out of
sight, square to the shoulder line ("shoulders" torso frame; the dancer is then taken to face the
camera). This module is the plain numpy statement of the features; kernels.py computes the
dancer's with numba, and the tests hold the two to the same numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..base import LANDMARK_COUNT
from . import body

PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")

# Torso frames, in the order the kernels index them.
HIPS, SHOULDERS = 0, 1
TORSO_FRAMES = ("hips", "shoulders")

# Vectors between landmarks whose directions the features compare: (name, {landmark: coefficient}).
_VECTORS = (
    ("left_upper_arm", {body.LEFT_SHOULDER: -1.0, body.LEFT_ELBOW: 1.0}),
    ("left_forearm", {body.LEFT_ELBOW: -1.0, body.LEFT_WRIST: 1.0}),
    ("right_upper_arm", {body.RIGHT_SHOULDER: -1.0, body.RIGHT_ELBOW: 1.0}),
    ("right_forearm", {body.RIGHT_ELBOW: -1.0, body.RIGHT_WRIST: 1.0}),
    ("left_thigh", {body.LEFT_HIP: -1.0, body.LEFT_KNEE: 1.0}),
    ("left_shin", {body.LEFT_KNEE: -1.0, body.LEFT_ANKLE: 1.0}),
    ("right_thigh", {body.RIGHT_HIP: -1.0, body.RIGHT_KNEE: 1.0}),
    ("right_shin", {body.RIGHT_KNEE: -1.0, body.RIGHT_ANKLE: 1.0}),
    ("neck", {body.NOSE: -1.0, body.LEFT_SHOULDER: 0.5, body.RIGHT_SHOULDER: 0.5}),  # along the spine when upright
    ("shoulder_line", {body.RIGHT_SHOULDER: -1.0, body.LEFT_SHOULDER: 1.0}),
    ("spine", {body.LEFT_SHOULDER: -0.5, body.RIGHT_SHOULDER: -0.5, body.LEFT_HIP: 0.5, body.RIGHT_HIP: 0.5}),
)
VECTOR_NAMES = tuple(name for name, _ in _VECTORS)
SPINE, SHOULDER_LINE = VECTOR_NAMES.index("spine"), VECTOR_NAMES.index("shoulder_line")

# Facing away needs the shoulder line clearly reversed in the torso frame (sine below -0.25);
# side-on poses count as facing the camera.
FACING_AWAY_BELOW = -0.25
DEGREES = 180.0 / math.pi

# How a feature is read from the angle d between two vectors, wrapped to [-pi, pi):
DIRECTION = 0  # d itself, signed
OPENING = 1  # |d|: 0 along the body (a shoulder with the arm hanging down)
BEND = 2  # pi - |d|: pi straight (elbow, knee, and a hip with the leg straight down)

_LS, _RS, _LE, _RE = body.LEFT_SHOULDER, body.RIGHT_SHOULDER, body.LEFT_ELBOW, body.RIGHT_ELBOW
_LW, _RW, _LH, _RH = body.LEFT_WRIST, body.RIGHT_WRIST, body.LEFT_HIP, body.RIGHT_HIP
_LK, _RK, _LA, _RA = body.LEFT_KNEE, body.RIGHT_KNEE, body.LEFT_ANKLE, body.RIGHT_ANKLE
# One row per feature: its vector, the vector it is measured from (None: image-down), how it is
# read, its body part, and the landmarks it rests on (the least visible of them is its visibility;
# the torso's in the hips frame also rests on the hips).
_DEFINITIONS = (
    ("left_upper_arm", "left_upper_arm", "spine", DIRECTION, "left_arm", (_LS, _LE)),
    ("left_forearm", "left_forearm", "spine", DIRECTION, "left_arm", (_LE, _LW)),
    ("right_upper_arm", "right_upper_arm", "spine", DIRECTION, "right_arm", (_RS, _RE)),
    ("right_forearm", "right_forearm", "spine", DIRECTION, "right_arm", (_RE, _RW)),
    ("left_thigh", "left_thigh", "spine", DIRECTION, "left_leg", (_LH, _LK)),
    ("left_shin", "left_shin", "spine", DIRECTION, "left_leg", (_LK, _LA)),
    ("right_thigh", "right_thigh", "spine", DIRECTION, "right_leg", (_RH, _RK)),
    ("right_shin", "right_shin", "spine", DIRECTION, "right_leg", (_RK, _RA)),
    ("head", "neck", "spine", DIRECTION, "head", (body.NOSE, _LS, _RS)),
    ("torso", "spine", None, DIRECTION, "torso", (_LS, _RS)),
    ("left_shoulder", "left_upper_arm", "spine", OPENING, "left_arm", (_LS, _LE)),
    ("left_elbow", "left_forearm", "left_upper_arm", BEND, "left_arm", (_LS, _LE, _LW)),
    ("right_shoulder", "right_upper_arm", "spine", OPENING, "right_arm", (_RS, _RE)),
    ("right_elbow", "right_forearm", "right_upper_arm", BEND, "right_arm", (_RS, _RE, _RW)),
    ("left_hip", "left_thigh", "spine", BEND, "left_leg", (_LH, _LK)),
    ("left_knee", "left_shin", "left_thigh", BEND, "left_leg", (_LH, _LK, _LA)),
    ("right_hip", "right_thigh", "spine", BEND, "right_leg", (_RH, _RK)),
    ("right_knee", "right_shin", "right_thigh", BEND, "right_leg", (_RH, _RK, _RA)),
)
FEATURES = tuple(row[0] for row in _DEFINITIONS)
SEGMENTS, JOINTS = FEATURES[:10], FEATURES[10:]
FEATURE_COUNT = len(FEATURES)
TORSO_FEATURE = FEATURES.index("torso")
UPPER_LIMBS = [FEATURES.index(n) for n in ("left_upper_arm", "right_upper_arm", "left_thigh", "right_thigh")]
FEATURE_PART = np.array([PARTS.index(row[4]) for row in _DEFINITIONS])
# The spine rests on both shoulders and both hips, or in the shoulders frame on the shoulders alone.
_FRAME_LANDMARKS = ((_LS, _RS, _LH, _RH), (_LS, _RS, _LS, _RS))


class FeatureTable(NamedTuple):
    """The feature definitions as arrays, the form the compiled kernels take them in."""

    vector_matrix: np.ndarray  # (vectors, 33): landmark x (or y) to vector x (or y), one product
    angle_of: np.ndarray  # (K,) vector whose angle is measured
    angle_from: np.ndarray  # (K,) vector it is measured from, -1 for image-down
    reading: np.ndarray  # (K,) DIRECTION, OPENING or BEND
    landmarks: np.ndarray  # (2 mirrorings, K, 4) landmarks each feature rests on, padded by repetition
    frame_landmarks: np.ndarray  # (2 torso frames, 4) landmarks the spine rests on
    mirror_order: np.ndarray  # (33,) body.MIRROR_ORDER
    spine: int
    shoulder_line: int
    torso_feature: int
    facing_away_below: float


def _feature_table() -> FeatureTable:
    matrix = np.zeros((len(_VECTORS), LANDMARK_COUNT))
    for row, (_, coefficients) in enumerate(_VECTORS):
        matrix[row, list(coefficients)] = list(coefficients.values())
    vector = {name: i for i, name in enumerate(VECTOR_NAMES)}
    landmarks = np.array([[*lms, *[lms[-1]] * (4 - len(lms))] for *_, lms in _DEFINITIONS])
    return FeatureTable(
        vector_matrix=matrix,
        angle_of=np.array([vector[row[1]] for row in _DEFINITIONS]),
        angle_from=np.array([-1 if row[2] is None else vector[row[2]] for row in _DEFINITIONS]),
        reading=np.array([row[3] for row in _DEFINITIONS]),
        landmarks=np.stack((landmarks, body.MIRROR_ORDER[landmarks])),
        frame_landmarks=np.array(_FRAME_LANDMARKS),
        mirror_order=body.MIRROR_ORDER,
        spine=SPINE,
        shoulder_line=SHOULDER_LINE,
        torso_feature=TORSO_FEATURE,
        facing_away_below=FACING_AWAY_BELOW,
    )


TABLE = _feature_table()


def wrap(angle):
    """Angles to [-pi, pi)."""
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def vector_angles(points: np.ndarray, torso_frame: int) -> np.ndarray:
    """Directions (..., vectors) of poses (..., 33, 4), radians from image-down, positive towards +x."""
    vectors = TABLE.vector_matrix @ points[..., :2]
    angles = np.arctan2(vectors[..., 0], vectors[..., 1])
    if torso_frame == SHOULDERS:
        # The shoulder line turned a quarter towards image-down: the spine of someone facing us.
        line = vectors[..., SHOULDER_LINE, :]
        angles[..., SPINE] = np.arctan2(-line[..., 1], line[..., 0])
    return angles


def pose_features(points: np.ndarray, torso_frame: int):
    """Features of poses (..., 33, 4) in one torso frame.

    Returns (features (..., K) radians, feature visibility (..., K), facing (...): +1 towards
    the camera, -1 away).
    """
    angles = vector_angles(points, torso_frame)
    measured_from = np.where(TABLE.angle_from >= 0, angles[..., TABLE.angle_from], 0.0)
    difference = wrap(angles[..., TABLE.angle_of] - measured_from)
    features = np.select(
        [TABLE.reading == OPENING, TABLE.reading == BEND], [np.abs(difference), np.pi - np.abs(difference)], difference
    )
    visibility = points[..., 3][..., TABLE.landmarks[0]].min(axis=-1)
    visibility[..., TORSO_FEATURE] = points[..., 3][..., TABLE.frame_landmarks[torso_frame]].min(axis=-1)
    return features, visibility, facing_of(angles)


def facing_of(angles: np.ndarray):
    """+1 towards the camera, -1 away, from vector angles (...,  vectors): the left shoulder lies on
    the spine's image-right side when the dancer faces the camera."""
    return np.where(np.sin(wrap(angles[..., SHOULDER_LINE] - angles[..., SPINE])) < FACING_AWAY_BELOW, -1.0, 1.0)
