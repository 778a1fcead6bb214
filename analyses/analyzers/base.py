"""The interface every analyzer shares: input in, validated result or error out.

Kept free of Django so the scoring cores can be benchmarked and reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# MediaPipe Pose: 33 landmarks, this order.
LANDMARK_COUNT = 33


@dataclass(frozen=True)
class ReferenceContext:
    """What the instructor does around the timestamp.

    `frames` is a numpy array (n, 33, 4) of x, y, z, visibility sampled at `fps`,
    starting at `start` seconds of the video; `description` is a cached text
    description of the clip (Gemini only).
    """

    fps: float | None = None
    start: float = 0.0
    frames: Any = None
    description: str | None = None


@dataclass(frozen=True)
class AnalyzerInput:
    frame: bytes | None  # the dancer's frame, already validated (JPEG/PNG/WebP bytes)
    frame_mime: str | None
    keypoints: list[dict] | None  # 33 x {x, y, z?, visibility?} or None
    youtube_id: str
    timestamp: float
    language: str = "ja"  # "ja" or "en"
    reference: ReferenceContext | None = None
    # The pose analyzer's details when keypoints came (grounding for Gemini).
    pose_details: dict | None = None


@dataclass
class AnalyzerResult:
    score: int  # 0..100
    good_points: list[str]
    improvements: list[str]
    advice: str
    short: dict = field(default_factory=dict)  # {"good_points": [...], "improvements": [...], "advice": "..."}
    details: dict = field(default_factory=dict)
    provider: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0


class AnalyzerError(Exception):
    """Base of analyzer failures. `code` is machine-readable and stored on the analysis."""

    transient = False

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code


class TransientAnalyzerError(AnalyzerError):
    """Worth retrying later: rate limited, 5xx, timeout."""

    transient = True


class PermanentAnalyzerError(AnalyzerError):
    """Retrying cannot help: bad input, safety block, output still invalid after repair."""
