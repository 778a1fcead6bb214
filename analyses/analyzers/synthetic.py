"""Synthetic MediaPipe-style poses made by code: for tests, benchmarks and demos.

No Django and no model weights: a frontal 2D stick figure built from a handful of joint
angles, placed in normalised frame coordinates (x right, y down, 0..1) in MediaPipe
Pose landmark order. Coordinates treat the frame as square, like the pose analyzer does.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .base import LANDMARK_COUNT

# Landmarks a skeleton drawing connects (MediaPipe's POSE_CONNECTIONS, body part only).
POSE_CONNECTIONS = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (15, 17), (15, 19), (15, 21), (17, 19), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
)  # fmt: skip

# Segment lengths as fractions of body height (ankle to top of head).
_TORSO, _SHOULDER_HALF, _HIP_HALF = 0.30, 0.11, 0.08
_UPPER_ARM, _FOREARM, _HAND = 0.17, 0.15, 0.06
_THIGH, _SHIN, _FOOT, _HEEL = 0.245, 0.245, 0.07, 0.03
_NECK = 0.13  # mid-shoulder to nose


def _unit(deg: float) -> tuple[float, float]:
    r = math.radians(deg)
    return math.sin(r), math.cos(r)


def pose_from_angles(
    *,
    left_shoulder: float = 20.0,
    right_shoulder: float = 20.0,
    left_elbow: float = 10.0,
    right_elbow: float = 10.0,
    left_hip: float = 5.0,
    right_hip: float = 5.0,
    left_knee: float = 5.0,
    right_knee: float = 5.0,
    lean: float = 0.0,
    head_tilt: float = 0.0,
    center: tuple[float, float] = (0.5, 0.55),
    scale: float = 0.8,
    visibility: float = 0.99,
) -> np.ndarray:
    """33 landmarks (33, 4) of x, y, z, visibility for a dancer facing the camera.

    Angles in degrees, left/right being the dancer's own (so the dancer's left is on the
    image's right):
    - `*_shoulder`: arm elevation from hanging down; 90 = out to the side, 180 = overhead,
      negative = across the body.
    - `*_elbow`, `*_knee`: bend, 0 = straight. The forearm keeps rotating the way the arm
      was raised; the shin turns back towards the body's midline.
    - `*_hip`: leg angle from vertical, positive = out to the side.
    - `lean`, `head_tilt`: towards the dancer's left.
    `center` is the mid-hip point and `scale` the body height, both in frame units.
    """
    h = float(scale)
    pts = np.zeros((LANDMARK_COUNT, 4), dtype=np.float64)
    pts[:, 3] = visibility
    # Torso axes: `up` points up the spine, `lft` towards the dancer's left (image +x when upright).
    s, c = _unit(lean)
    up, lft = np.array([s, -c]), np.array([c, s])
    mid_hip = np.array([float(center[0]), float(center[1])])
    mid_sh = mid_hip + _TORSO * h * up
    _arms(pts, mid_sh, up, lft, h, (left_shoulder, left_elbow), (right_shoulder, right_elbow))
    _legs(pts, mid_hip, h, (left_hip, left_knee), (right_hip, right_knee))
    _head(pts, mid_sh, up, lft, h, head_tilt)
    return pts


def _put(pts: np.ndarray, i: int, xy, z: float = 0.0) -> None:
    pts[i, 0], pts[i, 1], pts[i, 2] = xy[0], xy[1], z


def _arms(pts, mid_sh, up, lft, h: float, left: tuple[float, float], right: tuple[float, float]) -> None:
    for side, sh_i, el_i, wr_i, pk_i, ix_i, th_i, (elev, bend) in (
        (1.0, 11, 13, 15, 17, 19, 21, left),
        (-1.0, 12, 14, 16, 18, 20, 22, right),
    ):
        shoulder = mid_sh + side * _SHOULDER_HALF * h * lft
        a, b = _unit(elev)
        elbow = shoulder + _UPPER_ARM * h * (b * -up + a * side * lft)
        a, b = _unit(elev + bend)
        fore = b * -up + a * side * lft
        wrist = elbow + _FOREARM * h * fore
        # Bent elbows bring the hand towards the camera; MediaPipe z is negative there.
        z_wrist = -0.5 * _FOREARM * h * math.sin(math.radians(min(abs(bend), 90.0)))
        across = np.array([-fore[1], fore[0]]) * side
        _put(pts, sh_i, shoulder)
        _put(pts, el_i, elbow)
        _put(pts, wr_i, wrist, z_wrist)
        _put(pts, pk_i, wrist + _HAND * h * (0.9 * fore - 0.3 * across), z_wrist)
        _put(pts, ix_i, wrist + _HAND * h * fore, z_wrist)
        _put(pts, th_i, wrist + _HAND * h * (0.5 * fore + 0.4 * across), z_wrist)


def _legs(pts, mid_hip, h: float, left: tuple[float, float], right: tuple[float, float]) -> None:
    down, out = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    for side, hip_i, kn_i, an_i, he_i, ft_i, (angle, bend) in (
        (1.0, 23, 25, 27, 29, 31, left),
        (-1.0, 24, 26, 28, 30, 32, right),
    ):
        hip = mid_hip + side * _HIP_HALF * h * out
        a, b = _unit(angle)
        knee = hip + _THIGH * h * (b * down + a * side * out)
        a, b = _unit(angle - bend)
        shin = b * down + a * side * out
        ankle = knee + _SHIN * h * shin
        _put(pts, hip_i, hip)
        _put(pts, kn_i, knee, -0.3 * _THIGH * h * math.sin(math.radians(min(abs(bend), 90.0))))
        _put(pts, an_i, ankle)
        _put(pts, he_i, ankle + _HEEL * h * shin)
        _put(pts, ft_i, ankle + _FOOT * h * (0.5 * shin + 0.85 * side * out), -_FOOT * h)


def _head(pts, mid_sh, up, lft, h: float, tilt: float) -> None:
    # The tilt rotates the neck axis towards the dancer's left.
    s, c = _unit(tilt)
    hu, hl = c * up + s * lft, c * lft - s * up
    nose = mid_sh + _NECK * h * hu
    _put(pts, 0, nose, -0.12 * h)
    for side, inner, eye, outer, ear, mouth in ((1.0, 1, 2, 3, 7, 9), (-1.0, 4, 5, 6, 8, 10)):
        for i, d in ((inner, 0.012), (eye, 0.022), (outer, 0.032)):
            _put(pts, i, nose + h * (side * d * hl + 0.022 * hu), -0.11 * h)
        _put(pts, ear, nose + h * (side * 0.05 * hl + 0.01 * hu), -0.06 * h)
        _put(pts, mouth, nose + h * (side * 0.018 * hl - 0.022 * hu), -0.11 * h)


def random_plausible_pose(rng: np.random.Generator) -> np.ndarray:
    """A random pose a dancer could strike, anywhere sensible in the frame; (33, 4)."""
    u = rng.uniform
    return pose_from_angles(
        left_shoulder=u(-40, 180),
        right_shoulder=u(-40, 180),
        left_elbow=u(0, 140),
        right_elbow=u(0, 140),
        left_hip=u(-20, 70),
        right_hip=u(-20, 70),
        left_knee=u(0, 90),
        right_knee=u(0, 90),
        lean=u(-20, 20),
        head_tilt=u(-20, 20),
        center=(u(0.35, 0.65), u(0.5, 0.6)),
        scale=u(0.5, 0.85),
    )


def choreography_params(t: float, seed: int = 0) -> dict:
    """pose_from_angles keyword arguments at time `t` (seconds) of a smooth routine.

    Arms and legs move with different periods and seeded phases, so a pose does not come
    back within a few seconds (the timing search relies on that).
    """
    ph = np.random.default_rng(seed).uniform(0.0, 2.0 * math.pi, size=12)

    def wave(mid, amp, period, k):
        return mid + amp * math.sin(2.0 * math.pi * t / period + ph[k])

    return {
        "left_shoulder": wave(90.0, 75.0, 2.4, 0),
        "right_shoulder": wave(90.0, 75.0, 2.0, 1),
        "left_elbow": wave(50.0, 45.0, 1.7, 2),
        "right_elbow": wave(50.0, 45.0, 1.9, 3),
        "left_hip": wave(15.0, 15.0, 2.8, 4),
        "right_hip": wave(15.0, 15.0, 3.3, 5),
        "left_knee": wave(20.0, 20.0, 2.2, 6),
        "right_knee": wave(20.0, 20.0, 2.6, 7),
        "lean": wave(0.0, 8.0, 4.1, 8),
        "head_tilt": wave(0.0, 8.0, 3.1, 9),
        "center": (wave(0.5, 0.05, 5.3, 10), wave(0.55, 0.01, 1.3, 11)),
        "scale": 0.8,
    }


def choreography_track(fps: float = 30, seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """Reference track (n, 33, 4) float32 of the routine, frame i at time i / fps."""
    n = round(seconds * fps) + 1
    return np.stack([pose_from_angles(**choreography_params(i / fps, seed)) for i in range(n)]).astype(np.float32)


def keypoints_to_dicts(landmarks) -> list[dict]:
    """(33, 4) array to the API's list of {x, y, z, visibility} dicts (plain floats)."""
    arr = np.asarray(landmarks, dtype=np.float64)
    return [{"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)} for x, y, z, v in arr[:, :4]]


def dicts_to_array(keypoints: Sequence[dict]) -> np.ndarray:
    """List of {x, y, z?, visibility?} dicts to a (33, 4) float64 array (z 0, visibility 1 if absent)."""
    rows = []
    for k in keypoints:
        z, v = k.get("z"), k.get("visibility")
        rows.append((k["x"], k["y"], 0.0 if z is None else z, 1.0 if v is None else v))
    return np.array(rows, dtype=np.float64)


def render_pose_jpeg(landmarks, width: int = 640, height: int = 480, quality: int = 85) -> bytes:
    """The skeleton drawn on a dark background, as JPEG bytes (landmarks: array or dicts)."""
    if isinstance(landmarks, list | tuple) and landmarks and isinstance(landmarks[0], dict):
        landmarks = dicts_to_array(landmarks)
    arr = np.asarray(landmarks, dtype=np.float64)
    img = Image.new("RGB", (width, height), (24, 26, 33))
    draw = ImageDraw.Draw(img)
    px = [(float(x) * width, float(y) * height) for x, y in arr[:, :2]]
    seen = arr[:, 3] >= 0.5
    line = max(2, round(min(width, height) / 120))
    for a, b in POSE_CONNECTIONS:
        if seen[a] and seen[b]:
            colour = (90, 200, 250) if a % 2 else (250, 160, 90)  # odd = dancer's left
            draw.line([px[a], px[b]], fill=colour, width=line)
    r = line + 1
    for i, (x, y) in enumerate(px):
        if seen[i]:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(240, 240, 240))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()
