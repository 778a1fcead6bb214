"""What the pose analyzer's tests share: a moving synthetic track and ways to run and disturb it."""

from __future__ import annotations

import numpy as np

from analyses.analyzers import pose, synthetic
from analyses.analyzers.base import AnalyzerInput, ReferenceContext

FPS = 30
TRACK = synthetic.choreography_track(fps=FPS, seconds=10.0, seed=0)
TRACK_CTX = ReferenceContext(fps=FPS, start=0.0, frames=TRACK)
TIMES = (2.0, 3.5, 5.0, 6.6, 8.0)  # well inside the track, so the +-1 s window is whole
# Synthetic poses are built to a body height (ankle to top of head) of `scale` frame heights.
BODY_HEIGHT = synthetic.choreography_params(0.0)["scale"]


def frame_at(t: float) -> np.ndarray:
    return TRACK[round(t * FPS)].astype(np.float64)


def run(landmarks, t: float = 5.0, ctx: ReferenceContext | None = TRACK_CTX, language: str = "en", **kwargs):
    keypoints = landmarks if isinstance(landmarks, list) else synthetic.keypoints_to_dicts(landmarks)
    inp = AnalyzerInput(
        frame=None,
        frame_mime=None,
        keypoints=keypoints,
        youtube_id="dQw4w9WgXcQ",
        timestamp=t,
        language=language,
        reference=ctx,
    )
    return pose.analyze(inp, **kwargs)


def held_pose_ctx(landmarks, t: float) -> ReferenceContext:
    """The pose held still for +-1 s around t: the reference is exactly the unchanged pose."""
    frames = np.repeat(np.asarray(landmarks, dtype=np.float32)[None], 2 * FPS + 1, axis=0)
    return ReferenceContext(fps=FPS, start=t - 1.0, frames=frames)


def with_noise(landmarks: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    out = landmarks.copy()
    out[:, :2] += rng.normal(0.0, sigma, (len(out), 2))
    return out
