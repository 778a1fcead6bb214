"""Local pose analyzer: the dancer's 33 MediaPipe landmarks against the instructor's track.

Pure Python + numpy, with the per-frame numeric kernels compiled by numba (pose_kernels),
deterministic and fast, so it can run in the request path, in a benchmark, and as grounding
for the Gemini analyzer.

Features are angles in a torso frame (the spine from mid-shoulder to mid-hip), so body size,
distance to the camera and position in the frame do not matter: the direction of each limb
segment (upper arms, forearms, thighs, shins) and of the head relative to the spine, the
lean of the spine against the image vertical, and the interior angles of shoulders, elbows,
hips and knees. Only x and y are used: MediaPipe's z is too noisy to help.

Scoring, against a reference:
1. feature error = |angle difference| / the feature's tolerance (TOLERANCE_DEG), capped;
2. body-part error (left/right arm and leg, torso, head) = visibility-weighted mean of its
   feature errors, capped at PART_CAP (a part that far off is simply wrong);
3. pose error = weighted root mean square of the part errors, so an error concentrated in one
   limb counts for more than the same amount spread over the body as landmark jitter;
4. score = 100 / (1 + (pose error / SCORE_E0) ** SCORE_K): flat while errors look like jitter,
   steep where they look like another pose. Body-part scores use the same curve.
The dancer is compared, as is and mirrored, with every reference frame within +-tolerance
seconds of the timestamp in one compiled pass; the frame with the least pose error wins.

time_offset = timestamp - matched_time: positive means the dancer is late (they match what
the instructor did earlier).

Left and right in feedback and details are the dancer's own. When the mirrored comparison
wins, the dancer is mirroring the instructor (their right arm copies the instructor's left);
details["mirrored"] says so and limbs are still named from the dancer's perspective.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict

import numpy as np

from . import pose_kernels as _kernels
from . import pose_phrases as phrases
from .base import LANDMARK_COUNT, AnalyzerInput, AnalyzerResult, PermanentAnalyzerError, ReferenceContext

PROVIDER = "pose"
POSE_MODEL_VERSION = "pose-v1"

PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")

# Swapping each left landmark with its right twin (MediaPipe order); its own inverse.
MIRROR_PERM = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23])
MIRROR_PERM = np.concatenate((MIRROR_PERM, [26, 25, 28, 27, 30, 29, 32, 31]))

# Torso frame from shoulders and hips ("hips"), or from the shoulder line alone when the hips
# are out of sight ("shoulders"; then the dancer is assumed to face the camera).
HIPS, SHOULDERS = "hips", "shoulders"
_FRAME_LM = {HIPS: [11, 12, 23, 24], SHOULDERS: [11, 12]}

FEATURES = (
    "left_upper_arm", "left_forearm", "right_upper_arm", "right_forearm",
    "left_thigh", "left_shin", "right_thigh", "right_shin", "head", "torso",
    "left_shoulder", "left_elbow", "right_shoulder", "right_elbow",
    "left_hip", "left_knee", "right_hip", "right_knee",
)  # fmt: skip
JOINTS = FEATURES[10:]
_K = len(FEATURES)


def _swap_side(name: str) -> str:
    if name.startswith("left"):
        return "right" + name[4:]
    if name.startswith("right"):
        return "left" + name[5:]
    return name


_FEATURES_SWAPPED = tuple(_swap_side(n) for n in FEATURES)
_SIDE = tuple("left" if n.startswith("left") else "right" if n.startswith("right") else None for n in FEATURES)


def _vector_matrix() -> np.ndarray:
    """Rows turn 33 landmark positions into the 11 vectors the features are angles of."""
    m = np.zeros((11, LANDMARK_COUNT))
    # Limb segments pointing away from the body: upper arm, forearm (left, right), thigh, shin.
    for row, (a, b) in enumerate(((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28))):
        m[row, a], m[row, b] = -1.0, 1.0
    m[8, [0, 11, 12]] = [-1.0, 0.5, 0.5]  # nose -> mid-shoulder: along the spine when upright
    m[9, [11, 12]] = [1.0, -1.0]  # right -> left shoulder
    m[10, [23, 24, 11, 12]] = [0.5, 0.5, -0.5, -0.5]  # mid-shoulder -> mid-hip: the spine, downwards
    return m


def _angle_matrix() -> np.ndarray:
    """Columns turn the 11 vector angles into raw features (before wrapping).

    0-8: segment/head angle relative to the spine (angle - spine); 9: spine vs image-down;
    10-17: joint angle differences (shoulder: upper arm vs spine; elbow: forearm vs upper arm;
    hip: thigh vs spine; knee: shin vs thigh); 18: shoulder line vs spine (facing).
    """
    m = np.zeros((11, 19))
    for k in range(9):
        m[k, k], m[10, k] = 1.0, -1.0
    m[10, 9] = 1.0
    pairs = ((10, 0, 10), (11, 1, 0), (12, 2, 10), (13, 3, 2), (14, 4, 10), (15, 5, 4), (16, 6, 10), (17, 7, 6))
    for col, a, b in pairs:
        m[a, col], m[b, col] = 1.0, -1.0
    m[9, 18], m[10, 18] = 1.0, -1.0
    return m


_VEC = _vector_matrix()
# The mirrored dancer's vectors come from the same landmarks with left and right swapped
# (then x negated), so one matrix product gives both subjects.
_VEC2 = np.vstack((_VEC, _VEC[:, MIRROR_PERM]))
_ANG = _angle_matrix()
# Interior joint angle (0..pi, pi = straight) from the wrapped difference: shoulders take it as
# is, elbows, hips and knees as pi minus it.
_J_OFF = np.array([0.0, np.pi, 0.0, np.pi, np.pi, np.pi, np.pi, np.pi])
_J_SIGN = np.array([1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
# Landmarks each feature depends on (its visibility is their minimum), padded by repetition.
_FEAT_LM = np.array(
    [
        [11, 13, 13, 13], [13, 15, 15, 15], [12, 14, 14, 14], [14, 16, 16, 16],
        [23, 25, 25, 25], [25, 27, 27, 27], [24, 26, 26, 26], [26, 28, 28, 28],
        [0, 11, 12, 12], [11, 12, 23, 24],
        [11, 13, 13, 13], [11, 13, 15, 15], [12, 14, 14, 14], [12, 14, 16, 16],
        [23, 25, 25, 25], [23, 25, 27, 27], [24, 26, 26, 26], [24, 26, 28, 28],
    ]
)  # fmt: skip
_FEAT_LM2 = np.stack((_FEAT_LM, MIRROR_PERM[_FEAT_LM]))

_FEAT_PART = np.array([0, 0, 1, 1, 2, 2, 3, 3, 5, 4, 0, 0, 1, 1, 2, 2, 3, 3])
# Within a part: segment directions carry most, the elbow/knee bend next, the shoulder/hip
# angle least (it mostly repeats the upper segment's direction).
FEAT_W = np.array([0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 1.0, 1.0, 0.15, 0.25, 0.15, 0.25, 0.15, 0.25, 0.15, 0.25])
PART_W = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.25])
_PART_M = np.zeros((_K, len(PARTS)))
_PART_M[np.arange(_K), _FEAT_PART] = 1.0
_GW = PART_W[_FEAT_PART] * FEAT_W / (FEAT_W @ _PART_M)[_FEAT_PART]  # each part's weight shared out
# Error scale of each feature in degrees, about three times its jitter under 2% landmark
# noise. An elbow/knee angle adds two segments' errors, hence sqrt(2); the spine is long and
# steady, so its lean is held tighter.
TOLERANCE_DEG = np.array([35.0] * 8 + [30.0, 20.0] + [35.0, 35.0 * math.sqrt(2)] * 4)
_INV_D0 = 1.0 / np.radians(TOLERANCE_DEG)
ERROR_CAP = 2.5  # feature errors, in tolerances: one wild landmark cannot sink the pose
PART_CAP = 1.0  # part errors: beyond one tolerance a part is simply wrong
SCORE_E0 = 0.52  # pose error scoring 50
SCORE_K = 6.0

# Feedback picks, per part, the first of these whose error (in tolerances) is close to the
# part's worst: the upper segment, then the elbow/knee bend, the lower segment, the shoulder/hip.
_PART_PRIORITY = ([0, 11, 1, 10], [2, 13, 3, 12], [4, 15, 5, 14], [6, 17, 7, 16], [9], [8])
_KIND = (
    "arm", "hand", "arm", "hand", "leg", "foot", "leg", "foot", "head", "torso",
    "shoulder", "elbow", "shoulder", "elbow", "hip", "knee", "hip", "knee",
)  # fmt: skip
_AWAY = {"arm": ("arm_open", "arm_close"), "hand": ("hand_out", "hand_in")}
_AWAY |= {"leg": ("leg_open", "leg_close"), "foot": ("foot_out", "foot_in")}
# Detail figures: limb segments as "away from the midline" angles (sign by side and facing).
# Keyed by (facing the camera, mirrored); head tilt and torso lean towards the dancer's left.
_FIG_MULT = {
    (front, mirrored): np.concatenate(
        ([1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0] if front else [-1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0],
         [1.0 if front == mirrored else -1.0] * 2, [1.0] * 8)
    )
    for front in (True, False)
    for mirrored in (True, False)
}  # fmt: skip

GOOD_PART = 85.0  # a part at or above this is a good point
WEAK_PART = 80.0  # a part below this is an improvement and listed in details["weakest"]
MIN_LIMBS = 2  # arms and legs with a visible upper segment needed to score at all
TIMING_ADVICE_S = 0.25  # |offset| from which timing becomes the advice
TIMING_GOOD_S = 0.1
# Facing away needs the shoulder line clearly reversed in the torso frame (sin below -0.25);
# side-on poses count as facing the camera.
_FACING_MIN = 0.25
# Tie-breaks for the selection, in squared pose-error units (far below any real difference):
# prefer the frame nearest the timestamp (per second away), then the unmirrored comparison.
_TIE_TIME = 1e-4
_TIE_MIRROR = 5e-5
_EPS = 1e-12
_TWO_PI = 2.0 * math.pi
_DEG = 180.0 / math.pi


def score_of(err):
    """Pose (or part) error, in tolerances, to a 0..1 score."""
    return 1.0 / (1.0 + (err / SCORE_E0) ** SCORE_K)


def _wrap(a):
    """Angles to [-pi, pi)."""
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def mirror_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """The pose seen in a mirror: left and right landmarks swapped and x flipped (x -> 1 - x)."""
    out = np.array(landmarks, dtype=np.float64)[..., MIRROR_PERM, :]
    out[..., 0] = 1.0 - out[..., 0]
    return out


def keypoints_array(keypoints) -> np.ndarray:
    """The API's 33 {x, y, z?, visibility?} dicts (or an array) as (33, 4) float64.

    Missing z is 0 and missing visibility 1 (a client without visibility still gets scored).
    """
    return _keypoint_columns(keypoints).T


def _keypoint_columns(keypoints) -> np.ndarray:
    """Keypoints as (4, 33) columns x, y, z, visibility (the layout the dancer's features use)."""
    try:
        if isinstance(keypoints, np.ndarray):
            cols = np.array(keypoints, dtype=np.float64).T
            if cols.ndim == 2 and cols.shape[0] == 3:
                cols = np.vstack((cols, np.ones(cols.shape[1])))
        else:
            xs, ys = [k["x"] for k in keypoints], [k["y"] for k in keypoints]
            zs = [k.get("z") or 0.0 for k in keypoints]
            vs = [k.get("visibility", 1.0) for k in keypoints]
            # Fast path: one flat conversion, taken only when it is plainly 33 finite landmarks
            # (anything else goes the careful way below, which decides the error).
            try:
                flat = np.array(xs + ys + zs + vs, dtype=np.float64)
            except (TypeError, ValueError):
                flat = None
            if flat is not None and flat.shape == (_FRAME_VALUES,) and np.isfinite(flat).all():
                return flat.reshape(4, LANDMARK_COUNT)
            cols = np.array([xs, ys, zs, vs], dtype=np.float64)
            if cols.shape == (4, LANDMARK_COUNT) and not np.isfinite(cols).all():
                # numpy turns an explicit null visibility into NaN: treat it as absent.
                vs = [1.0 if (v := k.get("visibility")) is None else v for k in keypoints]
                cols = np.array([xs, ys, zs, vs], dtype=np.float64)
                if not np.isfinite(cols).all():
                    raise ValueError("not finite")
            elif cols.shape == (4, LANDMARK_COUNT):
                return cols
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise PermanentAnalyzerError("keypoints_invalid", "keypoints must be 33 {x, y, z?, visibility?}") from exc
    if cols.shape != (4, LANDMARK_COUNT) or not np.isfinite(cols).all():
        raise PermanentAnalyzerError("keypoints_invalid", "keypoints must be 33 landmarks of finite numbers")
    return np.ascontiguousarray(cols)  # the layout the compiled kernels are built for


def _finish(ang: np.ndarray, mode: str, shoulder_line) -> np.ndarray:
    """Vector angles (..., 11) to wrapped raw features (..., 19); see _angle_matrix.

    shoulder_line() gives the x and y of the right -> left shoulder vectors when needed.
    """
    if mode == SHOULDERS:
        # The shoulder line turned a quarter towards image-down: the spine of someone facing us.
        sx, sy = shoulder_line()
        ang[..., 10] = np.arctan2(-sy, sx)
    raw = _wrap(ang @ _ANG)
    raw[..., 10:_K] = _J_OFF + _J_SIGN * np.abs(raw[..., 10:_K])
    return raw


def _features(pts: np.ndarray, mode: str):
    """Features of reference poses (..., 33, 4).

    Returns (features (..., K) radians, feature visibility (..., K), facing (...): +1 towards
    the camera, -1 away).
    """
    vis = pts[..., 3]
    vec = _VEC @ pts[..., :2]
    ang = np.arctan2(vec[..., 0], vec[..., 1])  # from image-down, positive towards image +x
    raw = _finish(ang, mode, lambda: (vec[..., 9, 0], vec[..., 9, 1]))
    # The left shoulder lies on the spine's image-right side when the dancer faces the camera.
    facing = np.where(np.sin(raw[..., 18]) < -_FACING_MIN, -1.0, 1.0)
    fvis = vis[..., _FEAT_LM].min(axis=-1)
    fvis[..., 9] = vis[..., _FRAME_LM[mode]].min(axis=-1)  # the torso feature needs the whole frame
    return raw[..., :_K], fvis, facing


def _dancer_features(cols: np.ndarray, mode: str, frame_vis: float):
    """Features of the dancer (columns (4, 33), C-contiguous) as is and mirrored: (2, K) each,
    and the facing.

    Mirroring keeps the facing, so the dancer's own row decides it for both. The vectors come
    from the same matrix products as before; the rest is the compiled kernel.
    """
    feats, fvis, raw18 = _kernels.dancer_features(
        _VEC2 @ cols[0], _VEC2 @ cols[1], cols[3], mode == SHOULDERS, frame_vis, _FEAT_LM2
    )
    facing = -1.0 if math.sin(raw18) < -_FACING_MIN else 1.0
    return feats, fvis, facing


class _Prepared:
    """A reference's features for one torso-frame mode and visibility threshold."""

    __slots__ = ("facing", "feats", "same_facing", "tie", "weights")

    def __init__(self, frames: np.ndarray, tie: np.ndarray, mode: str, thr: float):
        feats, fvis, facing = _features(frames, mode)
        # Contiguous float64 arrays, as the compiled window search takes them.
        self.feats = np.ascontiguousarray(feats, dtype=np.float64)
        # Weights per frame and feature: visibility, zero below the threshold. A frame whose
        # torso is not visible (fvis[:, 9]) cannot be compared: infinite penalty.
        torso = fvis[:, 9:10] >= thr
        self.weights = np.ascontiguousarray(np.where(fvis >= thr, fvis, 0.0) * torso, dtype=np.float64)
        # Time tie-break, or infinity for frames that cannot be compared (|inf - t| is inf).
        self.tie = np.ascontiguousarray(np.where(torso[:, 0], tie, np.inf), dtype=np.float64)
        self.facing = np.ascontiguousarray(facing, dtype=np.float64)
        self.same_facing = float(facing[0]) if len(facing) and (facing == facing[0]).all() else 0.0


class PoseReference:
    """A reference track with its features computed once per torso-frame mode and threshold.

    Build one per track and pass it to `analyze(..., pose_reference=...)`, or let
    `pose_reference_for` cache it by the identity of a ReferenceContext's frames array (which
    must then not be modified in place).
    """

    def __init__(self, frames, fps: float | None = None, start: float = 0.0):
        arr = np.array(frames if frames is not None else [], dtype=np.float64)
        if arr.size == 0:
            arr = np.zeros((0, LANDMARK_COUNT, 4))
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1] != LANDMARK_COUNT or arr.shape[2] not in (3, 4):
            raise PermanentAnalyzerError("reference_invalid", "reference frames must be (n, 33, 4)")
        if arr.shape[2] == 3:
            arr = np.concatenate((arr, np.ones((*arr.shape[:2], 1))), axis=2)
        arr[~np.isfinite(arr).all(axis=2)] = 0.0  # a missing landmark: nowhere, invisible
        self.frames = arr
        self.fps = float(fps) if fps else None
        if self.fps is None and len(arr) > 1:
            raise PermanentAnalyzerError("reference_invalid", "a reference track of several frames needs fps")
        self.start = float(start or 0.0)
        self.times = self.start + np.arange(len(arr)) / (self.fps or 1.0)
        # Tie-break term: prefer the frame nearest the timestamp (none for an untimed pose).
        self.tie = self.times * _TIE_TIME if self.fps else np.zeros(len(arr))
        self._prepared: dict[tuple[str, float], _Prepared] = {}

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def timed(self) -> bool:
        return self.fps is not None

    def prepared(self, mode: str, thr: float) -> _Prepared:
        got = self._prepared.get((mode, thr))
        if got is None:
            got = self._prepared[(mode, thr)] = _Prepared(self.frames, self.tie, mode, thr)
        return got

    def window(self, timestamp: float, tolerance: float) -> tuple[int, int]:
        return reference_window(len(self.frames), self.fps, self.start, timestamp, tolerance)


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


