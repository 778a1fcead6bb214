"""The one seam to the Gemini API (google-genai).

Free of Django: configuration comes in as a `GeminiConfig` that the Django side
builds from settings, so this module can be benchmarked and tested against a
local fake server.

Retries are not done here (Celery retries transient errors with backoff), so the
SDK's own retries are switched off and every call is exactly one HTTP request.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, ImageOps

from .base import (
    AnalyzerError,
    AnalyzerInput,
    AnalyzerResult,
    PermanentAnalyzerError,
    TransientAnalyzerError,
)

PROVIDER = "gemini"

# Caps that keep prompts and stored results bounded whatever the model returns.
MAX_LIST_ITEMS = 8
MAX_ITEM_CHARS = 400
MAX_ADVICE_CHARS = 1200
MAX_POSE_DETAILS_CHARS = 4000
MAX_BAD_OUTPUT_CHARS = 4000

# Candidate finish reasons that mean "blocked", not "malformed".
SAFETY_FINISH_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"})

_RESULT_KEYS = (
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
    "required": list(_RESULT_KEYS),
}


@dataclass(frozen=True)
class GeminiConfig:
    api_key: str = field(repr=False)  # never printed into logs or tracebacks
    model: str
    base_url: str | None = None
    timeout_seconds: float = 30.0
    temperature: float = 0.2
    seed: int = 1234
    max_output_tokens: int = 1024
    media_resolution_low: bool = True
    clip_seconds: float = 2.0
    prompt_version: str = "v1"


# --------------------------------------------------------------------------
# Client cache
# --------------------------------------------------------------------------

_clients: dict[tuple[str, str | None, float], genai.Client] = {}
_clients_lock = threading.Lock()


def _forget_clients_after_fork() -> None:
    # A forked worker must not share the parent's connection pool; the parent's
    # clients are dropped (not closed: their sockets still belong to the parent).
    global _clients_lock
    _clients.clear()
    _clients_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_clients_after_fork)


def get_client(config: GeminiConfig) -> genai.Client:
    """One client per process per (api_key, base_url, timeout), created on first use."""
    key = (config.api_key, config.base_url, float(config.timeout_seconds))
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            http_options = types.HttpOptions(
                timeout=max(1, int(config.timeout_seconds * 1000)),  # the SDK takes milliseconds
                # attempts=1: no SDK-side retries (the SDK's own default is 5 attempts
                # whenever retry_options is set); Celery owns retrying.
                retry_options=types.HttpRetryOptions(attempts=1),
            )
            if config.base_url:
                http_options.base_url = config.base_url
            client = genai.Client(api_key=config.api_key, http_options=http_options)
            _clients[key] = client
        return client


def close_clients() -> None:
    """Close and forget every cached client (tests, worker shutdown)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        with contextlib.suppress(Exception):  # best effort on shutdown
            client.close()


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Prompt
# --------------------------------------------------------------------------


