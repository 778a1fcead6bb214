"""The analyzer's per-frame arithmetic, compiled by numba: the dancer's features and the window search.

Written as plain loops over small arrays because that is what numba compiles into tight machine
code; numpy would spend more time setting up each of its many tiny operations than computing.
kernels_numpy.py states the same computations in vectorised numpy, and the tests hold the two to
the same results. Arguments come grouped in small named tuples (see matching.py).

Compiled when this module is imported, or loaded from numba's on-disk cache, so no request pays
for it; STARTUP says what that took in this process.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_TWO_PI = 2.0 * math.pi
# How a feature is read (features.DIRECTION, OPENING, BEND).
_DIRECTION, _OPENING = 0, 1


def _jit(function):
    """njit with numba's on-disk cache, or without it where no cache directory is writable."""
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(function)


@_jit
def _wrapped(angle):
    return (angle + math.pi) % _TWO_PI - math.pi


@_jit
def smooth_weight(visibility, low, high):
    """0 up to `low`, 1 from `high`, a smoothstep between (body.visibility_weight's curve)."""
    t = min(max((visibility - low) / (high - low), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@_jit
def dancer_features(columns, table, threshold, ramp):
    """The dancer's features as is and mirrored, in both torso frames, from landmark columns (4, 33).

    Returns (features (2 mirrorings, 2 torso frames, K), feature visibility (2, 2, K), their
    weights (smooth_weight from threshold - ramp to threshold + ramp), facing (2 torso frames)
    of the dancer as is: +1 towards the camera, -1 away).
    """
    count = table.angle_of.shape[0]
    angles = _vector_angles(columns, table)
    features = np.empty((2, 2, count))
    visibility = np.empty((2, 2, count))
    weights = np.empty((2, 2, count))
    for mirrored in range(2):
        for frame in range(2):
            for k in range(count):
                features[mirrored, frame, k] = _read(angles[mirrored, frame], table, k)
                visibility[mirrored, frame, k] = _least_visible(columns, table.landmarks[mirrored, k])
            frame_landmarks = table.frame_landmarks[frame]
            if mirrored == 1:
                frame_landmarks = table.mirror_order[frame_landmarks]
            visibility[mirrored, frame, table.torso_feature] = _least_visible(columns, frame_landmarks)
            for k in range(count):
                weights[mirrored, frame, k] = smooth_weight(
                    visibility[mirrored, frame, k], threshold - ramp, threshold + ramp
                )
    facing = np.empty(2)
    for frame in range(2):
        shoulder_line = _wrapped(angles[0, frame, table.shoulder_line] - angles[0, frame, table.spine])
        facing[frame] = -1.0 if math.sin(shoulder_line) < table.facing_away_below else 1.0
    return features, visibility, weights, facing


@_jit
def _vector_angles(columns, table):
    """Vector directions (2 mirrorings, 2 torso frames, vectors), radians from image-down."""
    matrix = table.vector_matrix
    angles = np.empty((2, 2, matrix.shape[0]))
    for mirrored in range(2):
        line_x, line_y = 0.0, 0.0
        for v in range(matrix.shape[0]):
            x, y = 0.0, 0.0
            for landmark in range(matrix.shape[1]):
                if matrix[v, landmark] != 0.0:
                    # The mirrored pose's landmark is its left/right twin, x flipped below.
                    source = table.mirror_order[landmark] if mirrored else landmark
                    x += matrix[v, landmark] * columns[0, source]
                    y += matrix[v, landmark] * columns[1, source]
            if mirrored:
                x = -x
            angles[mirrored, 0, v] = angles[mirrored, 1, v] = math.atan2(x, y)
            if v == table.shoulder_line:
                # Shoulders frame: the shoulder line turned a quarter towards image-down.
                line_x, line_y = x, y
        angles[mirrored, 1, table.spine] = math.atan2(-line_y, line_x)
    return angles


@_jit
def _least_visible(columns, landmarks):
    least = columns[3, landmarks[0]]
    for q in range(1, landmarks.shape[0]):
        least = min(least, columns[3, landmarks[q]])
    return least


@_jit
def _read(angles, table, k):
    """Feature k from the vector angles of one pose in one torso frame."""
    base = table.angle_from[k]
    difference = angles[table.angle_of[k]] - (angles[base] if base >= 0 else 0.0)
    difference = _wrapped(difference)
    if table.reading[k] == _DIRECTION:
        return difference
    if table.reading[k] == _OPENING:
        return abs(difference)
    return math.pi - abs(difference)


@_jit
def window_search(dancer, track, lo, hi, timestamp_tie, scoring):
    """The best (mirroring, reference frame) pair within frames [lo, hi) of the prepared track.

    Each pair's pose error blends the dancer's torso frames by dancer.frame_blend; ties go to the
    frame nearest the timestamp, then to the unmirrored comparison. Returns (index mirroring *
    (hi - lo) + frame offset, or -1 when no frame can be compared; its squared pose error).
    """
    shares = _dancer_shares(dancer, scoring)
    count = shares.shape[2]
    weighted_errors, weights = np.empty(count), np.empty(count)
    best, best_objective, best_error2 = -1, np.inf, 0.0
    for mirrored in range(dancer.mirrors):
        for j in range(lo, hi):
            if not _pair_sums(dancer, shares, track, mirrored, j, scoring, weighted_errors, weights):
                continue
            error2 = _pose_error2(weighted_errors, weights, scoring)
            objective = error2 + abs(track.tie[j] - timestamp_tie) + mirrored * scoring.mirror_tie
            if objective < best_objective:
                best, best_objective, best_error2 = mirrored * (hi - lo) + j - lo, objective, error2
    return best, best_error2


@_jit
def _dancer_shares(dancer, scoring):
    """Each (mirroring, torso frame, feature)'s weight in the pose before the reference's own:
    the frame's blend, the feature's weight and its share of the pose."""
    shares = np.empty_like(dancer.weights)
    for mirrored in range(2):
        for frame in range(2):
            for k in range(shares.shape[2]):
                shares[mirrored, frame, k] = (
                    dancer.frame_blend[frame] * dancer.weights[mirrored, frame, k] * scoring.share[k]
                )
    return shares


@_jit
def _pair_sums(dancer, shares, track, mirrored, j, scoring, weighted_errors, weights):
    """Each feature's weighted error and weight for one (mirroring, frame) pair, summed over the
    torso frames, into the two arrays; False when the frame cannot be compared."""
    weighted_errors[:] = 0.0
    weights[:] = 0.0
    seen = False
    for frame in range(2):
        if dancer.frame_blend[frame] == 0.0 or track.usable[frame, j] == 0.0:
            continue
        seen = True
        flip = track.facing[frame, j] != dancer.facing[frame]
        for k in range(weights.shape[0]):
            weight = shares[mirrored, frame, k] * track.weights[frame, j, k]
            weighted_errors[k] += weight * _feature_error(dancer, track, mirrored, frame, j, k, flip, scoring)
            weights[k] += weight
    return seen


@_jit
def _pose_error2(weighted_errors, weights, scoring):
    """Squared pose error: the weighted mean square of the capped part errors."""
    squares, total = 0.0, 0.0
    for part in range(scoring.part_start.shape[0] - 1):
        error_sum, weight_sum = 0.0, 0.0
        for i in range(scoring.part_start[part], scoring.part_start[part + 1]):
            error_sum += weighted_errors[scoring.part_order[i]]
            weight_sum += weights[scoring.part_order[i]]
        if weight_sum > 0.0:
            error = min(error_sum / weight_sum, scoring.part_cap)
            squares += weight_sum * error * error
            total += weight_sum
    return squares / total if total > 0.0 else 0.0


@_jit
def _feature_error(dancer, track, mirrored, frame, j, k, flip, scoring):
    """Feature k's error in tolerances, capped. A reference facing the other way is compared
    limb for limb: its signed directions are flipped to the dancer's facing."""
    reference = track.features[frame, j, k]
    if flip and scoring.signed[k]:
        reference = -reference
    difference = abs(reference - dancer.features[mirrored, frame, k])
    difference = min(difference, _TWO_PI - difference)
    return min(difference * scoring.inverse_tolerance[k], scoring.error_cap)


@_jit
def pair_details(dancer, track, mirrored, j, scoring):
    """The compared figures of one (mirroring, frame) pair, for the result's details.

    Returns (feature errors (K), feature weights (K), reference features as compared (K, in the
    dancer's main torso frame), part errors (parts), part weights (parts)).
    """
    count, parts = scoring.part_of.shape[0], scoring.part_weight.shape[0]
    errors, weights, reference = np.zeros(count), np.zeros(count), np.zeros(count)
    totals = np.zeros((2, parts))
    main = 0 if dancer.frame_blend[0] >= dancer.frame_blend[1] else 1
    for frame in range(2):
        blend = dancer.frame_blend[frame]
        if blend == 0.0 or track.usable[frame, j] == 0.0:
            continue
        flip = track.facing[frame, j] != dancer.facing[frame]
        for k in range(count):
            weight = blend * dancer.weights[mirrored, frame, k] * track.weights[frame, j, k]
            error = _feature_error(dancer, track, mirrored, frame, j, k, flip, scoring)
            errors[k] += weight * error
            weights[k] += weight
            totals[0, scoring.part_of[k]] += weight * scoring.share[k] * error
            totals[1, scoring.part_of[k]] += weight * scoring.share[k]
            if frame == main:
                reference[k] = (
                    -track.features[frame, j, k] if flip and scoring.signed[k] else track.features[frame, j, k]
                )
    part_errors = np.zeros(parts)
    for k in range(count):
        if weights[k] > 0.0:
            errors[k] /= weights[k]
    for part in range(parts):
        if totals[1, part] > 0.0:
            part_errors[part] = min(totals[0, part] / totals[1, part], scoring.part_cap)
    return errors, weights, reference, part_errors, totals[1].copy()


@_jit
def best_match(dancer, track, lo, hi, timestamp_tie, scoring):
    """window_search, then pair_details of the winner in the same call: (best index or -1, its
    squared pose error, then pair_details' five arrays, zeros when there is no winner)."""
    best, error2 = window_search(dancer, track, lo, hi, timestamp_tie, scoring)
    mirrored, frame = (best // (hi - lo), lo + best % (hi - lo)) if best >= 0 else (0, -1)
    if best < 0:
        count, parts = scoring.part_of.shape[0], scoring.part_weight.shape[0]
        return best, error2, np.zeros(count), np.zeros(count), np.zeros(count), np.zeros(parts), np.zeros(parts)
    errors, weights, reference, part_errors, part_weights = pair_details(dancer, track, mirrored, frame, scoring)
    return best, error2, errors, weights, reference, part_errors, part_weights


@_jit
def figures(dancer, reference, errors, visibility, sign, degrees, inverse_e50, steepness):
    """The details' per-feature table (5, K): dancer, reference and difference in degrees (each
    times `sign`), score 0..100 and visibility, rounded as numpy rounds (x * 10 ** n, rint, / 10 ** n)."""
    count = dancer.shape[0]
    table = np.empty((5, count))
    for k in range(count):
        mine, theirs = dancer[k] * sign[k], reference[k] * sign[k]
        difference = _wrapped(mine - theirs)
        score = 100.0 / (1.0 + (errors[k] * inverse_e50) ** steepness)
        table[0, k] = np.rint(mine * degrees * 10.0) / 10.0
        table[1, k] = np.rint(theirs * degrees * 10.0) / 10.0
        table[2, k] = np.rint(difference * degrees * 10.0) / 10.0
        table[3, k] = np.rint(score * 10.0) / 10.0
        table[4, k] = np.rint(visibility[k] * 100.0) / 100.0
    return table


def loaded_from_cache() -> bool:
    """Whether every kernel's machine code came from numba's on-disk cache in this process."""
    kernels = (dancer_features, best_match, figures)
    return all(bool(k.stats.cache_hits) and not k.stats.cache_misses for k in kernels)
