"""The pose analyzer's feedback and its form-only mode: what a dancer reads, in both languages."""

from __future__ import annotations

import numpy as np
import pytest

from analyses.analyzers import pose, synthetic
from analyses.analyzers.base import PermanentAnalyzerError, ReferenceContext
from analyses.analyzers.pose import phrases as pose_phrases
from analyses.tests.pose_helpers import FPS, frame_at, held_pose_ctx, run

# --- Feedback -----------------------------------------------------------------------------


def test_a_straight_knee_is_asked_to_bend_and_a_bent_one_to_straighten():
    t = 5.0
    params = synthetic.choreography_params(t)
    bent = {**params, "right_knee": 60.0}
    straight = {**params, "right_knee": 0.0}
    result = run(synthetic.pose_from_angles(**straight), t, held_pose_ctx(synthetic.pose_from_angles(**bent), t))
    assert result.improvements[0] == "Bend your right knee more"
    result = run(synthetic.pose_from_angles(**bent), t, held_pose_ctx(synthetic.pose_from_angles(**straight), t))
    assert result.improvements[0] == "Straighten your right knee"


def test_a_straight_elbow_is_asked_to_bend_in_japanese():
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**{**params, "left_elbow": 90.0}), t)
    result = run(synthetic.pose_from_angles(**{**params, "left_elbow": 0.0}), t, ctx, language="ja")
    assert result.improvements[0] == "左ひじをもっと曲げましょう"
    assert result.short["improvements"][0] == "左ひじを曲げて"


def test_mirrored_match_names_the_dancers_own_limbs():
    # The dancer mirrors the instructor and, on top, holds their own right arm wrong.
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**params), t)
    # Mirroring the instructor's left arm means the dancer's right arm copies it.
    swapped = {**params}
    for joint in ("shoulder", "elbow", "hip", "knee"):
        swapped[f"left_{joint}"], swapped[f"right_{joint}"] = params[f"right_{joint}"], params[f"left_{joint}"]
    swapped["lean"], swapped["head_tilt"] = -params["lean"], -params["head_tilt"]
    swapped["right_shoulder"] = params["left_shoulder"] + (90.0 if params["left_shoulder"] < 90 else -90.0)
    result = run(synthetic.pose_from_angles(**swapped), t, ctx)
    assert result.details["mirrored"] is True
    assert "right arm" in result.improvements[0]
    assert result.details["weakest"][0] == "right_arm"


def test_good_points_name_the_matching_parts_and_advice_is_the_first_fix():
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**params), t)
    result = run(synthetic.pose_from_angles(**{**params, "left_hip": params["left_hip"] + 50.0}), t, ctx)
    assert "Your left arm matches the reference well" in result.good_points
    assert result.improvements == ["Lower your left leg"]  # the dancer's leg is 50 degrees higher
    assert result.advice == "Focus on one thing first: lower your left leg"
    assert result.short["advice"] == "Lower left leg"


def test_a_perfect_match_has_no_improvements_and_encouraging_advice():
    result = run(frame_at(5.0), 5.0, language="ja")
    assert result.improvements == []
    assert result.details["weakest"] == []
    assert result.good_points
    assert result.advice == pose_phrases.ADVICE["keep_going"]["ja"][0]


@pytest.mark.parametrize("table", ["IMPROVEMENTS", "GOOD_POINTS", "ADVICE"])
def test_every_japanese_short_form_fits_on_screen(table):
    limits = {"IMPROVEMENTS": 15, "GOOD_POINTS": 15, "ADVICE": 20}
    fills = {
        "side": list(pose_phrases.SIDES["ja"].values()),
        "part": list(pose_phrases.PART_NAMES["ja"].values()),
        "sec": ["0.3", "1.0", "9.9"],
        # Advice's "focus" wraps an improvement's short form.
        "fix": [short.format(side=s) for _, short in _ja(pose_phrases.IMPROVEMENTS) for s in ("左", "右")],
    }
    for key, (_, short) in _ja(getattr(pose_phrases, table), with_keys=True):
        for text in _fill_all(short, fills):
            assert len(text) <= limits[table], (key, text, len(text))


def _ja(table, with_keys=False):
    for key, langs in table.items():
        yield (key, langs["ja"]) if with_keys else langs["ja"]


def _fill_all(template: str, fills: dict) -> list[str]:
    out = [template]
    for name, values in fills.items():
        if "{" + name + "}" in template:
            out = [t.replace("{" + name + "}", v) for t in out for v in values]
    return out


def test_every_phrase_has_both_languages_and_both_forms():
    for table in (pose_phrases.IMPROVEMENTS, pose_phrases.GOOD_POINTS, pose_phrases.ADVICE):
        for key, langs in table.items():
            assert set(langs) == {"ja", "en"}, key
            for long, short in langs.values():
                assert long and short