def _offset(seconds: float) -> str:
    """A protobuf Duration string: 12.5 -> "12.5s", 11.0 -> "11s"."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def clip_window(timestamp: float, clip_seconds: float) -> tuple[float, float]:
    half = clip_seconds / 2
    return max(0.0, timestamp - half), timestamp + half


def youtube_url(youtube_id: str) -> str:
    return f"https://www.youtube.com/watch?v={youtube_id}"


def _video_part(youtube_id: str, start: float, end: float) -> types.Part:
    # The model only watches a video passed as a part; a URL in the text is not fetched.
    return types.Part(
        file_data=types.FileData(file_uri=youtube_url(youtube_id), mime_type="video/*"),
        video_metadata=types.VideoMetadata(start_offset=_offset(start), end_offset=_offset(end)),
    )


def _language_name(language: str) -> str:
    return "Japanese" if language == "ja" else "English"


def _system_instruction(language: str) -> str:
    return (
        "You are a friendly, precise dance coach. You compare a dancer's still frame with what the "
        "instructor does in a reference dance video at the same moment. Judge body position only: "
        "arms, legs, knees, torso, head, balance and direction. Never comment on appearance, body "
        "shape, clothing or surroundings. Base every remark on what you can actually see; if the "
        "dancer's body is not fully visible, say so in the improvements. The score is 0 to 100, "
        "where 100 means the pose matches the instructor exactly. Good points and improvements "
        "are one sentence each; the short forms are a few words each for a small screen. "
        f"Write all text in {_language_name(language)}."
    )


def _build_contents(inp: AnalyzerInput, config: GeminiConfig, frame: bytes | None, frame_mime: str | None):
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
        parts.append(_video_part(inp.youtube_id, start, end))

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
                f"Answer in {_language_name(inp.language)}."
            )
        )
    )
    return parts, reference_kind, (start, end)


def _generation_config(config: GeminiConfig, *, system_instruction: str, json_output: bool):
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


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def _scrub(text: str, config: GeminiConfig) -> str:
    key = config.api_key or ""
    for variant in {key, key.strip()}:
        if len(variant) >= 4:
            text = text.replace(variant, "***")
    return text


def _error(cls: type[AnalyzerError], code: str, detail: str, config: GeminiConfig) -> AnalyzerError:
    detail = _scrub(detail, config)[:500]
    return cls(code, f"{code}: {detail}" if detail else code)


def _map_api_error(exc: genai_errors.APIError, config: GeminiConfig) -> AnalyzerError:
    status = exc.code or 0
    detail = f"HTTP {status} {exc.status or ''} {exc.message or ''}".strip()
    if status == 429:
        return _error(TransientAnalyzerError, "gemini_rate_limited", detail, config)
    if status == 408:
        return _error(TransientAnalyzerError, "gemini_timeout", detail, config)
    if status in (401, 403):
        return _error(PermanentAnalyzerError, "gemini_auth_failed", detail, config)
    if status == 400:
        # The Developer API answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID.
        if "API_KEY_INVALID" in json.dumps(exc.details, default=str):
            return _error(PermanentAnalyzerError, "gemini_auth_failed", detail, config)
        return _error(PermanentAnalyzerError, "gemini_bad_request", detail, config)
    if status >= 500:
        return _error(TransientAnalyzerError, "gemini_unavailable", detail, config)
    return _error(PermanentAnalyzerError, "gemini_bad_request", detail, config)


def _call(client: genai.Client, config: GeminiConfig, contents: Any, gen_config: Any) -> types.GenerateContentResponse:
    """One generateContent request, with every failure mapped to an analyzer error."""
    try:
        return client.models.generate_content(model=config.model, contents=contents, config=gen_config)
    except genai_errors.APIError as exc:
        err = _map_api_error(exc, config)
    except httpx2.TimeoutException as exc:
        err = _error(TransientAnalyzerError, "gemini_timeout", type(exc).__name__, config)
    except httpx2.TransportError as exc:
        # Connection refused/reset, protocol errors: the service is not reachable right now.
        err = _error(TransientAnalyzerError, "gemini_unavailable", f"{type(exc).__name__}: {exc}", config)
    except (json.JSONDecodeError, genai_errors.UnknownApiResponseError) as exc:
        # A 200 whose body is not JSON (e.g. an HTML page from a proxy).
        err = _error(TransientAnalyzerError, "gemini_unavailable", f"unreadable response: {type(exc).__name__}", config)
    # `from None`: the SDK's exception text may echo request details; keep only the scrubbed message.
    raise err from None


def _blocked_reason(response: types.GenerateContentResponse) -> str | None:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return f"prompt blocked: {_enum_name(feedback.block_reason)}"
    if response.candidates:
        reason = _enum_name(response.candidates[0].finish_reason)
        if reason in SAFETY_FINISH_REASONS:
            return f"answer blocked: {reason}"
    return None


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _usage(response: types.GenerateContentResponse) -> tuple[int, int]:
    usage = response.usage_metadata
    if usage is None:
        return 0, 0
    # Thinking tokens are billed as output, so they count as output here.
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return usage.prompt_token_count or 0, output


# --------------------------------------------------------------------------
# Output validation
# --------------------------------------------------------------------------


class _InvalidOutput(Exception):
    pass


def _clean_list(data: dict, key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _InvalidOutput(f"{key} must be a list of strings")
    items = [item.strip()[:MAX_ITEM_CHARS] for item in value if item.strip()]
    return items[:MAX_LIST_ITEMS]


def _clean_text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _InvalidOutput(f"{key} must be a non-empty string")
    return value.strip()[:MAX_ADVICE_CHARS]


def validate_output(data: Any) -> dict:
    """Check the model's JSON against the contract; returns cleaned fields or raises _InvalidOutput."""
    if not isinstance(data, dict):
        raise _InvalidOutput("the answer must be a JSON object")
    missing = [key for key in _RESULT_KEYS if key not in data]
    if missing:
        raise _InvalidOutput(f"missing fields: {', '.join(missing)}")
    score = data["score"]
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if isinstance(score, bool) or not isinstance(score, int):
        raise _InvalidOutput("score must be an integer")
    if not 0 <= score <= 100:
        raise _InvalidOutput(f"score must be between 0 and 100, got {score}")
    return {
        "score": score,
        "good_points": _clean_list(data, "good_points"),
        "improvements": _clean_list(data, "improvements"),
        "advice": _clean_text(data, "advice"),
        "short": {
            "good_points": _clean_list(data, "short_good_points"),
            "improvements": _clean_list(data, "short_improvements"),
            "advice": _clean_text(data, "short_advice"),
        },
    }