_REF_CACHE: OrderedDict = OrderedDict()
_REF_CACHE_SIZE = 16
_REF_CACHE_LOCK = threading.Lock()
_FRAME_VALUES = LANDMARK_COUNT * 4


def pose_reference_for(ctx: ReferenceContext | PoseReference | None) -> PoseReference | None:
    """The PoseReference of a ReferenceContext (features cached while its frames array lives)."""
    return _resolve_reference(ctx)[0]


def _resolve_reference(ctx) -> tuple[PoseReference | None, int, int]:
    """(PoseReference, first, end): the context's frames are frames [first, end) of it.

    When the context holds a window sliced from a longer track (a numpy view, as the worker
    passes from its per-process track cache), the whole track's features are computed once
    and cached by the identity of the array owning the memory; each call then only reads them.
    """
    if ctx is None:
        return None, 0, 0
    if isinstance(ctx, PoseReference):
        return ctx, 0, len(ctx)
    frames = ctx.frames
    if isinstance(frames, PoseReference):
        return frames, 0, len(frames)
    if frames is None or len(frames) == 0:
        return None, 0, 0
    owner, first, count = frames, 0, len(frames)
    base = getattr(frames, "base", None)
    if (
        ctx.fps
        and isinstance(base, np.ndarray)
        and base.dtype == frames.dtype
        and base.flags.c_contiguous
        and frames.flags.c_contiguous
        and frames.shape[1:] == (LANDMARK_COUNT, 4)
        and base.size % _FRAME_VALUES == 0
    ):
        offset = frames.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        step = _FRAME_VALUES * frames.itemsize
        if offset >= 0 and offset % step == 0 and offset // step + count <= base.size // _FRAME_VALUES:
            owner, first = base, offset // step
    start = float(ctx.start or 0.0) - (first / ctx.fps if first else 0.0)
    key = (id(owner), ctx.fps, round(start, 6))
    with _REF_CACHE_LOCK:
        hit = _REF_CACHE.get(key)
        if hit is not None and hit[0]() is owner:
            _REF_CACHE.move_to_end(key)
            return hit[1], first, first + count
    track = owner if owner is frames else owner.reshape(-1, LANDMARK_COUNT, 4)
    ref = PoseReference(track, ctx.fps, start)
    try:
        entry = (weakref.ref(owner), ref)
    except TypeError:  # lists cannot be weakly referenced: no caching
        return ref, first, first + count
    with _REF_CACHE_LOCK:
        _REF_CACHE[key] = entry
        while len(_REF_CACHE) > _REF_CACHE_SIZE:
            _REF_CACHE.popitem(last=False)
    return ref, first, first + count


