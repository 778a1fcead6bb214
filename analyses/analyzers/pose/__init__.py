"""Local pose analyzer: the dancer's 33 MediaPipe landmarks against the instructor's track.

numpy, with the per-frame arithmetic compiled by numba: deterministic and fast, so it runs in
the worker, in a benchmark, and as grounding for the Gemini analyzer. Where to read:
- features.py: the 18 angles measured on a pose (limb directions, joint angles, torso lean);
- matching.py: feature, body-part and pose errors, and the score curve;
- reference.py: a reference track's features, kept per track, and the timing window;
- feedback.py and analyzer.py: the result against a reference; form.py: form alone;
- kernels.py (compiled) and kernels_numpy.py (the same in plain numpy, what the tests compare).

time_offset = timestamp - matched_time: positive means the dancer is late (they match what the
instructor did earlier).
"""

from .analyzer import analyze
from .body import mirror_landmarks
from .features import FEATURES, JOINTS, PARTS, SEGMENTS
from .matching import POSE_MODEL_VERSION, PROVIDER, score_of
from .reference import PoseReference, pose_reference_for, reference_window

__all__ = [
    "FEATURES",
    "JOINTS",
    "PARTS",
    "POSE_MODEL_VERSION",
    "PROVIDER",
    "SEGMENTS",
    "PoseReference",
    "analyze",
    "mirror_landmarks",
    "pose_reference_for",
    "reference_window",
    "score_of",
]
