"""Reference pose track files: validation, decoding and resampling (numpy only, no Django).

Two JSON formats are accepted:

1. Frames at a fixed rate, frame i at i / fps seconds of the video:
   `{"fps": 30, "frames": [[[x, y, z, visibility], ... 33 landmarks], ...]}`
2. Timed samples, as MediaPipe tooling writes them:
   `[{"t": seconds, "landmarks": [{"x": .., "y": .., "z": .., "visibility": ..}, ... 33]}, ...]`

Every value is a finite JSON number (booleans, strings and nulls are refused), visibility
lies in [0, 1], and x, y, z within +-1000 (MediaPipe gives normalised coordinates).

Timed samples are resampled so that the analyzer always gets a regular track starting
at 0 s (storing the times instead would make every lookup a search):
- the rate is inferred from the median interval between samples, snapped to the closest
  common video rate when within 1% (24, 25, 29.97, 30, 50, 60...), clamped to [MIN_FPS, MAX_FPS];
  a single sample uses DEFAULT_FPS;
- x, y, z and visibility are interpolated linearly between the two samples around each
  grid time;
- a grid time with no sample within half a frame that lies before the first sample, or
  inside a gap longer than GAP_MAX_SECONDS (the instructor was not detected), keeps the
  nearest values but gets visibility 0, so the analyzer ignores it instead of trusting
  an invented pose.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

LANDMARKS = 33
MIN_FPS = 1.0
MAX_FPS = 120.0
DEFAULT_FPS = 30.0
# One hour at 30 fps: 57 MB of float32 once stored.
MAX_FRAMES = 108_000
GAP_MAX_SECONDS = 0.5
COORDINATE_LIMIT = 1000.0
COMMON_FPS = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 90.0, 100.0, 120.0)
_LANDMARK_KEYS = ("x", "y", "z", "visibility")
_NUMBER_TYPES = (int, float)


class InvalidReferenceTrack(ValueError):
    """The file is not a usable reference track. `code` is machine-readable; the message
    names the frame (0-based, in file order) and landmark when one is at fault."""

    def __init__(self, message: str, *, code: str, frame: int | None = None):
        super().__init__(message)
        self.code = code
        self.frame = frame


@dataclass(frozen=True)
class ParsedTrack:
    fps: float
    frames: np.ndarray  # (n, 33, 4) float32, frame i at i / fps seconds

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration(self) -> float:
        return (self.frame_count - 1) / self.fps

    def to_bytes(self) -> bytes:
        return np.ascontiguousarray(self.frames, dtype="<f4").tobytes()


def frames_from_bytes(data: bytes | memoryview, frame_count: int) -> np.ndarray:
    """The stored bytes back as a read-only (n, 33, 4) float32 array (no copy)."""
    return np.frombuffer(data, dtype="<f4").reshape(frame_count, LANDMARKS, 4)


def _is_number(value) -> bool:
    return type(value) in _NUMBER_TYPES  # bool is a subclass of int: refused on purpose


def _check_values(values: np.ndarray, frame: int, where: str) -> None:
    """values: (33, 4) float64 of one frame."""
    finite = np.isfinite(values)
    if not finite.all():
        j = int(np.argwhere(~finite)[0][0])
        raise InvalidReferenceTrack(
            f"{where}, landmark {j}: every value must be a finite number.", code="non_finite_value", frame=frame
        )
    if (np.abs(values[:, :3]) > COORDINATE_LIMIT).any():
        j = int(np.argwhere(np.abs(values[:, :3]) > COORDINATE_LIMIT)[0][0])
        raise InvalidReferenceTrack(
            f"{where}, landmark {j}: x, y and z must lie within +-{COORDINATE_LIMIT:g} (normalised coordinates).",
            code="value_out_of_range",
            frame=frame,
        )
    vis = values[:, 3]
    if ((vis < 0) | (vis > 1)).any():
        j = int(np.argwhere((vis < 0) | (vis > 1))[0][0])
        raise InvalidReferenceTrack(
            f"{where}, landmark {j}: visibility must lie between 0 and 1.", code="value_out_of_range", frame=frame
        )


def _landmark_count_error(frame: int, got) -> InvalidReferenceTrack:
    return InvalidReferenceTrack(
        f"Frame {frame}: expected {LANDMARKS} landmarks, got {got}.", code="wrong_landmark_count", frame=frame
    )


def _array_frame(frame, i: int) -> np.ndarray:
    if not isinstance(frame, list):
        raise InvalidReferenceTrack(
            f"Frame {i}: expected a list of {LANDMARKS} landmarks.", code="invalid_frame", frame=i
        )
    if len(frame) != LANDMARKS:
        raise _landmark_count_error(i, len(frame))
    for j, lm in enumerate(frame):
        if not isinstance(lm, list) or len(lm) != 4:
            raise InvalidReferenceTrack(
                f"Frame {i}, landmark {j}: expected [x, y, z, visibility].", code="invalid_landmark", frame=i
            )
        if not (_is_number(lm[0]) and _is_number(lm[1]) and _is_number(lm[2]) and _is_number(lm[3])):
            raise InvalidReferenceTrack(
                f"Frame {i}, landmark {j}: x, y, z and visibility must be numbers.", code="invalid_landmark", frame=i
            )
    values = np.asarray(frame, dtype=np.float64)
    _check_values(values, i, f"Frame {i}")
    return values


def _timed_frame(item, i: int) -> tuple[float, np.ndarray]:
    if not isinstance(item, dict):
        raise InvalidReferenceTrack(
            f'Frame {i}: expected an object {{"t": seconds, "landmarks": [...]}}.', code="invalid_frame", frame=i
        )
    t = item.get("t")
    if not _is_number(t):
        raise InvalidReferenceTrack(f'Frame {i}: "t" must be a number of seconds.', code="invalid_time", frame=i)
    if not math.isfinite(t) or t < 0:
        raise InvalidReferenceTrack(
            f'Frame {i}: "t" must be a finite number of seconds, 0 or more.', code="invalid_time", frame=i
        )
    landmarks = item.get("landmarks")
    if not isinstance(landmarks, list):
        raise InvalidReferenceTrack(
            f'Frame {i}: "landmarks" must be a list of {LANDMARKS} landmarks.', code="invalid_frame", frame=i
        )
    if len(landmarks) != LANDMARKS:
        raise _landmark_count_error(i, len(landmarks))
    rows = []
    for j, lm in enumerate(landmarks):
        if not isinstance(lm, dict):
            raise InvalidReferenceTrack(
                f"Frame {i}, landmark {j}: expected an object with x, y, z and visibility.",
                code="invalid_landmark",
                frame=i,
            )
        row = [lm.get(k) for k in _LANDMARK_KEYS]
        if not all(_is_number(v) for v in row):
            raise InvalidReferenceTrack(
                f"Frame {i}, landmark {j}: x, y, z and visibility must all be present and numbers.",
                code="invalid_landmark",
                frame=i,
            )
        rows.append(row)
    values = np.asarray(rows, dtype=np.float64)
    _check_values(values, i, f"Frame {i} (t={t:g})")
    return float(t), values


def _check_fps(fps) -> float:
    if not _is_number(fps) or not math.isfinite(fps) or not MIN_FPS <= fps <= MAX_FPS:
        raise InvalidReferenceTrack(f'"fps" must be a number from {MIN_FPS:g} to {MAX_FPS:g}.', code="invalid_fps")
    return float(fps)


def _check_length(count: int) -> None:
    if count == 0:
        raise InvalidReferenceTrack("The track has no frames.", code="empty_track")
    if count > MAX_FRAMES:
        raise InvalidReferenceTrack(
            f"The track has {count:,} frames; at most {MAX_FRAMES:,} are accepted.", code="track_too_long"
        )


def infer_fps(times: np.ndarray) -> float:
    if times.size < 2:
        return DEFAULT_FPS
    raw = 1.0 / float(np.median(np.diff(times)))
    closest = min(COMMON_FPS, key=lambda common: abs(raw - common))
    if abs(raw - closest) <= 0.01 * closest:
        return closest
    return float(min(MAX_FPS, max(MIN_FPS, round(raw, 3))))


def resample(times: np.ndarray, samples: np.ndarray, fps: float) -> np.ndarray:
    """Samples (n, 33, 4) at increasing `times` to a regular grid i / fps from 0 to the last time."""
    last_index = float(times[-1]) * fps
    if not last_index < MAX_FRAMES:  # also catches an overflow to inf
        raise InvalidReferenceTrack(
            f"The track lasts {float(times[-1]):g} s; at most {MAX_FRAMES:,} frames ({MAX_FRAMES / fps:,.0f} s) "
            "are accepted.",
            code="track_too_long",
        )
    count = math.floor(last_index + 1e-6) + 1
    _check_length(count)
    grid = np.arange(count, dtype=np.float64) / fps
    last = times.size - 1
    after = np.searchsorted(times, grid, side="right")
    lo = np.clip(after - 1, 0, last)
    hi = np.clip(after, 0, last)
    t_lo, t_hi = times[lo], times[hi]
    span = t_hi - t_lo
    weight = np.clip(np.divide(grid - t_lo, span, out=np.zeros_like(grid), where=span > 0), 0.0, 1.0)
    out = samples[lo] * (1.0 - weight)[:, None, None] + samples[hi] * weight[:, None, None]

    nearest = np.minimum(np.abs(grid - t_lo), np.abs(t_hi - grid))
    near_a_sample = nearest <= 0.5 / fps + 1e-9
    inside_short_gap = (grid >= times[0]) & (span <= GAP_MAX_SECONDS)
    out[~(near_a_sample | inside_short_gap), :, 3] = 0.0
    return out


def _decode_json(data: bytes | str):
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidReferenceTrack("The file is not UTF-8 text.", code="invalid_json") from exc
    try:
        # NaN and Infinity parse to floats here and are refused below with their frame index.
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise InvalidReferenceTrack(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).", code="invalid_json"
        ) from exc
    except RecursionError as exc:
        raise InvalidReferenceTrack("The file is nested too deeply to be a track.", code="invalid_json") from exc


def parse_track(data) -> ParsedTrack:
    """A validated track from JSON text (bytes or str) or the already decoded value."""
    if isinstance(data, bytes | bytearray | memoryview | str):
        data = _decode_json(data)

    if isinstance(data, dict):
        if "frames" not in data or "fps" not in data:
            raise InvalidReferenceTrack(
                'An object track needs "fps" and "frames": {"fps": 30, "frames": [[[x, y, z, v], ...33], ...]}.',
                code="invalid_format",
            )
        fps = _check_fps(data["fps"])
        frames = data["frames"]
        if not isinstance(frames, list):
            raise InvalidReferenceTrack('"frames" must be a list of frames.', code="invalid_format")
        _check_length(len(frames))
        array = np.empty((len(frames), LANDMARKS, 4), dtype=np.float32)
        for i, frame in enumerate(frames):
            array[i] = _array_frame(frame, i)
        return ParsedTrack(fps=fps, frames=array)

    if isinstance(data, list):
        if not data:
            raise InvalidReferenceTrack("The track has no frames.", code="empty_track")
        if isinstance(data[0], list):
            raise InvalidReferenceTrack(
                'A list track holds {"t", "landmarks"} objects; plain frames go in {"fps": .., "frames": [...]}.',
                code="invalid_format",
            )
        if len(data) > MAX_FRAMES:
            _check_length(len(data))
        times = np.empty(len(data), dtype=np.float64)
        samples = np.empty((len(data), LANDMARKS, 4), dtype=np.float64)
        for i, item in enumerate(data):
            t, values = _timed_frame(item, i)
            if i and t <= times[i - 1]:
                kind = "repeats" if t == times[i - 1] else "comes before"
                raise InvalidReferenceTrack(
                    f"Frame {i}: time {t:g} s {kind} the time of frame {i - 1} ({times[i - 1]:g} s); "
                    "times must be strictly increasing.",
                    code="unsorted_times",
                    frame=i,
                )
            times[i] = t
            samples[i] = values
        fps = infer_fps(times)
        return ParsedTrack(fps=fps, frames=resample(times, samples, fps).astype(np.float32))

    raise InvalidReferenceTrack(
        'A track is {"fps": .., "frames": [...]} or a list of {"t": seconds, "landmarks": [...]}.',
        code="invalid_format",
    )
