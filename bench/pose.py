"""Benchmark: dancer frames the local pose analyzer scores per CPU second, through the worker's path.

Steady state. Each call is a full analysis of a new dancer frame the way a Celery worker runs
it: analyses.analyzing.analyze on an Analysis of a video whose reference track is stored
in the database, so the reference window comes from playlists.selectors.reference_window (the
track decoded once per process, a +-1 s slice of it per call) and pose.analyze does the rest:
33 keypoint dicts in, the AnalyzerResult with details and ja/en feedback out. Printed beside it,
measured in the same runs, interleaved: pose.analyze with the whole track kept (the analyzer
alone), with a fresh window array every call (the worst case: its features recomputed), and
with no reference (form alone).

Rates are frames per CPU second of the measuring thread, pinned to one core, so other processes
on a shared machine do not count against their time; they still share the caches, so on a busy
machine every rate drops (the load average is printed; quote quiet runs). Wall-clock rates are
printed too.

Start-up, printed apart: importing the analyzer, which compiles the numba kernels or loads them
from numba's on-disk cache, with and without that cache (a fresh clone starts without it), and
the first call on a track (its features).

Run from the project root: python bench/pose.py [--frames 1000] [--runs 7] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

TARGET_PER_S = 5000.0
FPS = 30
TRACK_SECONDS = 60.0
TOLERANCE = 1.0
YOUTUBE_ID = "dQw4w9WgXcQ"


def cold_start(cache_dir: str) -> dict:
    """Import the analyzer in a fresh interpreter with numba's cache in cache_dir."""
    script = (
        "import json, time; t = time.perf_counter(); from analyses.analyzers.pose import matching; "
        "print(json.dumps({'seconds': time.perf_counter() - t, 'kernels': matching.STARTUP_SECONDS, "
        "'from_cache': matching.STARTUP_FROM_CACHE}))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def django_setup(database: str | None, workdir: Path) -> str:
    """Django on the given database (recreated; a *_pose name, say) or a new SQLite file."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.pop("REDIS_URL", None)
    if database:
        harness.database_recreate(database)
        os.environ["DATABASE_URL"] = database
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def stored_video(track):
    """A video whose reference track is the given one, stored as the admin or the API would."""
    from playlists.models import Video
    from playlists.services import reference_track_import

    video = Video.objects.create(youtube_id=YOUTUBE_ID, title="bench")
    reference_track_import(video=video, data={"fps": FPS, "frames": track.tolist()})
    return video


def dancer_frames(track, count: int, seed: int = 1) -> list[tuple[float, list[dict], str]]:
    """(timestamp, keypoint dicts, language): the instructor's pose around the timestamp with
    landmark noise and timing errors, a quarter mirrored, a tenth random poses."""
    import numpy as np

    from analyses.analyzers import pose, synthetic

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        t = float(rng.uniform(TOLERANCE + 0.5, TRACK_SECONDS - TOLERANCE - 0.5))
        if i % 10 == 9:
            points = synthetic.random_plausible_pose(rng)
        else:
            points = track[round((t - float(rng.uniform(-0.5, 0.5))) * FPS)].astype(np.float64)
            points[:, :2] += rng.normal(0.0, 0.01, (33, 2))
            if i % 4 == 0:
                points = pose.mirror_landmarks(points)
        out.append((t, synthetic.keypoints_to_dicts(points), "ja" if i % 2 else "en"))
    return out


def paths(video, track) -> dict:
    """name: one analysis of (timestamp, keypoints, language), as each path runs it."""
    from analyses import analyzing
    from analyses.analyzers import pose
    from analyses.analyzers.base import AnalyzerInput, ReferenceContext
    from analyses.models import Analysis

    whole = pose.PoseReference(track, fps=FPS)

    analyses = {}  # the worker loads each Analysis with its claim; here they are made up front

    def worker(t, keypoints, language):
        analysis = analyses.get(id(keypoints))
        if analysis is None:
            analysis = Analysis(video=video, keypoints=keypoints, timestamp=t, language=language, provider="pose")
            analyses[id(keypoints)] = analysis
        analyzing.analyze(analysis=analysis)

    def kept_track(t, keypoints, language):
        inp = AnalyzerInput(None, None, keypoints, YOUTUBE_ID, t, language)
        pose.analyze(inp, tolerance=TOLERANCE, pose_reference=whole)

    def fresh_window(t, keypoints, language):
        lo, hi = pose.reference_window(len(track), FPS, 0.0, t, TOLERANCE)
        reference = ReferenceContext(fps=FPS, start=lo / FPS, frames=track[lo:hi].copy())
        pose.analyze(AnalyzerInput(None, None, keypoints, YOUTUBE_ID, t, language, reference), tolerance=TOLERANCE)

    def form_only(t, keypoints, language):
        pose.analyze(AnalyzerInput(None, None, keypoints, YOUTUBE_ID, t, language))

    return {"worker": worker, "kept track": kept_track, "fresh window": fresh_window, "form only": form_only}


def reference_lookup(video):
    from analyses import analyzing

    return lambda t, keypoints, language: analyzing.pose_reference(video=video, timestamp=t)


def rate(call, frames) -> tuple[float, float]:
    """(frames per CPU second of this thread, frames per wall-clock second)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    for frame in frames:
        call(*frame)
    return len(frames) / (time.thread_time() - cpu), len(frames) / (time.perf_counter() - wall)


def pin_to_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def measure(args, workdir: Path) -> dict:
    vendor = django_setup(args.database, workdir)
    import numpy as np

    from analyses.analyzers import synthetic

    track = synthetic.choreography_track(fps=FPS, seconds=TRACK_SECONDS, seed=0).astype(np.float64)
    video = stored_video(track)
    frames = dancer_frames(track, args.frames)
    calls = paths(video, track)
    first = {}
    for name, call in calls.items():  # the first call of each path builds what it keeps
        start = time.perf_counter()
        call(*frames[0])
        first[name] = time.perf_counter() - start
        rate(call, frames)
    runs = {name: [] for name in calls}
    for _ in range(args.runs):  # interleaved, so drift touches every path alike
        for name, call in calls.items():
            runs[name].append(rate(call, frames))
    lookup = statistics.median(rate(reference_lookup(video), frames)[0] for _ in range(3))
    return {"vendor": vendor, "runs": runs, "first": first, "lookup": lookup, "frames": len(frames)}


def report(found: dict, startup: dict, pinned: str, load_before: float) -> None:
    import numba
    import numpy as np

    runs = found["runs"]
    median = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    print("pose analyzer benchmark: full analyses of new dancer frames, steady state")
    load = f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(f"  cpu: {harness.machine()} ({pinned}; {load})")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}")
    print(f"  reference: {TRACK_SECONDS:.0f} s at {FPS} fps in {found['vendor']}; window +-{TOLERANCE:.0f} s")
    print(f"  frames per run: {found['frames']}; runs: {len(runs['worker'])}, interleaved; frames per CPU second:")
    for name, rs in runs.items():
        rates = ", ".join(f"{r[0]:,.0f}" for r in rs)
        wall = statistics.median(r[1] for r in rs)
        per_frame = f"{1e6 / median[name]:.0f} us/frame; wall {wall:,.0f}/s"
        print(f"    {name:>13}: median {median[name]:,.0f} ({per_frame})  [{rates}]")
    print(f"  worker path: ratio {median['worker'] / TARGET_PER_S:.2f} to the {TARGET_PER_S:,.0f}/s target")
    print(f"  reference window lookup alone (selectors.reference_window): {found['lookup']:,.0f}/s")
    print("  start-up, once per process (not in the rates above):")
    for label, cold in startup.items():
        source = "loaded from numba's cache" if cold["from_cache"] else "compiled"
        print(f"    import, {label}: {cold['seconds']:.2f} s, of which kernels {cold['kernels']:.2f} s ({source})")
    first = ", ".join(f"{name} {seconds * 1000:.1f} ms" for name, seconds in found["first"].items())
    print(f"    first call per path (track decoded, its features computed): {first}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="distinct dancer frames per run")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", help="PostgreSQL URL to recreate and use (default: a new SQLite file)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        cache = str(Path(workdir) / "numba-cache")
        startup = {"empty numba cache (a fresh clone)": cold_start(cache), "numba cache filled": cold_start(cache)}
        pinned = pin_to_one_core()
        found = measure(args, Path(workdir))
    report(found, startup, pinned, load_before)


if __name__ == "__main__":
    main()
