"""kernels.py stated in plain, vectorised numpy: the reference the compiled kernels are tested
against (same arguments, same results to within floating-point rounding). Not used to score:
numpy's per-call overheads on arrays this small make it several times slower."""

from __future__ import annotations

import numpy as np

from . import body
from .features import HIPS, SHOULDERS, pose_features


def dancer_features(columns: np.ndarray, table, threshold: float, ramp: float):
    """kernels.dancer_features: features, visibility, weights (2 mirrorings, 2 torso frames, K), facing (2)."""
    points = columns.T
    poses = np.stack((points, body.mirror_landmarks(points)))
    found = [pose_features(poses, frame) for frame in (HIPS, SHOULDERS)]
    features = np.stack([f for f, _, _ in found], axis=1)
    visibility = np.stack([v for _, v, _ in found], axis=1)
    facing = np.array([facing[0] for _, _, facing in found])
    t = np.clip((visibility - (threshold - ramp)) / (2 * ramp), 0.0, 1.0)
    return features, visibility, t * t * (3.0 - 2.0 * t), facing


def _pairs(dancer, track, lo: int, hi: int, scoring):
    """Errors and weights of every (mirroring, torso frame, reference frame, feature): (m, 2, n, K)
    each, and whether each (mirroring, reference frame) pair can be compared: (m, n)."""
    mine = dancer.features[: dancer.mirrors, :, None, :]
    flip = (track.facing[:, lo:hi] != dancer.facing[:, None])[..., None] & scoring.signed
    theirs = np.where(flip, -track.features[:, lo:hi], track.features[:, lo:hi])[None]
    difference = np.abs(theirs - mine)
    difference = np.minimum(difference, 2.0 * np.pi - difference)
    errors = np.minimum(difference * scoring.inverse_tolerance, scoring.error_cap)
    usable = track.usable[:, lo:hi, None] * (dancer.frame_blend[:, None, None] > 0.0)
    weights = (
        dancer.frame_blend[:, None, None]
        * dancer.weights[: dancer.mirrors, :, None, :]
        * track.weights[None, :, lo:hi]
        * usable[None]
    )
    comparable = np.broadcast_to(usable[..., 0].any(axis=0), (dancer.mirrors, hi - lo))
    return errors, weights, comparable, theirs[0]


def _part_errors(errors, weights, scoring):
    """Per-part weighted error sums and weights (..., parts) from (..., 2, n, K) arrays summed
    over torso frames, then capped part errors."""
    parts = np.eye(len(scoring.part_weight))[scoring.part_of]  # (K, parts)
    totals = np.einsum("...fnk,kp->...np", weights * scoring.share * errors, parts)
    part_weights = np.einsum("...fnk,kp->...np", weights * scoring.share, parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        part_errors = np.where(part_weights > 0.0, np.minimum(totals / part_weights, scoring.part_cap), 0.0)
    return part_errors, part_weights


def window_search(dancer, track, lo: int, hi: int, timestamp_tie: float, scoring):
    """kernels.window_search: (best index mirroring * (hi - lo) + offset or -1, squared pose error)."""
    errors, weights, comparable, _ = _pairs(dancer, track, lo, hi, scoring)
    part_errors, part_weights = _part_errors(errors, weights, scoring)
    total = part_weights.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        error2 = np.where(total > 0.0, (part_weights * part_errors**2).sum(axis=-1) / total, 0.0)
    objective = (
        error2 + np.abs(track.tie[lo:hi] - timestamp_tie) + scoring.mirror_tie * np.arange(dancer.mirrors)[:, None]
    )
    objective = np.where(comparable, objective, np.inf)
    best = int(np.argmin(objective))
    if not np.isfinite(objective.flat[best]):
        return -1, 0.0
    return best, float(error2.flat[best])


def pair_details(dancer, track, mirrored: int, j: int, scoring):
    """kernels.pair_details: feature errors, feature weights, reference features as compared (main
    torso frame), part errors and part weights of one (mirroring, frame) pair."""
    one = dancer._replace(
        features=dancer.features[mirrored : mirrored + 1], weights=dancer.weights[mirrored : mirrored + 1]
    )
    errors, weights, _, theirs = _pairs(one._replace(mirrors=1), track, j, j + 1, scoring)
    errors, weights = errors[0, :, 0], weights[0, :, 0]  # (2 torso frames, K)
    feature_weights = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        feature_errors = np.where(feature_weights > 0.0, (weights * errors).sum(axis=0) / feature_weights, 0.0)
    part_errors, part_weights = _part_errors(errors[:, None], weights[:, None], scoring)
    main = dancer.main_frame
    reference = (
        theirs[main, 0] if dancer.frame_blend[main] > 0.0 and track.usable[main, j] else np.zeros_like(errors[0])
    )
    return feature_errors, feature_weights, reference, part_errors[0], part_weights[0]


def figures(dancer, reference, errors, visibility, sign, degrees, inverse_e50, steepness):
    """kernels.figures: the details' per-feature table (5, K)."""
    mine, theirs = dancer * sign, reference * sign
    difference = (mine - theirs + np.pi) % (2.0 * np.pi) - np.pi
    score = 100.0 / (1.0 + (errors * inverse_e50) ** steepness)
    return np.stack(
        (
            np.rint(mine * degrees * 10.0) / 10.0,
            np.rint(theirs * degrees * 10.0) / 10.0,
            np.rint(difference * degrees * 10.0) / 10.0,
            np.rint(score * 10.0) / 10.0,
            np.rint(visibility * 100.0) / 100.0,
        )
    )


def best_match(dancer, track, lo: int, hi: int, timestamp_tie: float, scoring):
    """kernels.best_match: window_search, then pair_details of the winner."""
    best, error2 = window_search(dancer, track, lo, hi, timestamp_tie, scoring)
    if best < 0:
        count, parts = len(scoring.part_of), len(scoring.part_weight)
        return best, error2, *(np.zeros(n) for n in (count, count, count, parts, parts))
    mirrored, offset = divmod(best, hi - lo)
    return best, error2, *pair_details(dancer, track, mirrored, lo + offset, scoring)
