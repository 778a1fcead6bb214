"""Compiled (numba) kernels of the local pose analyzer: the dancer's features and the window search.

They reproduce the numpy formulation in pose.py operation for operation, including the order
in which sums are taken (the order numpy's BLAS calls use), so results are bit-identical:
- part sums add a part's features in feature order (as the (.., K) @ (K, parts) product does);
- the six-part totals add ((p0 + p2) + (p1 + p3)) + (p4 + p5), as numpy's matrix-vector
  product does for two or more rows, and left to right for a single row;
- signed zeros included (sums start from 0.0 as the products' accumulators do).

Compiled at import (from numba's on-disk cache when it is there), so no request pays for it;
WARMUP_SECONDS says how long that took in this process.
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

_K = 18
_PARTS = 6
# Body part of each feature (pose.PARTS order) and the constants of the scoring (see pose.py).
_FEAT_PART = np.array([0, 0, 1, 1, 2, 2, 3, 3, 5, 4, 0, 0, 1, 1, 2, 2, 3, 3], dtype=np.int64)
# Vector angles (11) to raw features (19): feature c = angle a - angle b (b < 0: none).
_ANG_A = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 1, 2, 3, 4, 5, 6, 7, 9], dtype=np.int64)
_ANG_B = np.array([10, 10, 10, 10, 10, 10, 10, 10, 10, -1, 10, 0, 10, 2, 10, 4, 10, 6, 10], dtype=np.int64)
_J_OFF = np.array([0.0, np.pi, 0.0, np.pi, np.pi, np.pi, np.pi, np.pi])
_J_SIGN = np.array([1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
_TWO_PI = 2.0 * math.pi
_PI = math.pi


def _jit(fn):
    """njit with the on-disk cache, or without it where no cache directory is writable."""
    try:
        return numba.njit(cache=True)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(fn)


@_jit
def _wrap(a):
    return (a + _PI) % _TWO_PI - _PI


@_jit
def dancer_features(vx, vy, vis, shoulders, frame_vis, feat_lm2):
    """The dancer's features as is and mirrored from the 22 vector x and y components
    (pose._VEC2 @ x, @ y) and the 33 visibilities.

    Returns (features (2, K), feature visibility (2, K), raw shoulder-line feature of the
    dancer's own row, which decides the facing).
    """
    ang = np.empty((2, 11))
    for s in range(2):
        for i in range(11):
            x = vx[s * 11 + i]
            if s == 1:
                x = x * -1.0  # the mirror flips x
            ang[s, i] = math.atan2(x, vy[s * 11 + i])
        if shoulders:
            sx = vx[s * 11 + 9]
            if s == 1:
                sx = sx * -1.0
            ang[s, 10] = math.atan2(-vy[s * 11 + 9], sx)
    feats = np.empty((2, _K))
    facing_raw = 0.0
    for s in range(2):
        for c in range(19):
            b = _ANG_B[c]
            v = ang[s, _ANG_A[c]] if b < 0 else ang[s, _ANG_A[c]] - ang[s, b]
            v = _wrap(v)
            if c >= 10 and c < _K:
                v = _J_OFF[c - 10] + _J_SIGN[c - 10] * abs(v)
            if c < _K:
                feats[s, c] = v
            elif s == 0:
                facing_raw = v
    fvis = np.empty((2, _K))
    for s in range(2):
        for k in range(_K):
            v = vis[feat_lm2[s, k, 0]]
            for q in range(1, 4):
                u = vis[feat_lm2[s, k, q]]
                if u < v:
                    v = u
            fvis[s, k] = v
        fvis[s, 9] = frame_vis
    return feats, fvis, facing_raw


@_jit
def window_search(
    feats, fvis, m_, thr, gw, inv_d0, error_cap, part_cap, eps, rf, rw, rface, tie, lo, hi, fd, flip, t_tie, tie_mirror
):
    """The best (mirroring, reference frame) pair within frames [lo, hi) of the prepared reference.

    Returns (index m * n + j or -1 when no frame can be compared, its squared pose error,
    feature errors (K), part errors (6), part weights (6), feature weights (K), the reference
    features as compared (K)).
    """
    n = hi - lo
    single = m_ * n == 1
    dw = np.empty((m_, _K))
    for m in range(m_):
        for k in range(_K):
            v = fvis[m, k]
            dw[m, k] = (v if v >= thr else 0.0) * gw[k]
    wv = np.empty(_K)
    we = np.empty(_K)
    best, best_obj, best_err2 = -1, np.inf, 0.0
    for m in range(m_):
        for j in range(n):
            jj = lo + j
            flip_j = flip and rface[jj] != fd
            for k in range(_K):
                r = rf[jj, k]
                if flip_j and k < 10:
                    r = -r
                e = abs(r - feats[m, k])
                e = min(e, _TWO_PI - e) * inv_d0[k]
                e = min(e, error_cap)
                w = dw[m, k] * rw[jj, k]
                wv[k] = w
                we[k] = w * e
            # Part sums in feature order from zero (pose._FEAT_PART), spelled out.
            p0 = (((0.0 + wv[0]) + wv[1]) + wv[10]) + wv[11]
            p1 = (((0.0 + wv[2]) + wv[3]) + wv[12]) + wv[13]
            p2 = (((0.0 + wv[4]) + wv[5]) + wv[14]) + wv[15]
            p3 = (((0.0 + wv[6]) + wv[7]) + wv[16]) + wv[17]
            p4 = 0.0 + wv[9]
            p5 = 0.0 + wv[8]
            e0 = min(((((0.0 + we[0]) + we[1]) + we[10]) + we[11]) / (p0 + eps), part_cap)
            e1 = min(((((0.0 + we[2]) + we[3]) + we[12]) + we[13]) / (p1 + eps), part_cap)
            e2 = min(((((0.0 + we[4]) + we[5]) + we[14]) + we[15]) / (p2 + eps), part_cap)
            e3 = min(((((0.0 + we[6]) + we[7]) + we[16]) + we[17]) / (p3 + eps), part_cap)
            e4 = min((0.0 + we[9]) / (p4 + eps), part_cap)
            e5 = min((0.0 + we[8]) / (p5 + eps), part_cap)
            x0, x1, x2 = (e0 * e0) * p0, (e1 * e1) * p1, (e2 * e2) * p2
            x3, x4, x5 = (e3 * e3) * p3, (e4 * e4) * p4, (e5 * e5) * p5
            if single:
                err2 = (((((x0 + x1) + x2) + x3) + x4) + x5) / ((((((p0 + p1) + p2) + p3) + p4) + p5) + eps)
            else:
                err2 = (((x0 + x2) + (x1 + x3)) + (x4 + x5)) / ((((p0 + p2) + (p1 + p3)) + (p4 + p5)) + eps)
            obj = err2 + abs(tie[jj] - t_tie)
            if m == 1:
                obj += tie_mirror
            if obj < best_obj:
                best, best_obj, best_err2 = m * n + j, obj, err2
    pw = np.zeros(_PARTS)
    pe = np.zeros(_PARTS)
    e_out = np.zeros(_K)
    w_out = np.zeros(_K)
    r_out = np.zeros(_K)
    if best >= 0:
        m, j = best // n, best % n
        jj = lo + j
        flip_j = flip and rface[jj] != fd
        for k in range(_K):
            r = rf[jj, k]
            if flip_j and k < 10:
                r = -r
            e = abs(r - feats[m, k])
            e = min(e, _TWO_PI - e) * inv_d0[k]
            e = min(e, error_cap)
            w = dw[m, k] * rw[jj, k]
            p = _FEAT_PART[k]
            pw[p] += w
            pe[p] += w * e
            e_out[k], w_out[k], r_out[k] = e, w, r
        for p in range(_PARTS):
            pe[p] = min(pe[p] / (pw[p] + eps), part_cap)
    return best, best_err2, e_out, pe, pw, w_out, r_out


@_jit
def figures(d, r, e, dvis, mult, deg, inv_e0, score_k):
    """pose._figures' table (5, K): dancer, reference, difference (degrees), score, visibility,
    rounded as numpy rounds (x * 10 ** n, rint, / 10 ** n)."""
    tab = np.empty((5, _K))
    for k in range(_K):
        a = d[k] * mult[k]
        b = r[k] * mult[k]
        diff = a - b
        diff += _PI
        diff %= _TWO_PI
        diff -= _PI
        sc = e[k] * inv_e0
        sc = sc**score_k
        sc += 1.0
        sc = 100.0 / sc
        tab[0, k] = np.rint((a * deg) * 10.0) / 10.0
        tab[1, k] = np.rint((b * deg) * 10.0) / 10.0
        tab[2, k] = np.rint((diff * deg) * 10.0) / 10.0
        tab[3, k] = np.rint(sc * 10.0) / 10.0
        tab[4, k] = np.rint(dvis[k] * 100.0) / 100.0
    return tab


def _warm_up() -> float:
    """Compile (or load from the cache) every kernel with the argument types pose.py passes."""
    t0 = time.perf_counter()
    lm = np.zeros((2, _K, 4), dtype=np.int64)
    feats, fvis, _ = dancer_features(np.ones(22), np.ones(22), np.ones(33), False, 1.0, lm)
    ref = np.zeros((1, _K))
    ones = np.ones(_K)
    window_search(
        feats, fvis, 2, 0.5, ones, ones, 2.5, 1.0, 1e-12, ref, ref, np.ones(1), np.zeros(1), 0, 1, 1.0, False, 0.0, 5e-5
    )
    figures(ones, ones, ones, ones, ones, 1.0, 1.0, 6.0)
    return time.perf_counter() - t0


WARMUP_SECONDS = _warm_up()
# Whether the machine code came from numba's on-disk cache (else it was compiled just now).
WARMUP_FROM_CACHE = all(
    bool(getattr(k, "stats", None) and k.stats.cache_hits) for k in (dancer_features, window_search)
)