def _frame_mode(vis: list[float], thr: float) -> tuple[str, float]:
    """The torso frame the dancer's visible landmarks allow, and its visibility."""
    shoulders = min(vis[11], vis[12])
    hips = min(shoulders, vis[23], vis[24])
    if hips >= thr:
        return HIPS, hips
    if shoulders >= thr:
        return SHOULDERS, shoulders
    raise PermanentAnalyzerError("pose_not_visible", "both shoulders must be visible to score the pose")


def _require_limbs(fvis: np.ndarray, thr: float) -> None:
    seen = sum(v >= thr for v in fvis[0:8:2].tolist())  # upper arms and thighs
    if seen < MIN_LIMBS:
        raise PermanentAnalyzerError(
            "pose_not_visible", f"only {seen} of 4 arms and legs are visible; at least {MIN_LIMBS} are needed"
        )


def _language(language: str | None) -> str:
    return "en" if str(language or "").lower().startswith("en") else "ja"


def analyze(
    inp: AnalyzerInput,
    *,
    tolerance: float = 1.0,
    visibility_threshold: float = 0.5,
    allow_mirror: bool = True,
    pose_reference: PoseReference | None = None,
) -> AnalyzerResult:
    """Score the dancer's keypoints against the reference around inp.timestamp (or form alone).

    `pose_reference` overrides inp.reference: build one per track to compute its features once.
    Raises PermanentAnalyzerError "keypoints_required", "keypoints_invalid", "pose_not_visible"
    or "reference_invalid".
    """
    if inp.keypoints is None:
        raise PermanentAnalyzerError("keypoints_required", "the pose analyzer needs the dancer's 33 pose landmarks")
    cols = _keypoint_columns(inp.keypoints)
    pts = cols.T
    thr = float(visibility_threshold)
    lang = _language(inp.language)
    mode, frame_vis = _frame_mode(cols[3].tolist(), thr)
    feats, fvis, fd = _dancer_features(cols, mode, frame_vis)
    _require_limbs(fvis[0], thr)

    ref, first, end = _resolve_reference(pose_reference if pose_reference is not None else inp.reference)
    if ref is None or len(ref) == 0:
        return _form_only(pts, feats[0], fvis[0], mode, thr, lang, note=None)
    lo, hi = ref.window(inp.timestamp, tolerance)
    lo, hi = max(lo, first), min(hi, end)  # within the frames the caller gave
    if lo >= hi:
        return _form_only(pts, feats[0], fvis[0], mode, thr, lang, note="no_reference_frames_in_window")

    prep = ref.prepared(mode, thr)
    # Every (mirroring, reference frame) pair in one compiled pass. An instructor facing the
    # other way (filmed from behind) is compared limb for limb: their image left/right is
    # flipped to the dancer's facing (flip: frames whose facing differs from the dancer's).
    m_, n = (2 if allow_mirror else 1), hi - lo
    best, err2, e, part_err, pw, w, r = _kernels.window_search(
        feats, fvis, m_, thr, _GW, _INV_D0, ERROR_CAP, PART_CAP, _EPS, prep.feats, prep.weights, prep.facing,
        prep.tie, lo, hi, fd, prep.same_facing != fd, inp.timestamp * _TIE_TIME, _TIE_MIRROR,
    )  # fmt: skip
    if best < 0:
        return _form_only(pts, feats[0], fvis[0], mode, thr, lang, note="no_visible_reference_frames")
    m, j = divmod(best, n)
    return _reference_result(
        lang=lang,
        err=math.sqrt(err2),
        mirrored=m == 1,
        facing=fd,
        ref_facing=float(prep.facing[lo + j]),
        d=feats[m],
        r=r,
        e=e,
        dvis=fvis[m],
        w=w,
        part_err=part_err,
        pw=pw,
        matched_time=float(ref.times[lo + j]) if ref.timed else None,
        timestamp=float(inp.timestamp),
        tolerance=float(tolerance),
        frames=n,
        mode=mode,
    )


