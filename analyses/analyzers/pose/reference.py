"""The instructor's reference track: its features computed once per track, and the window of
frames within the timing tolerance of a timestamp."""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict

import numpy as np

from ..base import LANDMARK_COUNT, PermanentAnalyzerError, ReferenceContext
from . import body
from .features import HIPS, SHOULDERS, TORSO_FEATURE, pose_features
from .matching import TIE_PER_SECOND, Track

_FRAME_VALUES = LANDMARK_COUNT * 4


class PoseReference:
    """A reference track with its features computed once per visibility threshold.

    Build one per track and pass it to `analyze(..., pose_reference=...)`, or let
    `pose_reference_for` cache it by the identity of a ReferenceContext's frames array (which
    must then not be modified in place).
    """

    def __init__(self, frames, fps: float | None = None, start: float = 0.0):
        self.frames = _frames_array(frames)
        self.fps = float(fps) if fps else None
        if self.fps is None and len(self.frames) > 1:
            raise PermanentAnalyzerError("reference_invalid", "a reference track of several frames needs fps")
        self.start = float(start or 0.0)
        self.times = self.start + np.arange(len(self.frames)) / (self.fps or 1.0)
        self._tracks: dict[float, Track] = {}

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def timed(self) -> bool:
        return self.fps is not None

    def track(self, threshold: float) -> Track:
        """The track's features and weights in both torso frames, as the window search takes them."""
        found = self._tracks.get(threshold)
        if found is None:
            found = self._tracks[threshold] = _prepared(self, threshold)
        return found

    def window(self, timestamp: float, tolerance: float) -> tuple[int, int]:
        return reference_window(len(self.frames), self.fps, self.start, timestamp, tolerance)


def _frames_array(frames) -> np.ndarray:
    """Reference frames as (n, 33, 4) float64; a missing landmark becomes invisible, at 0."""
    array = np.array(frames if frames is not None else [], dtype=np.float64)
    if array.size == 0:
        array = np.zeros((0, LANDMARK_COUNT, 4))
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1] != LANDMARK_COUNT or array.shape[2] not in (3, 4):
        raise PermanentAnalyzerError("reference_invalid", "reference frames must be (n, 33, 4)")
    if array.shape[2] == 3:
        array = np.concatenate((array, np.ones((*array.shape[:2], 1))), axis=2)
    array[~np.isfinite(array).all(axis=2)] = 0.0
    return array


def _prepared(reference: PoseReference, threshold: float) -> Track:
    per_frame = [pose_features(reference.frames, frame) for frame in (HIPS, SHOULDERS)]
    weights = np.stack([body.visibility_weight(visibility, threshold) for _, visibility, _ in per_frame])
    tie = reference.times * TIE_PER_SECOND if reference.timed else np.zeros(len(reference))
    return Track(
        features=np.ascontiguousarray([features for features, _, _ in per_frame]),
        weights=np.ascontiguousarray(weights),
        facing=np.ascontiguousarray([facing for _, _, facing in per_frame], dtype=np.float64),
        # A frame whose torso is not seen cannot be compared in that torso frame.
        usable=np.ascontiguousarray((weights[:, :, TORSO_FEATURE] > 0.0).astype(np.float64)),
        tie=np.ascontiguousarray(tie, dtype=np.float64),
    )


def reference_window(n: int, fps: float | None, start: float, timestamp: float, tolerance: float) -> tuple[int, int]:
    """Frames [lo, hi) of a track of n frames whose time start + i / fps is within tolerance of timestamp.

    An untimed reference (no fps) is a pose without a time: all of it is always in the window.
    """
    if n == 0:
        return 0, 0
    if not fps:
        return 0, n
    lo = math.ceil((timestamp - tolerance - start) * fps - 1e-6)
    hi = math.floor((timestamp + tolerance - start) * fps + 1e-6) + 1
    return max(lo, 0), min(hi, n)


# Tracks by the identity of the array that owns their frames: a worker keeps few tracks at once.
_TRACKS: OrderedDict = OrderedDict()
_TRACKS_KEPT = 16
_TRACKS_LOCK = threading.Lock()


def pose_reference_for(context: ReferenceContext | PoseReference | None) -> PoseReference | None:
    """The PoseReference of a ReferenceContext (features cached while its frames array lives)."""
    return resolve_reference(context)[0]


def resolve_reference(context) -> tuple[PoseReference | None, int, int]:
    """(PoseReference, first, end): the context's frames are frames [first, end) of it.

    When the context holds a window sliced from a longer track (a numpy view, as the worker
    passes from its per-process track cache), the whole track's features are computed once
    and cached by the identity of the array owning the memory; each call then only reads them.
    """
    if context is None:
        return None, 0, 0
    if isinstance(context, PoseReference):
        return context, 0, len(context)
    frames = context.frames
    if isinstance(frames, PoseReference):
        return frames, 0, len(frames)
    if frames is None or len(frames) == 0:
        return None, 0, 0
    owner, first = _owner_of(frames, context.fps)
    count = len(frames)
    start = float(context.start or 0.0) - (first / context.fps if first else 0.0)
    key = (id(owner), context.fps, round(start, 6))
    with _TRACKS_LOCK:
        kept = _TRACKS.get(key)
        if kept is not None and kept[0]() is owner:
            _TRACKS.move_to_end(key)
            return kept[1], first, first + count
    reference = PoseReference(owner if owner is frames else owner.reshape(-1, LANDMARK_COUNT, 4), context.fps, start)
    try:
        entry = (weakref.ref(owner), reference)
    except TypeError:  # lists cannot be weakly referenced: no caching
        return reference, first, first + count
    with _TRACKS_LOCK:
        _TRACKS[key] = entry
        while len(_TRACKS) > _TRACKS_KEPT:
            _TRACKS.popitem(last=False)
    return reference, first, first + count


def _owner_of(frames, fps) -> tuple[object, int]:
    """(the array whose memory a window of frames views, the window's first frame in it), or
    (frames, 0) when the frames are not such a view."""
    base = getattr(frames, "base", None)
    if not (
        fps
        and isinstance(base, np.ndarray)
        and base.dtype == frames.dtype
        and base.flags.c_contiguous
        and frames.flags.c_contiguous
        and frames.shape[1:] == (LANDMARK_COUNT, 4)
        and base.size % _FRAME_VALUES == 0
    ):
        return frames, 0
    offset = frames.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    step = _FRAME_VALUES * frames.itemsize
    if offset >= 0 and offset % step == 0 and offset // step + len(frames) <= base.size // _FRAME_VALUES:
        return base, offset // step
    return frames, 0
