"""The compiled kernels against their plain numpy statement (kernels_numpy), on random poses."""

from __future__ import annotations

import numpy as np
import pytest

from analyses.analyzers import pose, synthetic
from analyses.analyzers.base import AnalyzerInput, ReferenceContext
from analyses.analyzers.pose import body, kernels, kernels_numpy, matching
from analyses.analyzers.pose.features import TABLE
from analyses.analyzers.pose.reference import PoseReference

THRESHOLD = 0.5
# The kernels add in another order than numpy's vectorised sums: equal to rounding.
TOLERANCE = 1e-12


def random_pose(rng: np.random.Generator) -> np.ndarray:
    """A plausible pose, sometimes seen from behind, with visibilities all over 0..1."""
    points = synthetic.random_plausible_pose(rng)
    if rng.random() < 0.2:
        points[:, 0] = 1.0 - points[:, 0]  # the same body from behind
    points[:, 3] = rng.choice([rng.uniform(0.0, 1.0, 33), rng.uniform(0.6, 1.0, 33)])
    return points


def random_track(rng: np.random.Generator, frames: int = 40) -> PoseReference:
    return PoseReference(np.stack([random_pose(rng) for _ in range(frames)]), fps=30, start=0.0)


@pytest.fixture(params=range(25), ids=lambda seed: f"seed{seed}")
def rng(request):
    return np.random.default_rng(request.param)


def test_it_computes_the_dancers_features_as_numpy_does(rng):
    columns = np.ascontiguousarray(random_pose(rng).T)
    compiled = kernels.dancer_features(columns, TABLE, THRESHOLD, body.VISIBILITY_RAMP)
    plain = kernels_numpy.dancer_features(columns, TABLE, THRESHOLD, body.VISIBILITY_RAMP)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE)


def test_it_finds_the_same_best_frame_with_the_same_error_and_figures_as_numpy(rng):
    dancer = matching.dancer_of(
        np.ascontiguousarray(random_pose(rng).T), THRESHOLD, allow_mirror=bool(rng.random() < 0.8)
    )
    track = random_track(rng).track(THRESHOLD)
    lo, hi = sorted(int(x) for x in rng.choice(np.arange(41), 2, replace=False))
    tie = float(rng.uniform(0.0, 2.0)) * matching.TIE_PER_SECOND
    best, error2, *figures = kernels.best_match(dancer, track, lo, hi, tie, matching.SCORING)
    expected_best, expected_error2, *expected = kernels_numpy.best_match(dancer, track, lo, hi, tie, matching.SCORING)
    assert best == expected_best
    assert error2 == pytest.approx(expected_error2, rel=TOLERANCE, abs=TOLERANCE)
    for a, b in zip(figures, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE)


def test_it_reports_the_compared_figures_of_a_pair_as_numpy_does(rng):
    dancer = matching.dancer_of(np.ascontiguousarray(random_pose(rng).T), THRESHOLD, allow_mirror=True)
    track = random_track(rng, frames=5).track(THRESHOLD)
    mirrored, frame = int(rng.integers(2)), int(rng.integers(5))
    compiled = kernels.pair_details(dancer, track, mirrored, frame, matching.SCORING)
    plain = kernels_numpy.pair_details(dancer, track, mirrored, frame, matching.SCORING)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE)


def test_it_rounds_the_detail_figures_as_numpy_does(rng):
    dancer, reference = rng.uniform(-np.pi, np.pi, (2, 18))
    errors, visibility = rng.uniform(0.0, 2.5, 18), rng.uniform(0.0, 1.0, 18)
    sign = rng.choice([-1.0, 1.0], 18)
    arguments = (dancer, reference, errors, visibility, sign, 180.0 / np.pi, 1.0 / 0.52, 6.0)
    np.testing.assert_array_equal(kernels.figures(*arguments), kernels_numpy.figures(*arguments))


def test_it_finds_no_frame_when_no_reference_torso_was_seen():
    rng = np.random.default_rng(0)
    dancer = matching.dancer_of(np.ascontiguousarray(random_pose(rng).T), THRESHOLD, allow_mirror=True)
    hidden = np.stack([synthetic.random_plausible_pose(rng) for _ in range(3)])
    hidden[:, :, 3] = 0.1
    track = PoseReference(hidden, fps=30).track(THRESHOLD)
    assert kernels.best_match(dancer, track, 0, 3, 0.0, matching.SCORING)[0] == -1
    assert kernels_numpy.best_match(dancer, track, 0, 3, 0.0, matching.SCORING)[0] == -1


def test_the_kernels_were_compiled_at_import_for_the_types_the_analyzer_passes():
    # One machine-code version each: a call with other argument types would compile mid-request.
    rng = np.random.default_rng(1)
    track = synthetic.choreography_track(fps=30, seconds=3.0)
    for reference in (
        None,
        ReferenceContext(fps=30, start=0.0, frames=track),
        ReferenceContext(fps=30, frames=track[:40]),
    ):
        landmarks = synthetic.keypoints_to_dicts(synthetic.random_plausible_pose(rng))
        pose.analyze(AnalyzerInput(None, None, landmarks, "dQw4w9WgXcQ", 1.0, "ja", reference))
    for kernel in (kernels.dancer_features, kernels.best_match, kernels.figures):
        assert len(kernel.signatures) == 1, kernel.signatures


def test_a_landmark_at_the_threshold_counts_half_and_fades_in_smoothly():
    assert body.visibility_weight(THRESHOLD, THRESHOLD) == pytest.approx(0.5)
    assert body.visibility_weight(0.51, THRESHOLD) - body.visibility_weight(0.49, THRESHOLD) < 0.1
    assert body.visibility_weight(THRESHOLD - body.VISIBILITY_RAMP, THRESHOLD) == 0.0
    assert body.visibility_weight(THRESHOLD + body.VISIBILITY_RAMP, THRESHOLD) == 1.0
    assert kernels.smooth_weight(0.49, 0.3, 0.7) == pytest.approx(float(body.visibility_weight(0.49, THRESHOLD)))
