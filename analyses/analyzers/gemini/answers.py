"""What Gemini answered: token usage, safety blocks, and the JSON result checked against the
contract (with the turns of the one repair request when it does not hold)."""

from __future__ import annotations

import json
from typing import Any

from google.genai import types

from analyses.analyzers.base import PermanentAnalyzerError
from analyses.analyzers.gemini.prompt import RESULT_KEYS

# Caps that keep stored results bounded whatever the model returns.
MAX_LIST_ITEMS = 8
MAX_ITEM_CHARS = 400
MAX_ADVICE_CHARS = 1200
MAX_BAD_OUTPUT_CHARS = 4000

# Candidate finish reasons that mean "blocked", not "malformed".
SAFETY_FINISH_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"})


def blocked_reason(response: types.GenerateContentResponse) -> str | None:
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


def token_usage(response: types.GenerateContentResponse) -> tuple[int, int]:
    usage = response.usage_metadata
    if usage is None:
        return 0, 0
    # Thinking tokens are billed as output, so they count as output here.
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return usage.prompt_token_count or 0, output


class InvalidAnswer(Exception):
    pass


def _clean_list(data: dict, key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidAnswer(f"{key} must be a list of strings")
    items = [item.strip()[:MAX_ITEM_CHARS] for item in value if item.strip()]
    return items[:MAX_LIST_ITEMS]


def _clean_text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidAnswer(f"{key} must be a non-empty string")
    return value.strip()[:MAX_ADVICE_CHARS]


def validate_output(data: Any) -> dict:
    """Check the model's JSON against the contract; returns cleaned fields or raises InvalidAnswer."""
    if not isinstance(data, dict):
        raise InvalidAnswer("the answer must be a JSON object")
    missing = [key for key in RESULT_KEYS if key not in data]
    if missing:
        raise InvalidAnswer(f"missing fields: {', '.join(missing)}")
    score = data["score"]
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if isinstance(score, bool) or not isinstance(score, int):
        raise InvalidAnswer("score must be an integer")
    if not 0 <= score <= 100:
        raise InvalidAnswer(f"score must be between 0 and 100, got {score}")
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


def parse_answer(response: types.GenerateContentResponse) -> tuple[dict | None, str, str]:
    """(cleaned result or None, raw text, what was wrong)."""
    raw = answer_text(response)
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
        except InvalidAnswer as exc:
            problem = str(exc)
    return None, raw, problem


def answer_text(response: types.GenerateContentResponse) -> str:
    # Read the parts directly: `response.text` logs a warning for non-text parts.
    if not response.candidates or not response.candidates[0].content or not response.candidates[0].content.parts:
        return ""
    return "".join(
        part.text for part in response.candidates[0].content.parts if isinstance(part.text, str) and not part.thought
    )


def repair_turns(bad_output: str, problem: str) -> list[types.Content]:
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


def safety_error(reason: str, tokens: tuple[int, int]) -> PermanentAnalyzerError:
    err = PermanentAnalyzerError("blocked_by_safety", f"blocked_by_safety: {reason}")
    err.input_tokens, err.output_tokens = tokens  # type: ignore[attr-defined]  # spent even though it failed
    return err
