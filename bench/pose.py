"""Benchmark: dancer frames the local pose analyzer scores per second on one core.

Each call is a full analysis of a new dancer frame: the API's 33 keypoint dicts in, the
AnalyzerResult out (window search over +-1 s of a 30 fps reference, as is and mirrored,
details and Japanese/English feedback). The reference track's features are computed once per
track (the worker keeps decoded tracks per process, and windows sliced from them map back to
the cached features); that one-off cost, the window-slice path and the worst case of a fresh
array every call are printed too.

Rates are frames per CPU second of this process (pinned to one core), so other processes on a
shared machine do not count against it; the wall-clock rate is printed beside it.

The analyzer's numeric kernels are compiled with numba when pose.py is imported (or loaded
from numba's on-disk cache); that JIT warm-up is timed and printed on its own, outside the rates.

Run from the project root: python bench/pose.py [--frames 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# One core, one thread: numpy's BLAS must not fan out (set before numpy is imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gc  # noqa: E402

import numpy as np  # noqa: E402

_IMPORT_T0 = time.perf_counter()
from analyses.analyzers import pose, pose_kernels, synthetic  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _IMPORT_T0
from analyses.analyzers.base import AnalyzerInput, ReferenceContext  # noqa: E402

TARGET_PER_S = 5000.0
FPS = 30
TRACK_SECONDS = 60.0
TOLERANCE = 1.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pin_to_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def dancer_frames(track: np.ndarray, count: int, seed: int = 1) -> list[tuple[float, list[dict], str]]:
    """(timestamp, keypoint dicts, language): the instructor's pose around the timestamp
    with landmark noise and timing errors, a quarter mirrored, a tenth random poses."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        t = float(rng.uniform(TOLERANCE + 0.5, TRACK_SECONDS - TOLERANCE - 0.5))
        if i % 10 == 9:
            pts = synthetic.random_plausible_pose(rng)
        else:
            k = round((t - float(rng.uniform(-0.5, 0.5))) * FPS)
            pts = track[k].astype(np.float64)
            pts[:, :2] += rng.normal(0.0, 0.01, (33, 2))
            if i % 4 == 0:
                pts = pose.mirror_landmarks(pts)
        out.append((t, synthetic.keypoints_to_dicts(pts), "ja" if i % 2 else "en"))
    return out


def run_once(frames, ctx: ReferenceContext) -> tuple[float, float]:
    """(frames per wall-clock second, frames per CPU second of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for t, kp, lang in frames:
        inp = AnalyzerInput(None, None, kp, "dQw4w9WgXcQ", t, lang, ctx)
        pose.analyze(inp, tolerance=TOLERANCE)
    return len(frames) / (time.perf_counter() - wall), len(frames) / (time.process_time() - cpu)


def run_windowed(frames, track: np.ndarray, copy: bool) -> float:
    """Frames per CPU second when each call gets its own +-1 s window, as the worker passes it:
    a slice of the track it keeps per process (a numpy view), or with copy=True a fresh array
    every time (features then computed on every call: the worst case)."""
    cpu = time.process_time()
    for t, kp, lang in frames:
        lo, hi = pose.reference_window(len(track), FPS, 0.0, t, TOLERANCE)
        window = track[lo:hi].copy() if copy else track[lo:hi]
        ctx = ReferenceContext(fps=FPS, start=lo / FPS, frames=window)
        pose.analyze(AnalyzerInput(None, None, kp, "dQw4w9WgXcQ", t, lang, ctx), tolerance=TOLERANCE)
    return len(frames) / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="distinct dancer frames per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    pinned = pin_to_one_core()
    track = synthetic.choreography_track(fps=FPS, seconds=TRACK_SECONDS, seed=0)
    ctx = ReferenceContext(fps=FPS, start=0.0, frames=track)
    frames = dancer_frames(track, args.frames)

    t0 = time.perf_counter()
    pose.analyze(AnalyzerInput(None, None, frames[0][1], "x", frames[0][0], "ja", ctx))  # builds the track's features
    cold_ms = (time.perf_counter() - t0) * 1000.0
    run_once(frames[:200], ctx)  # warm up
    # Setup objects (track, inputs) are long-lived; keep them out of the collector's scans.
    gc.collect()
    gc.freeze()

    runs = [run_once(frames, ctx) for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    others = max(1, args.runs // 2)
    sliced = statistics.median(run_windowed(frames, track, copy=False) for _ in range(others))
    copied = statistics.median(run_windowed(frames, track, copy=True) for _ in range(others))

    print("pose analyzer benchmark (full analyze(): keypoint dicts in, AnalyzerResult out)")
    print(f"  cpu: {cpu_model()} ({pinned}, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")
    print(f"  python {platform.python_version()}, numpy {np.__version__}")
    window = f"window +-{TOLERANCE:.0f} s = {2 * FPS + 1} frames, as is and mirrored"
    print(f"  reference: {TRACK_SECONDS:.0f} s at {FPS} fps, {window}")
    print(f"  dancer frames per run: {len(frames)}; runs: {args.runs}")
    print(f"  runs, frames per CPU second: {', '.join(f'{r[1]:,.0f}' for r in runs)}")
    print(f"  median: {cpu:,.0f} frames per CPU second ({1e6 / cpu:.0f} us per frame); wall clock: {wall:,.0f}/s")
    ratio, wall_ratio = cpu / TARGET_PER_S, wall / TARGET_PER_S
    print(f"  ratio to the {TARGET_PER_S:,.0f}/s target: {ratio:.2f} (CPU time; wall clock {wall_ratio:.2f})")
    source = "loaded from numba's cache" if pose_kernels.WARMUP_FROM_CACHE else "compiled"
    jit = f"{pose_kernels.WARMUP_SECONDS * 1000.0:.0f} ms ({source})"
    print(f"  one-off: JIT warm-up of the kernels {jit}; importing the analyzer {IMPORT_SECONDS * 1000.0:.0f} ms")
    print(f"  one-off: the track's features ({len(track)} frames) took {cold_ms:.1f} ms on the first call")
    print(f"  a window slice (view) of the kept track per call, as the worker passes it: {sliced:,.0f}/s")
    print(f"  a fresh window array per call (its features recomputed every time): {copied:,.0f}/s")


if __name__ == "__main__":
    main()
