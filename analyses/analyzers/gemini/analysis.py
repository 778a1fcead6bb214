"""The two calls the pipeline makes: score a dancer's frame, describe the instructor's clip."""

from __future__ import annotations

from typing import Any

from google.genai import types

from analyses.analyzers.base import AnalyzerInput, AnalyzerResult, PermanentAnalyzerError
from analyses.analyzers.gemini.answers import (
    answer_text,
    blocked_reason,
    parse_answer,
    repair_turns,
    safety_error,
    token_usage,
)
from analyses.analyzers.gemini.client import GeminiConfig, generate, get_client, require_key, scrub
from analyses.analyzers.gemini.prompt import (
    build_contents,
    downscale_frame,
    generation_config,
    language_name,
    system_instruction,
    video_part,
)

PROVIDER = "gemini"


def _frame_for_gemini(data: bytes | None) -> tuple[bytes | None, str | None]:
    if data is None:
        return None, None
    try:
        return downscale_frame(data)
    except Exception:  # Pillow raises many exception types for bad images
        raise PermanentAnalyzerError("invalid_frame", "invalid_frame: the frame could not be decoded") from None


def analyze(inp: AnalyzerInput, *, config: GeminiConfig) -> AnalyzerResult:
    """Score the dancer's frame against the reference; one call, plus one repair call if the output is invalid."""
    require_key(config)
    if inp.frame is None and not inp.pose_details:
        raise PermanentAnalyzerError("frame_required", "frame_required: Gemini needs the frame or pose figures")

    frame, frame_mime = _frame_for_gemini(inp.frame)
    client = get_client(config)
    parts, reference_kind, (start, end) = build_contents(inp, config, frame, frame_mime)
    contents: list[types.Content] = [types.Content(role="user", parts=parts)]
    gen_config = generation_config(config, system_instruction=system_instruction(inp.language), json_output=True)

    input_tokens = output_tokens = 0
    repaired = False
    for attempt in range(2):
        response = generate(client, config, contents, gen_config)
        used_in, used_out = token_usage(response)
        input_tokens += used_in
        output_tokens += used_out
        blocked = blocked_reason(response)
        if blocked:
            raise safety_error(blocked, (input_tokens, output_tokens))
        result, raw, problem = parse_answer(response)
        if result is not None:
            break
        if attempt == 0:
            # Exactly one repair: show the model its output and what was wrong.
            contents = contents + repair_turns(raw, problem)
            repaired = True
    else:
        err = PermanentAnalyzerError("invalid_model_output", scrub(f"invalid_model_output: {problem}", config))
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
    require_key(config)
    client = get_client(config)
    start = max(0.0, float(start))
    end = max(start + 0.1, float(end))
    parts = [
        video_part(youtube_id, start, end),
        types.Part.from_text(
            text=(
                "Describe precisely what the instructor's body does in this clip, in order: arms, legs, "
                "knees, torso, head, direction faced, weight shifts and timing. Plain prose, at most 120 words, "
                f"in {language_name(language)}."
            )
        ),
    ]
    gen_config = generation_config(
        config,
        system_instruction="You describe dance moves for a dance coach. Describe movement only, never appearance.",
        json_output=False,
    )
    response = generate(client, config, [types.Content(role="user", parts=parts)], gen_config)
    tokens = token_usage(response)
    blocked = blocked_reason(response)
    if blocked:
        raise safety_error(blocked, tokens)
    text = answer_text(response).strip()
    if not text:
        err = PermanentAnalyzerError("invalid_model_output", "invalid_model_output: the description was empty")
        err.input_tokens, err.output_tokens = tokens  # type: ignore[attr-defined]
        raise err
    return text, tokens[0], tokens[1]
