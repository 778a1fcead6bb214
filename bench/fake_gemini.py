"""A fake Gemini Developer API on loopback, stdlib only.

It answers `POST /<version>/models/<model>:generateContent` the way google-genai
3.x calls it (API key in the `x-goog-api-key` header, camelCase JSON body), so
the real SDK can be tested and benchmarked without network access.

Use it three ways:

- in tests: ``with FakeGemini() as fake: ...`` then point the client at
  ``fake.base_url``, queue answers with ``fake.script([...])`` and inspect
  ``fake.requests``;
- as a script for the benchmark and fault tests:
  ``python bench/fake_gemini.py --port 8765 --delay 1.5 --fault-rate 0.3``;
- at run time through ``POST /_control`` with a JSON body such as
  ``{"fault_rate": 0.2, "delay": 0.5, "seed": 7, "script": [["status", 429]]}``,
  and ``GET /_stats`` for counters.

Script steps are ``(kind, arg)`` tuples:

- ``("ok", None)``: a plausible answer (JSON result when the request asks for
  JSON, a clip description otherwise); ``("ok", {...})`` answers that dict as
  the model's JSON text; ``("ok", "text")`` answers that text verbatim;
- ``("status", 429)`` or ``("status", {"code": 400, "message": "...", "reason": "API_KEY_INVALID"})``:
  a Google-style error body with that HTTP status;
- ``("malformed", None)``: HTTP 200, but the model's text is not valid JSON;
- ``("garbage", None)``: HTTP 200 whose body is not JSON at all;
- ``("timeout", 5.0)``: sleep that long before answering (the client should
  have given up by then);
- ``("safety", None)``: ``promptFeedback.blockReason = "SAFETY"``, no candidates;
- ``("finish", "SAFETY")``: one candidate with that finish reason and no content.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


class _Server(ThreadingHTTPServer):
    # The default backlog (5) refuses connections when a worker opens a dozen at once.
    request_queue_size = 256
    daemon_threads = True


GENERATE_PATH = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+):generateContent$")

# What a fault picks from when `fault_rate` fires.
FAULT_KINDS = ("status429", "status500", "timeout", "malformed")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class RecordedRequest(NamedTuple):
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the raw text when it was not JSON


def plausible_result(rng: random.Random, japanese: bool) -> dict:
    """A well-formed analysis the way the real model would shape it."""
    score = rng.randint(55, 92)
    if japanese:
        return {
            "score": score,
            "good_points": ["腕の伸びがお手本とよく揃っています。", "リズムに合わせて体重移動ができています。"],
            "improvements": ["右ひざをもう少し深く曲げましょう。", "肩の力を抜いて胸を開きましょう。"],
            "advice": "ひざを柔らかく使い、お手本の重心の低さを意識して踊ってみましょう。",
            "short_good_points": ["腕の伸び", "体重移動"],
            "short_improvements": ["右ひざを深く", "胸を開く"],
            "short_advice": "重心を低く",
        }
    return {
        "score": score,
        "good_points": ["Your arm extension matches the instructor well.", "Your weight shift follows the beat."],
        "improvements": ["Bend your right knee a little deeper.", "Relax your shoulders and open your chest."],
        "advice": "Keep your knees soft and stay as low as the instructor through this move.",
        "short_good_points": ["Arm extension", "Weight shift"],
        "short_improvements": ["Deeper right knee", "Open chest"],
        "short_advice": "Stay low",
    }


def _wants_json(body: Any) -> bool:
    gen = body.get("generationConfig") if isinstance(body, dict) else None
    return isinstance(gen, dict) and gen.get("responseMimeType") == "application/json"


def _mentions_japanese(body: Any) -> bool:
    return "Japanese" in json.dumps(body.get("systemInstruction", {}) if isinstance(body, dict) else {})


class FakeGemini:
    """A programmable fake of the Gemini generateContent endpoint, served from a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        delay: float = 0.0,
        fault_rate: float = 0.0,
        seed: int = 1234,
        timeout_sleep: float = 60.0,
        default: tuple[str, Any] = ("ok", None),
        record: bool = True,
    ):
        self.host = host
        self.port = port
        self.delay = delay
        self.fault_rate = fault_rate
        self.timeout_sleep = timeout_sleep  # how long a random "timeout" fault stalls
        self.default = default
        self.record = record
        self.requests: list[RecordedRequest] = []
        self.stats: Counter = Counter()
        self._rng = random.Random(seed)
        self._queue: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeGemini:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = _Server((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._stopping.clear()
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-gemini", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wake handlers sleeping in "timeout" steps so shutdown is quick.
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- programming -------------------------------------------------------

    def script(self, steps: list[tuple[str, Any]]) -> FakeGemini:
        """Queue answers for the next calls, in order; the default applies once the queue is empty."""
        with self._lock:
            self._queue.extend((kind, arg) for kind, arg in steps)
        return self

    def reset(self, *, seed: int | None = None) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.stats.clear()
            if seed is not None:
                self._rng = random.Random(seed)

    def control(self, data: dict) -> dict:
        """Apply a /_control body; returns the current settings."""
        with self._lock:
            if "fault_rate" in data:
                self.fault_rate = float(data["fault_rate"])
            if "delay" in data:
                self.delay = float(data["delay"])
            if "timeout_sleep" in data:
                self.timeout_sleep = float(data["timeout_sleep"])
            if "seed" in data:
                self._rng = random.Random(int(data["seed"]))
            if data.get("reset"):
                self._queue.clear()
                self.requests.clear()
                self.stats.clear()
            for step in data.get("script") or []:
                self._queue.append((step[0], step[1] if len(step) > 1 else None))
            return {"fault_rate": self.fault_rate, "delay": self.delay, "queued": len(self._queue)}

    # -- answering ---------------------------------------------------------

    def _next_step(self) -> tuple[str, Any]:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            if self.fault_rate > 0 and self._rng.random() < self.fault_rate:
                kind = self._rng.choice(FAULT_KINDS)
                if kind == "status429":
                    return ("status", 429)
                if kind == "status500":
                    return ("status", 500)
                if kind == "timeout":
                    return ("timeout", self.timeout_sleep)
                return ("malformed", None)
            return self.default

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops; True when interrupted."""
        return self._stopping.wait(seconds) if seconds > 0 else False

    def answer(self, body: Any) -> tuple[int, bytes]:
        kind, arg = self._next_step()
        with self._lock:
            self.stats[kind if kind != "status" else f"status_{_status_code(arg)}"] += 1
            rng_seed = self._rng.random()
        if self._sleep(self.delay):
            return 503, _error_body(503, "shutting down")
        rng = random.Random(rng_seed)

        if kind == "ok":
            if isinstance(arg, dict):
                text = json.dumps(arg, ensure_ascii=False)
            elif isinstance(arg, str):
                text = arg
            elif _wants_json(body):
                text = json.dumps(plausible_result(rng, _mentions_japanese(body)), ensure_ascii=False)
            else:
                text = (
                    "The instructor steps to the right on the beat, bends both knees, "
                    "swings the arms up to shoulder height and turns the chest slightly to the left."
                )
            return 200, _ok_body(text)
        if kind == "malformed":
            return 200, _ok_body('{"score": 80, "good_points": ["Nice arms"')
        if kind == "garbage":
            return 200, b"<html>upstream hiccup</html>"
        if kind == "timeout":
            if self._sleep(float(arg if arg is not None else self.timeout_sleep)):
                return 503, _error_body(503, "shutting down")
            return 200, _ok_body(json.dumps(plausible_result(rng, False)))
        if kind == "safety":
            return 200, _json_bytes(
                {
                    "promptFeedback": {"blockReason": "SAFETY"},
                    "usageMetadata": {"promptTokenCount": 258, "totalTokenCount": 258},
                    "modelVersion": "fake",
                }
            )
        if kind == "finish":
            return 200, _json_bytes(
                {
                    "candidates": [{"finishReason": arg or "SAFETY", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 258, "candidatesTokenCount": 0, "totalTokenCount": 258},
                    "modelVersion": "fake",
                }
            )
        if kind == "status":
            spec = arg if isinstance(arg, dict) else {"code": int(arg)}
            code = int(spec["code"])
            return code, _error_body(code, spec.get("message"), spec.get("reason"))
        raise ValueError(f"unknown script step {kind!r}")


def _status_code(arg: Any) -> int:
    return int(arg["code"]) if isinstance(arg, dict) else int(arg)


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def _ok_body(text: str) -> bytes:
    prompt_tokens, output_tokens = 1290, max(1, len(text) // 4)
    return _json_bytes(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": text}], "role": "model"},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
            },
            "modelVersion": "fake",
            "responseId": "fake-response",
        }
    )


def _error_body(code: int, message: str | None = None, reason: str | None = None) -> bytes:
    error: dict[str, Any] = {
        "code": code,
        "message": message or f"fake error {code}",
        "status": _STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if reason:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
        ]
    return _json_bytes({"error": error})


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGemini  # set on the per-server subclass
    protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test and benchmark output quiet

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired)

    def do_GET(self) -> None:
        if self.path == "/_stats":
            with self.fake._lock:
                data = {"calls": sum(self.fake.stats.values()), "answers": dict(self.fake.stats)}
            self._send(200, _json_bytes(data))
        else:
            self._send(404, _error_body(404, "not found"))

    def do_POST(self) -> None:
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")

        if self.path == "/_control":
            self._send(200, _json_bytes(self.fake.control(body if isinstance(body, dict) else {})))
            return

        path = self.path.split("?", 1)[0]
        if self.fake.record:
            with self.fake._lock:
                self.fake.requests.append(
                    RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
        if not GENERATE_PATH.match(path):
            self._send(404, _error_body(404, f"unknown path {path}"))
            return
        if not self.headers.get("x-goog-api-key"):
            self._send(401, _error_body(401, "API key missing."))
            return
        status, payload = self.fake.answer(body)
        self._send(status, payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of calls answered with a fault")
    parser.add_argument("--timeout-sleep", type=float, default=60.0, help="how long a timeout fault stalls")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)

    # Recording every body would grow without bound in a long benchmark.
    fake = FakeGemini(
        args.host,
        args.port,
        delay=args.delay,
        fault_rate=args.fault_rate,
        seed=args.seed,
        timeout_sleep=args.timeout_sleep,
        record=False,
    )
    fake.start()
    print(f"fake gemini listening on {fake.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
