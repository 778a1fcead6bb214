"""The one seam to the Gemini API (google-genai).

Free of Django: configuration comes in as a `GeminiConfig` that the Django side builds from
settings, so this package can be benchmarked and tested against a local fake server.
Retries are not done here (Celery retries transient errors with backoff), so the SDK's own
retries are switched off and every call is exactly one HTTP request.

- `client`: the cached client, the request, errors mapped to analyzer errors;
- `prompt`: the response schema, the instruction and the user turn;
- `answers`: token usage, safety blocks, the result checked against the schema;
- `analysis`: the two calls the pipeline makes, `analyze` and `describe_clip`.
"""

from analyses.analyzers.gemini.analysis import PROVIDER, analyze, describe_clip
from analyses.analyzers.gemini.answers import validate_output
from analyses.analyzers.gemini.client import GeminiConfig, close_clients, get_client
from analyses.analyzers.gemini.prompt import RESPONSE_SCHEMA, clip_window, downscale_frame, youtube_url

__all__ = [
    "PROVIDER",
    "RESPONSE_SCHEMA",
    "GeminiConfig",
    "analyze",
    "clip_window",
    "close_clients",
    "describe_clip",
    "downscale_frame",
    "get_client",
    "validate_output",
    "youtube_url",
]