def _parse(response: types.GenerateContentResponse) -> tuple[dict | None, str, str]:
    """(cleaned result or None, raw text, what was wrong)."""
    raw = _response_text(response)
    candidates: list[Any] = []
    if isinstance(response.parsed, dict):
        candidates.append(response.parsed)
    if raw.strip():
        try:
            candidates.append(json.loads(raw))
        except (ValueError, RecursionError):
            pass
    if not candidates:
        reason = "the answer was empty" if not raw.strip() else "the answer was not valid JSON"
        if response.candidates and _enum_name(response.candidates[0].finish_reason) == "MAX_TOKENS":
            reason += " (it was cut off: keep every text shorter)"
        return None, raw, reason
    problem = ""
    for data in candidates:
        try:
            return validate_output(data), raw, ""
        except _InvalidOutput as exc:
            problem = str(exc)
    return None, raw, problem


def _response_text(response: types.GenerateContentResponse) -> str:
    # Read the parts directly: `response.text` logs a warning for non-text parts.
    if not response.candidates or not response.candidates[0].content or not response.candidates[0].content.parts:
        return ""
    return "".join(
        part.text for part in response.candidates[0].content.parts if isinstance(part.text, str) and not part.thought
    )


def _repair_turns(bad_output: str, problem: str) -> list[types.Content]:
    shown = bad_output[:MAX_BAD_OUTPUT_CHARS] or "(empty answer)"
    return [
        types.Content(role="model", parts=[types.Part.from_text(text=shown)]),
        types.Content(
            role="user",
            parts=[
                types.Part.from_text(
                    text=(
                        f"Your previous answer could not be used: {problem}. "
                        "Answer again with a single JSON object that follows the response schema exactly: "
                        "score is an integer from 0 to 100, the lists contain strings, and advice and "
                        "short_advice are non-empty strings."
                    )
                )
            ],
        ),
    ]


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def _require_key(config: GeminiConfig) -> None:
    if not (config.api_key or "").strip():
        raise PermanentAnalyzerError("gemini_not_configured", "gemini_not_configured: no Gemini API key is set")


def _safety_error(reason: str, tokens: tuple[int, int]) -> PermanentAnalyzerError:
    err = PermanentAnalyzerError("blocked_by_safety", f"blocked_by_safety: {reason}")
    err.input_tokens, err.output_tokens = tokens  # type: ignore[attr-defined]  # spent even though it failed
    return err


