"""The local pose analyzer: calibration figures, errors, details and windows. No database."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from analyses.analyzers import pose, synthetic
from analyses.analyzers.base import AnalyzerInput, PermanentAnalyzerError, ReferenceContext
from analyses.analyzers.pose.reference import resolve_reference
from analyses.tests.pose_helpers import (
    BODY_HEIGHT,
    FPS,
    TIMES,
    TRACK,
    TRACK_CTX,
    frame_at,
    held_pose_ctx,
    run,
    with_noise,
)

# --- Acceptance figures -----------------------------------------------------------------


@pytest.mark.parametrize("t", TIMES)
def test_reference_pose_scores_at_least_98(t):
    result = run(frame_at(t), t)
    assert result.score >= 98
    assert result.details["score"] >= 98
    assert result.details["time_offset"] == 0.0
    assert result.details["mirrored"] is False


@pytest.mark.parametrize("t", TIMES)
def test_mirrored_reference_pose_scores_at_least_98_and_says_it_was_mirrored(t):
    result = run(pose.mirror_landmarks(frame_at(t)), t)
    assert result.score >= 98
    assert result.details["mirrored"] is True


def test_mirrored_pose_without_mirroring_allowed_scores_low():
    t = 5.0
    assert run(pose.mirror_landmarks(frame_at(t)), t, allow_mirror=False).score < 60


def test_two_percent_landmark_noise_keeps_the_score_at_least_90():
    # Noise: gaussian on x and y, sigma = 2% of body size (body height 0.8 of the frame, so
    # sigma = 0.016 in frame coordinates). Mean over 60 noisy frames.
    rng = np.random.default_rng(7)
    sigma = 0.02 * BODY_HEIGHT
    scores = []
    for _ in range(60):
        t = round(float(rng.uniform(1.5, 8.5)) * FPS) / FPS
        scores.append(run(with_noise(frame_at(t), sigma, rng), t).details["score"])
    assert np.mean(scores) >= 90, np.mean(scores)


def test_two_percent_of_frame_noise_still_scores_at_least_85_on_average():
    # The harsher reading: sigma = 0.02 of frame coordinates (2.5% of this body's height).
    rng = np.random.default_rng(8)
    scores = []
    for _ in range(60):
        t = round(float(rng.uniform(1.5, 8.5)) * FPS) / FPS
        scores.append(run(with_noise(frame_at(t), 0.02, rng), t).details["score"])
    assert np.mean(scores) >= 85, np.mean(scores)


@pytest.mark.parametrize("t", TIMES)
@pytest.mark.parametrize("side", ["left", "right"])
def test_one_arm_rotated_90_degrees_loses_at_least_15_points_and_is_the_first_improvement(t, side):
    params = synthetic.choreography_params(t)
    unchanged = synthetic.pose_from_angles(**params)
    elevation = params[f"{side}_shoulder"]
    raised = elevation < 90.0  # rotate towards the middle of the range so the arm stays in reach
    rotated = synthetic.pose_from_angles(**{**params, f"{side}_shoulder": elevation + (90.0 if raised else -90.0)})
    ctx = held_pose_ctx(unchanged, t)

    base = run(unchanged, t, ctx)
    result = run(rotated, t, ctx)
    assert base.details["score"] - result.details["score"] >= 15
    # The dancer's arm is now higher than the reference when it was raised: "lower it".
    expected = f"Lower your {side} arm" if raised else f"Raise your {side} arm higher"
    assert result.improvements[0] == expected
    assert result.details["weakest"][0] == f"{side}_arm"
    ja = run(rotated, t, ctx, language="ja")
    side_ja = "左" if side == "left" else "右"
    assert ja.improvements[0].startswith(f"{side_ja}腕")
    assert ("下げ" if raised else "上げ") in ja.improvements[0]


def test_one_arm_rotated_against_the_moving_track_still_names_that_arm():
    t = 5.0
    params = synthetic.choreography_params(t)
    rotated = synthetic.pose_from_angles(**{**params, "left_shoulder": params["left_shoulder"] + 90.0})
    result = run(rotated, t)
    assert "left arm" in result.improvements[0]
    assert run(frame_at(t), t).details["score"] - result.details["score"] >= 15


def test_random_plausible_poses_score_a_mean_below_40():
    # 500 random poses against the moving track (+-1 s window, mirroring allowed): the best of
    # 122 candidate frames each, so this is chance level with every advantage.
    rng = np.random.default_rng(3)
    scores = [
        run(synthetic.random_plausible_pose(rng), float(rng.uniform(1.5, 8.5))).details["score"] for _ in range(500)
    ]
    assert np.mean(scores) < 40, np.mean(scores)


@pytest.mark.parametrize("t", TIMES)
@pytest.mark.parametrize("shift", [0.5, -0.5])
def test_a_pose_shifted_by_half_a_second_is_found_with_its_offset(t, shift):
    # The dancer shows what the instructor did `shift` seconds earlier: late by `shift`.
    result = run(frame_at(t - shift), t)
    assert abs(result.details["time_offset"] - shift) <= 0.05
    assert abs(result.details["matched_time"] - (t - shift)) <= 0.05
    assert result.score >= 98


def test_a_late_dancer_with_noise_is_still_found_late():
    rng = np.random.default_rng(11)
    result = run(with_noise(frame_at(4.5), 0.01, rng), 5.0)
    assert abs(result.details["time_offset"] - 0.5) <= 0.05
    assert result.advice == "You are 0.5 s late: anticipate the beat"
    assert result.short["advice"] == "0.5 s late: anticipate"


def test_an_early_dancer_gets_early_timing_advice_in_japanese():
    result = run(frame_at(5.4), 5.0, language="ja")
    assert result.details["time_offset"] == pytest.approx(-0.4, abs=0.05)
    assert result.advice.startswith("0.4秒早い")


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_scaling_and_moving_the_pose_changes_the_score_by_less_than_1_point(factor):
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**params), t)
    # A middling match (one arm 50 degrees off, some noise), so the score has room to move.
    off = with_noise(
        synthetic.pose_from_angles(**{**params, "right_shoulder": params["right_shoulder"] + 50.0}),
        0.01,
        np.random.default_rng(5),
    )
    moved = off.copy()
    centre = off[:, :2].mean(axis=0)
    moved[:, :2] = (off[:, :2] - centre) * factor + centre + np.array([0.17, -0.09])
    a, b = run(off, t, ctx), run(moved, t, ctx)
    assert 40 < a.details["score"] < 95
    assert abs(a.details["score"] - b.details["score"]) < 1.0
    assert abs(a.score - b.score) <= 1


def test_identical_input_gives_identical_results():
    rng = np.random.default_rng(9)
    keypoints = synthetic.keypoints_to_dicts(with_noise(frame_at(3.0), 0.02, rng))
    first = run(copy.deepcopy(keypoints), 3.0, language="ja")
    second = run(copy.deepcopy(keypoints), 3.0, language="ja")
    assert first == second
    assert json.dumps(first.details, sort_keys=True) == json.dumps(second.details, sort_keys=True)


# --- Errors -------------------------------------------------------------------------------


def test_missing_keypoints_raise_keypoints_required():
    inp = AnalyzerInput(frame=b"jpeg", frame_mime="image/jpeg", keypoints=None, youtube_id="x", timestamp=1.0)
    with pytest.raises(PermanentAnalyzerError) as exc:
        pose.analyze(inp)
    assert exc.value.code == "keypoints_required"
    assert exc.value.transient is False


def test_low_visibility_raises_pose_not_visible():
    landmarks = frame_at(5.0)
    landmarks[:, 3] = 0.2
    with pytest.raises(PermanentAnalyzerError) as exc:
        run(landmarks)
    assert exc.value.code == "pose_not_visible"


def test_only_one_visible_limb_raises_pose_not_visible():
    landmarks = frame_at(5.0)
    landmarks[[13, 14, 15, 16, 25, 26, 27, 28], 3] = 0.1  # elbows, wrists, knees hidden...
    landmarks[[13, 15], 3] = 0.9  # ...except the left arm
    with pytest.raises(PermanentAnalyzerError) as exc:
        run(landmarks)
    assert exc.value.code == "pose_not_visible"


def test_invisible_limbs_below_the_threshold_are_ignored_not_scored():
    t = 5.0
    landmarks = frame_at(t)
    landmarks[[27, 28, 29, 30, 31, 32], 3] = 0.3  # ankles and feet out of sight
    landmarks[[27, 28], :2] += 0.3  # and wildly wrong: must not matter
    result = run(landmarks, t)
    assert result.score >= 98
    assert result.details["joints"]["left_knee"]["score"] is None
    assert result.details["segments"]["left_shin"]["score"] is None
    assert result.details["body_parts"]["left_leg"] is not None  # the thigh still counts


def test_hips_out_of_sight_fall_back_to_a_shoulder_frame():
    t = 5.0
    landmarks = frame_at(t)
    landmarks[23:, 3] = 0.1  # everything from the hips down
    result = run(landmarks, t)
    assert result.details["torso_frame"] == "shoulders"
    assert result.details["body_parts"]["left_leg"] is None
    assert result.score >= 90


def test_malformed_keypoints_raise_keypoints_invalid():
    with pytest.raises(PermanentAnalyzerError) as exc:
        run([{"x": 0.5, "y": 0.5}] * 12)
    assert exc.value.code == "keypoints_invalid"
    bad = synthetic.keypoints_to_dicts(frame_at(5.0))
    bad[3]["x"] = float("nan")
    with pytest.raises(PermanentAnalyzerError):
        run(bad)


def test_keypoints_without_z_or_visibility_are_accepted():
    keypoints = [{"x": k["x"], "y": k["y"]} for k in synthetic.keypoints_to_dicts(frame_at(5.0))]
    keypoints[0]["visibility"] = None
    assert run(keypoints, 5.0).score >= 98


# --- Details --------------------------------------------------------------------------------


def test_details_are_json_serialisable_with_plain_numbers():
    rng = np.random.default_rng(2)
    for ctx in (TRACK_CTX, None):
        result = run(with_noise(frame_at(5.0), 0.02, rng), 5.0, ctx)
        text = json.dumps(result.details, allow_nan=False)
        assert json.loads(text) == result.details
        json.dumps(result.short, allow_nan=False)

        def walk(value):
            if isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
            else:
                assert value is None or type(value) in (bool, int, float, str), type(value)

        walk(result.details)


def test_details_report_joints_body_parts_and_weakest_from_a_stable_set():
    result = run(synthetic.random_plausible_pose(np.random.default_rng(1)), 5.0)
    details = result.details
    assert set(details["joints"]) == set(pose.JOINTS)
    for figures in details["joints"].values():
        assert set(figures) == {"dancer", "reference", "difference", "score", "visibility"}
    assert set(details["body_parts"]) == set(pose.PARTS)
    assert set(details["weakest"]) <= set(pose.PARTS)
    scores = [details["body_parts"][p] for p in details["weakest"]]
    assert scores == sorted(scores)
    assert details["mode"] == "reference" and details["reference"] is True
    assert isinstance(details["mirrored"], bool)
    assert isinstance(details["time_offset"], float) and isinstance(details["matched_time"], float)


def test_joint_figures_are_interior_angles_with_difference_dancer_minus_reference():
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**{**params, "left_elbow": 30.0}), t)
    result = run(synthetic.pose_from_angles(**{**params, "left_elbow": 0.0}), t, ctx)
    elbow = result.details["joints"]["left_elbow"]
    assert elbow["dancer"] == pytest.approx(180.0, abs=0.2)
    assert elbow["reference"] == pytest.approx(150.0, abs=0.2)
    assert elbow["difference"] == pytest.approx(30.0, abs=0.2)


def test_a_reference_filmed_from_behind_is_compared_limb_for_limb():
    t = 5.0
    front = frame_at(t)
    # The instructor seen from behind: their left is on the image's left.
    behind = front.copy()
    behind[:, 0] = 1.0 - behind[:, 0]
    ctx = held_pose_ctx(behind, t)
    result = run(front, t, ctx)
    assert result.score >= 98
    assert result.details["reference_facing"] == "away"
    assert result.details["mirrored"] is False


def test_a_prebuilt_pose_reference_gives_the_same_result_as_the_context():
    t = 4.0
    landmarks = with_noise(frame_at(t), 0.01, np.random.default_rng(1))
    ref = pose.PoseReference(TRACK, fps=FPS, start=0.0)
    assert run(landmarks, t) == run(landmarks, t, None, pose_reference=ref)


@pytest.mark.parametrize("copy", [False, True], ids=["view", "copy"])
def test_a_window_slice_gives_the_same_match_as_the_whole_track(copy):
    t = 4.0
    landmarks = with_noise(frame_at(t - 0.3), 0.01, np.random.default_rng(1))
    lo, hi = pose.reference_window(len(TRACK), FPS, 0.0, t, 1.0)
    frames = TRACK[lo:hi].copy() if copy else TRACK[lo:hi]
    a, b = run(landmarks, t), run(landmarks, t, ReferenceContext(fps=FPS, start=lo / FPS, frames=frames))
    assert a.details == b.details


def test_window_slices_of_one_track_share_its_features_but_keep_their_bounds():
    t = 4.0
    ref, first, end = resolve_reference(ReferenceContext(fps=FPS, start=3.0, frames=TRACK[90:150]))
    assert (first, end, len(ref), ref.start) == (90, 150, len(TRACK), 0.0)
    again, *_ = resolve_reference(ReferenceContext(fps=FPS, start=5.0, frames=TRACK[150:180]))
    assert again is ref
    # Only the frames the caller gave are searched: the true match at 3.5 s lies outside.
    narrow = ReferenceContext(fps=FPS, start=4.0, frames=TRACK[120:151])
    result = run(frame_at(3.5), t, narrow)
    assert result.details["matched_time"] >= 4.0


def test_reference_window_covers_plus_minus_tolerance():
    assert pose.reference_window(300, 30, 0.0, 5.0, 1.0) == (120, 181)
    assert pose.reference_window(300, 30, 2.0, 5.0, 1.0) == (60, 121)
    assert pose.reference_window(300, 30, 0.0, 0.2, 1.0) == (0, 37)
    assert pose.reference_window(300, 30, 0.0, 50.0, 1.0)[0] >= 300
    assert math.isclose(61 / 30, 2.0333, abs_tol=1e-3)