def test_short_forms_parallel_the_long_ones():
    rng = np.random.default_rng(4)
    for language in ("ja", "en"):
        for _ in range(20):
            result = run(synthetic.random_plausible_pose(rng), float(rng.uniform(1.5, 8.5)), language=language)
            assert len(result.short["good_points"]) == len(result.good_points)
            assert len(result.short["improvements"]) == len(result.improvements)
            assert result.short["advice"]
            if language == "ja":
                assert all(len(s) <= 15 for s in result.short["good_points"] + result.short["improvements"])
                assert len(result.short["advice"]) <= 20


# --- Form-only mode -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ctx",
    [None, ReferenceContext(), ReferenceContext(fps=FPS, frames=np.zeros((0, 33, 4), dtype=np.float32))],
    ids=["no-reference", "empty-context", "empty-track"],
)
def test_without_a_reference_the_pose_is_scored_on_form_alone(ctx):
    result = run(synthetic.pose_from_angles(left_shoulder=80, right_shoulder=80), 5.0, ctx)
    assert result.details["reference"] is False
    assert result.details["mode"] == "form_only"
    assert result.details["time_offset"] is None
    assert 70 <= result.score <= 100
    assert set(result.details["components"]) == {"in_frame", "balance", "symmetry", "extension"}
    assert result.provider == "pose" and result.model == pose.POSE_MODEL_VERSION


def test_form_only_flags_a_body_out_of_frame_and_off_balance():
    landmarks = synthetic.pose_from_angles(left_shoulder=80, right_shoulder=80, center=(0.5, 0.55))
    good = run(landmarks, 5.0, None)
    cut = landmarks.copy()
    cut[:, 1] += 0.3  # feet below the frame
    out = run(cut, 5.0, None)
    assert out.score < good.score
    assert out.improvements[0] == "Step back so your whole body is in the frame"
    # Both legs slanting to one side: the feet are no longer under the body.
    slanted = synthetic.pose_from_angles(left_shoulder=80, right_shoulder=80, left_hip=35, right_hip=-35)
    tilted = run(slanted, 5.0, None)
    assert tilted.details["components"]["balance"] < 80 <= good.details["components"]["balance"]
    assert "Keep your weight centred over your feet" in tilted.improvements


def test_a_timestamp_outside_the_track_falls_back_to_form_only():
    result = run(frame_at(5.0), 60.0)
    assert result.details["mode"] == "form_only"
    assert result.details["note"] == "no_reference_frames_in_window"


# --- Visibility -----------------------------------------------------------------------------


def test_it_scores_form_alike_for_a_pose_and_its_mirror_image():
    rng = np.random.default_rng(12)
    for _ in range(50):
        landmarks = synthetic.random_plausible_pose(rng)
        landmarks[:, 3] = rng.uniform(0.0, 1.0, 33)
        try:
            shown = run(landmarks, ctx=None).details
        except PermanentAnalyzerError:
            continue  # too little seen to score, and then just as little in the mirror
        mirrored = run(pose.mirror_landmarks(landmarks), ctx=None).details
        assert mirrored["score"] == pytest.approx(shown["score"], abs=0.011)
        assert mirrored["components"] == pytest.approx(shown["components"], abs=0.11)


@pytest.mark.parametrize("mode", ["form_only", "reference"])
def test_a_wrist_seen_at_049_or_051_counts_nearly_the_same(mode):
    t = 5.0
    params = synthetic.choreography_params(t)
    ctx = held_pose_ctx(synthetic.pose_from_angles(**params), t) if mode == "reference" else None
    bent = synthetic.pose_from_angles(**{**params, "left_elbow": params["left_elbow"] + 70.0})

    def score_with_wrist_seen_at(visibility: float) -> float:
        landmarks = bent.copy()
        landmarks[15, 3] = visibility  # the left wrist
        return run(landmarks, t, ctx).details["score"]

    near_threshold = abs(score_with_wrist_seen_at(0.49) - score_with_wrist_seen_at(0.51))
    unseen_to_seen = abs(score_with_wrist_seen_at(0.1) - score_with_wrist_seen_at(0.9))
    assert unseen_to_seen > 3.0  # seeing the wrist matters...
    assert near_threshold < 0.1 * unseen_to_seen, (near_threshold, unseen_to_seen)  # ...a little at a time


@pytest.mark.parametrize("mode", ["form_only", "reference"])
def test_hips_fading_from_view_change_the_score_a_little_at_a_time(mode):
    t = 5.0
    landmarks = frame_at(t)
    landmarks[:, :2] += np.random.default_rng(3).normal(0.0, 0.01, (33, 2))
    ctx = None if mode == "form_only" else held_pose_ctx(frame_at(t), t)
    scores = []
    for visibility in np.arange(0.2, 0.81, 0.01):
        landmarks[[23, 24], 3] = visibility
        scores.append(run(landmarks, t, ctx).details["score"])
    assert np.abs(np.diff(scores)).max() < 1.5, scores