def _frame_for_gemini(data: bytes | None) -> tuple[bytes | None, str | None]:
    if data is None:
        return None, None
    try:
        return downscale_frame(data)
    except Exception:  # Pillow raises many exception types for bad images
        raise PermanentAnalyzerError("invalid_frame", "invalid_frame: the frame could not be decoded") from None


def analyze(inp: AnalyzerInput, *, config: GeminiConfig) -> AnalyzerResult:
    """Score the dancer's frame against the reference; one call, plus one repair call if the output is invalid."""
    _require_key(config)
    if inp.frame is None and not inp.pose_details:
        raise PermanentAnalyzerError("frame_required", "frame_required: Gemini needs the frame or pose figures")

    frame, frame_mime = _frame_for_gemini(inp.frame)
    client = get_client(config)
    parts, reference_kind, (start, end) = _build_contents(inp, config, frame, frame_mime)
    contents: list[types.Content] = [types.Content(role="user", parts=parts)]
    gen_config = _generation_config(config, system_instruction=_system_instruction(inp.language), json_output=True)

    input_tokens = output_tokens = 0
    repaired = False
    for attempt in range(2):
        response = _call(client, config, contents, gen_config)
        used_in, used_out = _usage(response)
        input_tokens += used_in
        output_tokens += used_out
        blocked = _blocked_reason(response)
        if blocked:
            raise _safety_error(blocked, (input_tokens, output_tokens))
        result, raw, problem = _parse(response)
        if result is not None:
            break
        if attempt == 0:
            # Exactly one repair: show the model its output and what was wrong.
            contents = contents + _repair_turns(raw, problem)
            repaired = True
    else:
        err = PermanentAnalyzerError("invalid_model_output", _scrub(f"invalid_model_output: {problem}", config))
        err.input_tokens, err.output_tokens = input_tokens, output_tokens  # type: ignore[attr-defined]
        raise err

    details: dict[str, Any] = {
        "prompt_version": config.prompt_version,
        "reference": reference_kind,
        "repaired": repaired,
        "language": inp.language,
        "used_pose_details": bool(inp.pose_details),
    }
    if reference_kind == "video":
        details["clip"] = {"start": round(start, 3), "end": round(end, 3)}
    return AnalyzerResult(
        score=result["score"],
        good_points=result["good_points"],
        improvements=result["improvements"],
        advice=result["advice"],
        short=result["short"],
        details=details,
        provider=PROVIDER,
        model=config.model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def describe_clip(
    *, youtube_id: str, start: float, end: float, language: str, config: GeminiConfig
) -> tuple[str, int, int]:
    """Describe what the instructor does in [start, end] of the video: (text, input_tokens, output_tokens).

    The description is shared by every dancer at that moment (reference-context cache), so it is
    written in the requested language and says nothing about any dancer.
    """
    _require_key(config)
    client = get_client(config)
    start = max(0.0, float(start))
    end = max(start + 0.1, float(end))
    parts = [
        _video_part(youtube_id, start, end),
        types.Part.from_text(
            text=(
                "Describe precisely what the instructor's body does in this clip, in order: arms, legs, "
                "knees, torso, head, direction faced, weight shifts and timing. Plain prose, at most 120 words, "
                f"in {_language_name(language)}."
            )
        ),
    ]
    gen_config = _generation_config(
        config,
        system_instruction="You describe dance moves for a dance coach. Describe movement only, never appearance.",
        json_output=False,
    )
    response = _call(client, config, [types.Content(role="user", parts=parts)], gen_config)
    tokens = _usage(response)
    blocked = _blocked_reason(response)
    if blocked:
        raise _safety_error(blocked, tokens)
    text = _response_text(response).strip()
    if not text:
        err = PermanentAnalyzerError("invalid_model_output", "invalid_model_output: the description was empty")
        err.input_tokens, err.output_tokens = tokens  # type: ignore[attr-defined]
        raise err
    return text, tokens[0], tokens[1]


__all__ = [
    "RESPONSE_SCHEMA",
    "GeminiConfig",
    "analyze",
    "close_clients",
    "describe_clip",
    "downscale_frame",
    "get_client",
]
