"""What Gemini is asked: the response schema, the system instruction, the user turn (reference clip
or its description, the dancer's frame, pose figures) and the generation settings."""

from __future__ import annotations

import io
import json
from typing import Any

from google.genai import types
from PIL import Image, ImageOps

from analyses.analyzers.base import AnalyzerInput
from analyses.analyzers.gemini.client import GeminiConfig

MAX_POSE_DETAILS_CHARS = 4000  # keeps the prompt bounded whatever the pose analyzer wrote

RESULT_KEYS = (
    "score",
    "good_points",
    "improvements",
    "advice",
    "short_good_points",
    "short_improvements",
    "short_advice",
)


def _string_list(description: str) -> dict:
    return {"type": "array", "items": {"type": "string"}, "maxItems": 5, "description": description}


# Standard JSON Schema (response_json_schema); the SDK passes it through verbatim.
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "description": "How closely the dancer matches the instructor at this moment, 0 to 100.",
        },
        "good_points": _string_list("What the dancer does well, one full sentence each."),
        "improvements": _string_list("Concrete corrections, one full sentence each, most important first."),
        "advice": {"type": "string", "description": "One or two sentences of overall advice."},
        "short_good_points": _string_list("The good points as short phrases for a small screen."),
        "short_improvements": _string_list("The improvements as short phrases for a small screen."),
        "short_advice": {"type": "string", "description": "The advice as one short phrase."},
    },
    "required": list(RESULT_KEYS),
}


def downscale_frame(data: bytes, *, max_side: int = 768) -> tuple[bytes, str]:
    """Bound the long side to `max_side` (JPEG, quality 85); small images pass through unchanged."""
    with Image.open(io.BytesIO(data)) as img:
        mime = Image.MIME.get(img.format or "", "image/jpeg")
        width, height = img.size
        if max(width, height) <= max_side:
            return data, mime
        if img.format == "JPEG":
            # Let libjpeg decode at a reduced scale that is still at least the target size.
            scale = max_side / max(width, height)
            img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        # Phone photos carry their rotation in EXIF; bake it in before it is stripped.
        out = ImageOps.exif_transpose(img)
        out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if out.mode in ("RGBA", "LA", "P"):
            out = out.convert("RGBA")
            background = Image.new("RGB", out.size, (255, 255, 255))
            background.paste(out, mask=out.getchannel("A"))
            out = background
        elif out.mode != "RGB":
            out = out.convert("RGB")
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=85)
        return buf.getvalue(), "image/jpeg"


def _offset(seconds: float) -> str:
    """A protobuf Duration string: 12.5 -> "12.5s", 11.0 -> "11s"."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def clip_window(timestamp: float, clip_seconds: float) -> tuple[float, float]:
    half = clip_seconds / 2
    return max(0.0, timestamp - half), timestamp + half


def youtube_url(youtube_id: str) -> str:
    return f"https://www.youtube.com/watch?v={youtube_id}"


def video_part(youtube_id: str, start: float, end: float) -> types.Part:
    # The model only watches a video passed as a part; a URL in the text is not fetched.
    return types.Part(
        file_data=types.FileData(file_uri=youtube_url(youtube_id), mime_type="video/*"),
        video_metadata=types.VideoMetadata(start_offset=_offset(start), end_offset=_offset(end)),
    )


def language_name(language: str) -> str:
    return "Japanese" if language == "ja" else "English"


def system_instruction(language: str) -> str:
    return (
        "You are a friendly, precise dance coach. You compare a dancer's still frame with what the "
        "instructor does in a reference dance video at the same moment. Judge body position only: "
        "arms, legs, knees, torso, head, balance and direction. Never comment on appearance, body "
        "shape, clothing or surroundings. Base every remark on what you can actually see; if the "
        "dancer's body is not fully visible, say so in the improvements. The score is 0 to 100, "
        "where 100 means the pose matches the instructor exactly. Good points and improvements "
        "are one sentence each; the short forms are a few words each for a small screen. "
        f"Write all text in {language_name(language)}."
    )


def build_contents(inp: AnalyzerInput, config: GeminiConfig, frame: bytes | None, frame_mime: str | None):
    """The user turn: reference, dancer's frame, pose figures, task. Returns (parts, reference_kind, window)."""
    parts: list[types.Part] = []
    start, end = clip_window(inp.timestamp, config.clip_seconds)
    description = inp.reference.description if inp.reference is not None else None
    if description:
        reference_kind = "description"
        parts.append(
            types.Part.from_text(
                text=(
                    f"What the instructor does in the reference video from {start:.1f}s to {end:.1f}s:\n"
                    f"{description.strip()}"
                )
            )
        )
    else:
        reference_kind = "video"
        parts.append(
            types.Part.from_text(
                text=f"Reference: the instructor in the video from {start:.1f}s to {end:.1f}s "
                f"(the dancer's moment is {inp.timestamp:.1f}s)."
            )
        )
        parts.append(video_part(inp.youtube_id, start, end))

    if frame is not None:
        parts.append(
            types.Part.from_text(text=f"The dancer's frame, imitating the instructor at {inp.timestamp:.1f}s:")
        )
        parts.append(types.Part.from_bytes(data=frame, mime_type=frame_mime or "image/jpeg"))

    if inp.pose_details:
        figures = json.dumps(inp.pose_details, ensure_ascii=False, sort_keys=True, default=str)
        if len(figures) > MAX_POSE_DETAILS_CHARS:
            figures = figures[:MAX_POSE_DETAILS_CHARS] + "…"
        parts.append(
            types.Part.from_text(
                text=(
                    "Measurements from a pose estimator for the same frame (joint angles in degrees and "
                    "per-joint scores against the instructor's pose; treat them as hints that can be "
                    f"wrong):\n{figures}"
                )
            )
        )

    parts.append(
        types.Part.from_text(
            text=(
                "Compare the dancer with the instructor at this moment and coach the dancer. "
                f"Answer in {language_name(inp.language)}."
            )
        )
    )
    return parts, reference_kind, (start, end)


def generation_config(config: GeminiConfig, *, system_instruction: str, json_output: bool):
    kwargs: dict[str, Any] = {
        "system_instruction": system_instruction,
        "temperature": config.temperature,
        "seed": config.seed,
        "max_output_tokens": config.max_output_tokens,
        # One call must stay one HTTP request (timeouts, token accounting, Celery retries).
        "automatic_continuation": False,
        # No tools are declared; this only keeps the SDK from logging an AFC line per call.
        "automatic_function_calling": types.AutomaticFunctionCallingConfig(disable=True),
    }
    if json_output:
        kwargs["response_mime_type"] = "application/json"
        kwargs["response_json_schema"] = RESPONSE_SCHEMA
    if config.media_resolution_low:
        kwargs["media_resolution"] = types.MediaResolution.MEDIA_RESOLUTION_LOW
    return types.GenerateContentConfig(**kwargs)