def _fill(table: dict, key: str, lang: str, **values) -> tuple[str, str]:
    long, short = table[key][lang]
    return long.format(**values), short.format(**values)


def _fix(k: int, d: float, r: float, facing: float) -> tuple[str, str | None]:
    """(improvement key, subject side or None) moving feature k from d towards r (radians)."""
    kind = _KIND[k]
    side = _SIDE[k]
    if kind in _AWAY:
        # Angle from hanging down, positive away from the body's midline, +-pi overhead.
        out = facing if side == "left" else -facing
        td, tr = float(_wrap(d * out)), float(_wrap(r * out))
        lo, hi = math.radians(15.0), math.radians(165.0)
        if (td > 0) != (tr > 0) and min(abs(td), abs(tr)) > lo and max(abs(td), abs(tr)) < hi:
            return _AWAY[kind][0 if tr > 0 else 1], side
        return f"{kind}_{'raise' if abs(tr) > abs(td) else 'lower'}", side
    if kind == "shoulder":
        return ("arm_raise" if r > d else "arm_lower"), side
    if kind == "hip":
        return ("leg_raise" if r < d else "leg_lower"), side
    if kind == "elbow":
        return ("elbow_straighten" if r > d else "elbow_bend"), side
    if kind == "knee":
        return ("knee_straighten" if r > d else "knee_bend"), side
    # Torso lean / head tilt towards the subject's own left, in radians.
    ld, lr = -d * facing, -r * facing
    straight, tilt = ("torso_upright", "torso_lean") if kind == "torso" else ("head_straight", "head_tilt")
    if abs(lr) < math.radians(5.0):
        return straight, None
    return tilt, ("left" if lr > ld else "right")


