"""The HTTP side: one cached google-genai client per configuration, one request per call,
every failure mapped to an analyzer error with the API key scrubbed out."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from analyses.analyzers.base import AnalyzerError, PermanentAnalyzerError, TransientAnalyzerError


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


def scrub(text: str, config: GeminiConfig) -> str:
    key = config.api_key or ""
    for variant in {key, key.strip()}:
        if len(variant) >= 4:
            text = text.replace(variant, "***")
    return text


def analyzer_error(cls: type[AnalyzerError], code: str, detail: str, config: GeminiConfig) -> AnalyzerError:
    detail = scrub(detail, config)[:500]
    return cls(code, f"{code}: {detail}" if detail else code)


def _map_api_error(exc: genai_errors.APIError, config: GeminiConfig) -> AnalyzerError:
    status = exc.code or 0
    detail = f"HTTP {status} {exc.status or ''} {exc.message or ''}".strip()
    if status == 429:
        return analyzer_error(TransientAnalyzerError, "gemini_rate_limited", detail, config)
    if status == 408:
        return analyzer_error(TransientAnalyzerError, "gemini_timeout", detail, config)
    if status in (401, 403):
        return analyzer_error(PermanentAnalyzerError, "gemini_auth_failed", detail, config)
    if status == 400:
        # The Developer API answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID.
        if "API_KEY_INVALID" in json.dumps(exc.details, default=str):
            return analyzer_error(PermanentAnalyzerError, "gemini_auth_failed", detail, config)
        return analyzer_error(PermanentAnalyzerError, "gemini_bad_request", detail, config)
    if status >= 500:
        return analyzer_error(TransientAnalyzerError, "gemini_unavailable", detail, config)
    return analyzer_error(PermanentAnalyzerError, "gemini_bad_request", detail, config)


def generate(
    client: genai.Client, config: GeminiConfig, contents: Any, gen_config: Any
) -> types.GenerateContentResponse:
    """One generateContent request, with every failure mapped to an analyzer error."""
    try:
        return client.models.generate_content(model=config.model, contents=contents, config=gen_config)
    except genai_errors.APIError as exc:
        err = _map_api_error(exc, config)
    except httpx2.TimeoutException as exc:
        err = analyzer_error(TransientAnalyzerError, "gemini_timeout", type(exc).__name__, config)
    except httpx2.TransportError as exc:
        # Connection refused/reset, protocol errors: the service is not reachable right now.
        err = analyzer_error(TransientAnalyzerError, "gemini_unavailable", f"{type(exc).__name__}: {exc}", config)
    except (json.JSONDecodeError, genai_errors.UnknownApiResponseError) as exc:
        # A 200 whose body is not JSON (e.g. an HTML page from a proxy).
        err = analyzer_error(
            TransientAnalyzerError, "gemini_unavailable", f"unreadable response: {type(exc).__name__}", config
        )
    # `from None`: the SDK's exception text may echo request details; keep only the scrubbed message.
    raise err from None


def require_key(config: GeminiConfig) -> None:
    if not (config.api_key or "").strip():
        raise PermanentAnalyzerError("gemini_not_configured", "gemini_not_configured: no Gemini API key is set")
