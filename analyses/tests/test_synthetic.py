"""Synthetic pose data used by the pose analyzer's tests, benchmark and demo. No database."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from analyses.analyzers import pose, synthetic

ROOT = Path(__file__).resolve().parents[2]


def angle_deg(a, b, c) -> float:
    """Interior angle at b."""
    u, v = np.asarray(a[:2]) - b[:2], np.asarray(c[:2]) - b[:2]
    return math.degrees(math.acos(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))))


def test_pose_from_angles_gives_33_landmarks_in_the_frame():
    pts = synthetic.pose_from_angles()
    assert pts.shape == (33, 4)
    assert np.isfinite(pts).all()
    assert ((pts[:, :2] > 0.0) & (pts[:, :2] < 1.0)).all()
    assert (pts[:, 3] == 0.99).all()


def test_pose_from_angles_puts_the_dancers_left_on_the_image_right():
    pts = synthetic.pose_from_angles()
    assert pts[11, 0] > pts[12, 0]  # left shoulder
    assert pts[23, 0] > pts[24, 0]  # left hip
    assert pts[0, 1] < pts[11, 1] < pts[23, 1] < pts[25, 1] < pts[27, 1]  # head to ankles, y down


def test_pose_from_angles_honours_the_joint_angles():
    pts = synthetic.pose_from_angles(left_elbow=70.0, right_knee=40.0, left_shoulder=90.0)
    assert math.isclose(angle_deg(pts[11], pts[13], pts[15]), 110.0, abs_tol=1e-6)
    assert math.isclose(angle_deg(pts[24], pts[26], pts[28]), 140.0, abs_tol=1e-6)
    # Arm out to the side: the elbow level with the shoulder, on the dancer's left (image right).
    assert math.isclose(pts[13, 1], pts[11, 1], abs_tol=1e-9)
    assert pts[13, 0] > pts[11, 0]


def test_pose_from_angles_scales_and_moves_about_the_mid_hip():
    small = synthetic.pose_from_angles(scale=0.4, center=(0.3, 0.6))
    big = synthetic.pose_from_angles(scale=0.8, center=(0.3, 0.6))
    mid_hip = (small[23, :2] + small[24, :2]) / 2
    assert np.allclose(mid_hip, [0.3, 0.6])
    assert np.allclose(big[:, :2] - [0.3, 0.6], 2.0 * (small[:, :2] - [0.3, 0.6]))


def test_random_plausible_poses_are_seeded_and_inside_the_frame():
    a = [synthetic.random_plausible_pose(np.random.default_rng(5)) for _ in range(2)]
    assert np.array_equal(a[0], a[1])
    rng = np.random.default_rng(6)
    poses = np.stack([synthetic.random_plausible_pose(rng) for _ in range(200)])
    assert poses.shape == (200, 33, 4)
    body = poses[:, [0, 11, 12, 23, 24, 25, 26, 27, 28], :2]
    assert ((body > -0.05) & (body < 1.05)).mean() > 0.99
    assert poses[:, :, :2].std(axis=0).mean() > 0.03  # they do differ


def test_choreography_track_is_smooth_seeded_and_float32():
    track = synthetic.choreography_track(fps=30, seconds=4.0, seed=2)
    assert track.shape == (121, 33, 4)
    assert track.dtype == np.float32
    assert np.array_equal(track, synthetic.choreography_track(fps=30, seconds=4.0, seed=2))
    assert not np.array_equal(track, synthetic.choreography_track(fps=30, seconds=4.0, seed=3))
    step = np.abs(np.diff(track[:, :, :2], axis=0)).max()
    assert 0.0 < step < 0.08  # smooth at 30 fps: no landmark jumps more than a fast hand moves
    assert np.allclose(track[60], synthetic.pose_from_angles(**synthetic.choreography_params(2.0, seed=2)), atol=1e-6)


def test_choreography_moves_arms_and_legs_with_different_phases():
    params = [synthetic.choreography_params(t / 10) for t in range(40)]
    left = np.array([p["left_shoulder"] for p in params])
    right = np.array([p["right_shoulder"] for p in params])
    knees = np.array([p["left_knee"] for p in params])
    assert np.ptp(left) > 60 and np.ptp(right) > 60 and np.ptp(knees) > 10
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.9


def test_keypoint_dicts_round_trip():
    pts = synthetic.pose_from_angles(left_shoulder=120.0)
    dicts = synthetic.keypoints_to_dicts(pts)
    assert len(dicts) == 33
    assert set(dicts[0]) == {"x", "y", "z", "visibility"}
    assert all(type(v) is float for d in dicts for v in d.values())
    json.dumps(dicts)
    assert np.allclose(synthetic.dicts_to_array(dicts), pts)


def test_dicts_to_array_fills_missing_z_and_visibility():
    arr = synthetic.dicts_to_array([{"x": 0.1, "y": 0.2}] * 33)
    assert arr.shape == (33, 4)
    assert (arr[:, 2] == 0.0).all() and (arr[:, 3] == 1.0).all()


def test_mirror_landmarks_swaps_sides_and_flips_x_and_is_its_own_inverse():
    pts = synthetic.pose_from_angles(left_shoulder=150.0, right_shoulder=10.0)
    mirrored = pose.mirror_landmarks(pts)
    assert np.allclose(mirrored[11, :2], [1.0 - pts[12, 0], pts[12, 1]])
    assert np.allclose(pose.mirror_landmarks(mirrored), pts)
    # The mirror image of "left arm up" is a pose with the right arm up.
    assert np.allclose(mirrored, synthetic.pose_from_angles(left_shoulder=10.0, right_shoulder=150.0))


def test_render_pose_jpeg_gives_a_decodable_jpeg_of_the_requested_size():
    data = synthetic.render_pose_jpeg(synthetic.pose_from_angles(), width=320, height=240)
    assert data[:3] == b"\xff\xd8\xff"
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "JPEG" and img.size == (320, 240)
    # Something was drawn: not a flat background.
    low, high = img.convert("L").getextrema()
    assert high - low > 100


def test_render_pose_jpeg_accepts_keypoint_dicts():
    data = synthetic.render_pose_jpeg(synthetic.keypoints_to_dicts(synthetic.pose_from_angles()))
    assert Image.open(io.BytesIO(data)).size == (640, 480)


def test_make_demo_frame_writes_frame_keypoints_and_reference(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_demo_frame.py"), "--time", "2.0", "--out-dir", str(tmp_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert Image.open(tmp_path / "frame.jpg").format == "JPEG"
    keypoints = json.loads((tmp_path / "keypoints.json").read_text())
    assert len(keypoints) == 33 and set(keypoints[0]) >= {"x", "y", "visibility"}
    reference = json.loads((tmp_path / "reference.json").read_text())
    assert reference["fps"] == 30
    frames = np.array(reference["frames"])
    assert frames.ndim == 3 and frames.shape[1:] == (33, 4)