def _figures(d, r, e, dvis, facing: float, mirrored: bool) -> list[list[float]]:
    """Per-feature [dancer, reference, difference, score, visibility] in the dancer's own terms.

    Arm and leg segments: degrees from hanging down, positive away from the midline (90 = out
    to the side, 180 = overhead). Torso and head: lean or tilt towards the dancer's own left.
    Joints: interior angle, 180 = straight. Difference = dancer - reference.
    """
    mult = _FIG_MULT[facing > 0.0, mirrored]
    return _kernels.figures(d, r, e, dvis, mult, _DEG, 1.0 / SCORE_E0, SCORE_K).tolist()


def _reference_result(
    *, lang, err, mirrored, facing, ref_facing, d, r, e, dvis, w, part_err, pw, matched_time, timestamp, tolerance,
    frames, mode
) -> AnalyzerResult:  # fmt: skip
    side_words = phrases.SIDES[lang]
    part_names = phrases.PART_NAMES[lang]
    names = _FEATURES_SWAPPED if mirrored else FEATURES  # subject's feature -> the dancer's own name

    def persp(name: str) -> str:
        return _swap_side(name) if mirrored else name

    used = (w > 0.0).tolist()
    err_k = e.tolist()
    figs = [
        {"dancer": a, "reference": b, "difference": c, "score": s, "visibility": v}
        if u
        else {"dancer": None, "reference": None, "difference": None, "score": None, "visibility": v}
        for u, a, b, c, s, v in zip(used, *_figures(d, r, e, dvis, facing, mirrored), strict=True)
    ]
    segments = dict(zip(names[:10], figs[:10], strict=True))
    joints = dict(zip(names[10:], figs[10:], strict=True))

    pw, part_err = pw.tolist(), part_err.tolist()
    seen = [p for p in range(len(PARTS)) if pw[p] > 0.0]
    part_pct = [100.0 * score_of(x) for x in part_err]
    body_parts = {persp(name): (round(part_pct[p], 1) if p in seen else None) for p, name in enumerate(PARTS)}
    weak = [p for p in seen if part_pct[p] < WEAK_PART]
    weakest = [persp(PARTS[p]) for p in sorted(weak, key=lambda p: (part_pct[p], p))]

    # Improvements: weak parts by their share of the pose error, each with the fix of its most
    # telling feature (the first in priority order with an error close to the part's worst).
    d, r = d.tolist(), r.tolist()
    improvements, short_imp = [], []
    for p in sorted(weak, key=lambda p: (-pw[p] * part_err[p] ** 2, p)):
        cands = [k for k in _PART_PRIORITY[p] if used[k]]
        top = max(err_k[k] for k in cands)
        k = next(k for k in cands if err_k[k] >= 0.6 * top)
        key, side = _fix(k, d[k], r[k], facing)
        long, short = _fill(phrases.IMPROVEMENTS, key, lang, side=side_words[persp(side)] if side else "")
        if long not in improvements:
            improvements.append(long)
            short_imp.append(short)
        if len(improvements) == 3:
            break

    pct = 100.0 * score_of(err)
    offset = None if matched_time is None else timestamp - matched_time
    good, short_good = [], []
    for p in sorted(seen, key=lambda p: (-part_pct[p], p)):
        if part_pct[p] >= GOOD_PART and len(good) < 3:
            long, short = _fill(phrases.GOOD_POINTS, "part_match", lang, part=part_names[persp(PARTS[p])])
            good.append(long)
            short_good.append(short)
    if offset is not None and abs(offset) <= TIMING_GOOD_S and pct >= 70.0 and len(good) < 3:
        long, short = _fill(phrases.GOOD_POINTS, "timing", lang)
        good.append(long)
        short_good.append(short)
    if not good and seen:
        closest = min(seen, key=lambda p: (part_err[p], p))
        long, short = _fill(phrases.GOOD_POINTS, "part_closest", lang, part=part_names[persp(PARTS[closest])])
        good.append(long)
        short_good.append(short)

    if offset is not None and abs(offset) >= TIMING_ADVICE_S and pct >= 60.0:
        advice, short_adv = _fill(phrases.ADVICE, "late" if offset > 0 else "early", lang, sec=f"{abs(offset):.1f}")
    elif improvements:
        advice, short_adv = _advice_focus(lang, improvements[0], short_imp[0])
    else:
        advice, short_adv = _fill(phrases.ADVICE, "keep_going", lang)

    details = {
        "mode": "reference",
        "reference": True,
        "score": round(pct, 2),
        "pose_error": round(err, 4),
        "mirrored": bool(mirrored),
        "time_offset": None if offset is None else round(offset, 3),
        "matched_time": None if matched_time is None else round(matched_time, 3),
        "timestamp": round(timestamp, 3),
        "tolerance": tolerance,
        "frames_compared": frames,
        "torso_frame": mode,
        "facing": "camera" if facing > 0 else "away",
        "reference_facing": "camera" if ref_facing > 0 else "away",
        "body_parts": body_parts,
        "weakest": weakest,
        "joints": joints,
        "segments": segments,
    }
    return _result(pct, good, improvements, advice, short_good, short_imp, short_adv, details)


def _advice_focus(lang: str, fix_long: str, fix_short: str) -> tuple[str, str]:
    long_t, short_t = phrases.ADVICE["focus"][lang]
    if lang == "en":
        fix_long = fix_long[0].lower() + fix_long[1:]
    return long_t.format(fix=fix_long), short_t.format(fix=fix_short)


def _result(pct, good, improvements, advice, short_good, short_imp, short_adv, details) -> AnalyzerResult:
    return AnalyzerResult(
        score=int(min(100, max(0, round(pct)))),
        good_points=good,
        improvements=improvements,
        advice=advice,
        short={"good_points": short_good, "improvements": short_imp, "advice": short_adv},
        details=details,
        provider=PROVIDER,
        model=POSE_MODEL_VERSION,
    )


# Form-only mode -------------------------------------------------------------------------

_FORM_LM = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32]
_PART_LM = {
    "left_arm": [11, 13, 15],
    "right_arm": [12, 14, 16],
    "left_leg": [23, 25, 27, 29, 31],
    "right_leg": [24, 26, 28, 30, 32],
    "torso": [11, 12, 23, 24],
    "head": [0],
}
_FEET = [27, 28, 29, 30, 31, 32]
# Share of body mass at segment midpoints (Dempster-style, rounded): head, trunk, upper arms,
# forearms with hands, thighs, shanks with feet.
_MASS = (
    (0.08, [0], [0]),
    (0.50, [11, 12], [23, 24]),
    (0.027, [11], [13]), (0.027, [12], [14]),
    (0.022, [13], [15]), (0.022, [14], [16]),
    (0.10, [23], [25]), (0.10, [24], [26]),
    (0.06, [25], [27]), (0.06, [26], [28]),
)  # fmt: skip
_MASS_TOTAL = sum(w for w, _, _ in _MASS)
_FORM_W = {"in_frame": 0.3, "balance": 0.25, "symmetry": 0.2, "extension": 0.25}
# Extension: 90 degrees or less at elbow/knee scores 0, 160 or more scores 1.
_EXT_LO, _EXT_HI = math.radians(90.0), math.radians(160.0)
_SYM_D0 = math.radians(45.0)


def _form_only(pts, feats, fvis, mode, thr, lang, note) -> AnalyzerResult:
    """Score form alone: in frame, balanced over the feet, left/right symmetric, extended."""
    xy, vis = pts[:, :2], pts[:, 3]
    inside = (vis >= thr) & (xy >= 0.0).all(axis=1) & (xy <= 1.0).all(axis=1)
    comps: dict[str, float | None] = {"in_frame": float(inside[_FORM_LM].mean())}

    # Balance: centre of mass over the base of support (between the outermost visible foot points).
    mid_sh = (xy[11] + xy[12]) * 0.5
    body_len = float(np.hypot(*(((xy[23] + xy[24]) * 0.5) - mid_sh))) if mode == HIPS else 0.0
    body_len = body_len or 1.4 * float(np.hypot(*(xy[11] - xy[12])))
    feet = [i for i in _FEET if vis[i] >= thr]
    if feet and body_len > 0.0:
        com = sum(w * (xy[a, 0].mean() + xy[b, 0].mean()) * 0.5 for w, a, b in _MASS) / _MASS_TOTAL
        fx = xy[feet, 0]
        margin = 0.15 * body_len
        off = max(0.0, float(fx.min()) - margin - com, com - float(fx.max()) - margin)
        comps["balance"] = math.exp(-((off / (0.5 * body_len)) ** 2))
    else:
        comps["balance"] = None

    ok = (fvis >= thr).tolist()
    ang = feats.tolist()
    # Symmetry: matching joint angles left and right (shoulder, elbow, hip, knee pairs).
    sym_arm = [1.0 / (1.0 + (abs(ang[a] - ang[b]) / _SYM_D0) ** 4) for a, b in ((10, 12), (11, 13)) if ok[a] and ok[b]]
    sym_leg = [1.0 / (1.0 + (abs(ang[a] - ang[b]) / _SYM_D0) ** 4) for a, b in ((14, 16), (15, 17)) if ok[a] and ok[b]]
    sym = sym_arm + sym_leg
    comps["symmetry"] = sum(sym) / len(sym) if sym else None
    ext = {
        k: min(1.0, max(0.0, (ang[k] - _EXT_LO) / (_EXT_HI - _EXT_LO))) for k in (11, 13, 15, 17) if ok[k]
    }  # elbows and knees
    comps["extension"] = sum(ext.values()) / len(ext) if ext else None

    weights = {c: _FORM_W[c] for c, v in comps.items() if v is not None}
    pct = 100.0 * sum(weights[c] * comps[c] for c in weights) / sum(weights.values())

    joint_of = {"left_arm": 11, "right_arm": 13, "left_leg": 15, "right_leg": 17}
    body_parts = {}
    for name, lms in _PART_LM.items():
        vals = [float(inside[lms].mean())]
        if name in joint_of and joint_of[name] in ext:
            vals.append(ext[joint_of[name]])
        if name == "torso" and comps["balance"] is not None:
            vals.append(comps["balance"])
        body_parts[name] = round(100.0 * sum(vals) / len(vals), 1)
    weakest = [p for p in sorted(PARTS, key=lambda p: (body_parts[p], PARTS.index(p))) if body_parts[p] < WEAK_PART]

    side_words = phrases.SIDES[lang]
    fixes = []  # (points lost, key, side)
    for c, v in comps.items():
        if v is None or v >= WEAK_PART / 100.0:
            continue
        loss = _FORM_W[c] * (1.0 - v)
        if c == "in_frame":
            fixes.append((loss, "frame_step_back", None))
        elif c == "balance":
            fixes.append((loss, "balance", None))
        elif c == "symmetry":
            arms = sum(sym_arm) / len(sym_arm) if sym_arm else 1.0
            legs = sum(sym_leg) / len(sym_leg) if sym_leg else 1.0
            fixes.append((loss, "symmetry_arms" if arms <= legs else "symmetry_legs", None))
        else:
            k = min(ext, key=lambda k: (ext[k], k))
            fixes.append((loss, "elbow_straighten" if k in (11, 13) else "knee_straighten", _SIDE[k]))
    fixes.sort(key=lambda f: -f[0])
    improvements, short_imp = [], []
    for _, key, side in fixes[:3]:
        long, short = _fill(phrases.IMPROVEMENTS, key, lang, side=side_words.get(side, ""))
        improvements.append(long)
        short_imp.append(short)

    good, short_good = [], []
    for c, key in (
        ("in_frame", "in_frame"),
        ("balance", "balanced"),
        ("symmetry", "symmetric"),
        ("extension", "extended"),
    ):
        if comps[c] is not None and comps[c] >= GOOD_PART / 100.0:
            long, short = _fill(phrases.GOOD_POINTS, key, lang)
            good.append(long)
            short_good.append(short)
    good, short_good = good[:3], short_good[:3]
    if not good:
        best = max(PARTS, key=lambda p: (body_parts[p], -PARTS.index(p)))
        long, short = _fill(phrases.GOOD_POINTS, "part_form", lang, part=phrases.PART_NAMES[lang][best])
        good, short_good = [long], [short]

    if improvements:
        advice, short_adv = _advice_focus(lang, improvements[0], short_imp[0])
    else:
        advice, short_adv = _fill(phrases.ADVICE, "form_keep", lang)

    joints = {}
    for k in range(10, _K):
        joints[FEATURES[k]] = {
            "dancer": round(ang[k] * _DEG, 1) if ok[k] else None,
            "reference": None,
            "difference": None,
            "score": None,
            "visibility": round(float(fvis[k]), 2),
        }
    details = {
        "mode": "form_only",
        "reference": False,
        "score": round(pct, 2),
        "mirrored": False,
        "time_offset": None,
        "matched_time": None,
        "torso_frame": mode,
        "components": {c: None if v is None else round(100.0 * v, 1) for c, v in comps.items()},
        "body_parts": body_parts,
        "weakest": weakest,
        "joints": joints,
    }
    if note:
        details["note"] = note
    return _result(pct, good, improvements, advice, short_good, short_imp, short_adv, details)
