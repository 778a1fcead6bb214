"""docs/capacity.md: the capacity model, computed from the latest figures in docs/benchmarks.md.

Usage: python scripts/capacity.py [--check]   (--check: exit 1 when docs/capacity.md differs)

Measured inputs are read from docs/benchmarks.md (each bench's "latest" figures; a figure it
cannot find stops the script, so a rewritten benchmark page cannot silently feed it stale numbers).
What no bench here can measure (Gemini's real latency and tokens, the managed services' ceilings)
is an assumption, listed in ASSUMPTIONS and printed in the page beside the figures it moves.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
ENV_EXAMPLE = ROOT / ".env.example"
CAPACITY = ROOT / "docs" / "capacity.md"

DANCERS = (100, 1_000, 10_000)
INTERVALS = (3.0, 5.0)  # docs/api.md: one frame every 3 to 5 seconds while the video plays

ASSUMPTIONS = {
    "gemini_latency_s": (3.0, "seconds a real Gemini analysis holds a worker process (the bench's fake: 1.5 s)"),
    "gemini_input_tokens": (1_500, "input tokens per Gemini analysis (prompt, low-resolution frame, pose figures)"),
    "gemini_output_tokens": (300, "output tokens per Gemini analysis (the structured feedback)"),
    "describe_share": (0.1, "share of analyses that also describe the instructor's clip (cached per second)"),
    "task_overhead_ms": (
        10.0,
        "pose worker CPU per task besides the analyzer (Celery, PostgreSQL, Redis; no S3, no HTTP)",
    ),
    "web_utilization": (0.6, "CPU share a web process is planned at (headroom for bursts and p99)"),
    "sockets_per_process": (2_000, "open WebSockets one websocket process holds (mostly idle, memory-bound)"),
    "pg_rows_per_s_max": (3_000, "row writes/s one 2-core PostgreSQL primary sustains with its indexes"),
    "redis_commands_per_s_max": (80_000, "commands/s one Redis (single-threaded) sustains"),
    "gemini_rpm_quota": (2_000, "Gemini requests a minute the project's quota allows (check your tier)"),
}


@dataclass(frozen=True)
class Measured:
    pose_per_cpu_s: float
    web_cpu_ms: float
    gemini_worker_cpu_ms: float
    gemini_completed_per_s: float
    gemini_slots: int
    gemini_fake_latency_s: float
    pg_rows_per_analysis: float
    redis_commands_per_analysis: float

    @property
    def gemini_efficiency(self) -> float:
        """Completed per second over the worker's bound (slots / latency), from bench/pipeline.py."""
        return self.gemini_completed_per_s / (self.gemini_slots / self.gemini_fake_latency_s)


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}.*?(?=^## |\Z)", text, re.M | re.S)
    if not match:
        sys.exit(f"docs/benchmarks.md has no section '## {heading}'")
    return match.group(0)


def _number(section: str, pattern: str, what: str, group: int = 1) -> float:
    found = re.findall(pattern, section)
    if len(found) != 1:
        sys.exit(f"docs/benchmarks.md: expected one figure for {what} ({pattern!r}), found {len(found)}")
    value = found[0][group - 1] if isinstance(found[0], tuple) else found[0]
    return float(value.replace(",", ""))


def measured(text: str) -> Measured:
    pose = _section(text, "Pose analyzer")
    pipeline = _section(text, "Pipeline")
    hosts = _section(text, "Multi-host")
    bound = r"\*\*([\d.]+) completed/s\*\* against the bound (\d+) / ([\d.]+) s"
    return Measured(
        pose_per_cpu_s=_number(pose, r"\*\*([\d,]+)\*\* frames per CPU second", "pose frames per CPU second"),
        web_cpu_ms=_number(hosts, r"\*\*([\d.]+)\*\* ms of web CPU per", "web CPU per submission"),
        gemini_worker_cpu_ms=_number(hosts, r"\*\*([\d.]+)\*\*\s+ms of worker CPU per", "worker CPU per analysis"),
        gemini_completed_per_s=_number(pipeline, bound, "Gemini pipeline completed/s", 1),
        gemini_slots=int(_number(pipeline, bound, "the worker's processes", 2)),
        gemini_fake_latency_s=_number(pipeline, bound, "the fake Gemini's latency", 3),
        pg_rows_per_analysis=_number(hosts, r"\*\*([\d.]+)\*\* PostgreSQL rows written", "rows per analysis"),
        redis_commands_per_analysis=_number(hosts, r"\*\*([\d.]+)\*\* Redis commands", "Redis commands"),
    )


def gemini_prices() -> tuple[float, float]:
    text = ENV_EXAMPLE.read_text()
    prices = [
        float(re.search(rf"^GEMINI_PRICE_{kind}_PER_MTOK=([\d.]+)", text, re.M).group(1))
        for kind in ("INPUT", "OUTPUT")
    ]
    return prices[0], prices[1]


def row(m: Measured, a: dict, dancers: int, interval: float) -> dict:
    """Everything one load needs: N dancers, one frame each every `interval` seconds."""
    rate = dancers / interval  # analyses per second
    web_per_process = a["web_utilization"] * 1000.0 / m.web_cpu_ms
    gemini_cores = rate * m.gemini_worker_cpu_ms / 1000.0
    pose_cpu = rate * (1.0 / m.pose_per_cpu_s + a["task_overhead_ms"] / 1000.0)
    gemini_calls_per_s = rate * (1.0 + a["describe_share"])
    input_price, output_price = gemini_prices()
    tokens_per_day = rate * 86_400 * (a["gemini_input_tokens"] + a["gemini_output_tokens"])
    cost = rate * 86_400 * (a["gemini_input_tokens"] * input_price + a["gemini_output_tokens"] * output_price) / 1e6
    return {
        "dancers": dancers,
        "rate": rate,
        "web": max(2, math.ceil(rate / web_per_process)),
        "websocket": max(2, math.ceil(dancers / a["sockets_per_process"])),
        "pose_cores": pose_cpu,
        "pose_workers": max(1, math.ceil(pose_cpu / 0.7)),
        "gemini_slots": math.ceil(rate * a["gemini_latency_s"] / m.gemini_efficiency),
        "gemini_cores": gemini_cores,
        "pg_rows": rate * m.pg_rows_per_analysis,
        "redis": rate * m.redis_commands_per_analysis,
        "gemini_rpm": gemini_calls_per_s * 60,
        "tokens_per_day": tokens_per_day,
        "cost_per_day": cost,
    }


def saturation(m: Measured, a: dict, interval: float) -> list[tuple[str, float]]:
    """Dancers at which each shared, not horizontally scaled part reaches its ceiling, first first."""
    limits = [
        ("Gemini quota (requests a minute)", a["gemini_rpm_quota"] / 60 / (1 + a["describe_share"])),
        ("PostgreSQL primary (row writes)", a["pg_rows_per_s_max"] / m.pg_rows_per_analysis),
        ("Redis (commands)", a["redis_commands_per_s_max"] / m.redis_commands_per_analysis),
    ]
    return sorted(((name, per_s * interval) for name, per_s in limits), key=lambda item: item[1])


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(m: Measured, a: dict, interval: float) -> list[str]:
    out = [
        f"### A frame every {interval:g} s",
        "",
        "| dancers | analyses/s | web processes | websocket processes | pose: cores (workers) "
        "| Gemini: worker slots (cores) | PostgreSQL rows/s | Redis commands/s | Gemini requests/min "
        "| Gemini tokens/day | Gemini cost/day |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dancers in DANCERS:
        r = row(m, a, dancers, interval)
        out.append(
            f"| {_n(dancers)} | {_n(r['rate'], 1)} | {r['web']} | {r['websocket']} "
            f"| {_n(r['pose_cores'], 2)} ({r['pose_workers']}) | {_n(r['gemini_slots'])} ({_n(r['gemini_cores'], 1)}) "
            f"| {_n(r['pg_rows'])} "
            f"| {_n(r['redis'])} | {_n(r['gemini_rpm'])} | {_n(r['tokens_per_day'] / 1e6, 1)} M "
            f"| ${_n(r['cost_per_day'])} |"
        )
    limits = saturation(m, a, interval)
    pose_first = next(item for item in limits if not item[0].startswith("Gemini"))
    input_price, output_price = gemini_prices()
    per_hour = (
        3600 / interval * (a["gemini_input_tokens"] * input_price + a["gemini_output_tokens"] * output_price) / 1e6
    )
    out += ["", "Saturates first (dancers at which each shared part reaches its ceiling):", ""]
    out += [f"{i}. {name}: {_n(n)} dancers" for i, (name, n) in enumerate(limits, 1)]
    out += [
        "",
        f"Pose mode: the first ceiling is the {pose_first[0]} at {_n(pose_first[1])} dancers; the pose workers",
        f"need {_n(row(m, a, DANCERS[-1], interval)['pose_cores'], 1)} cores for {_n(DANCERS[-1])} dancers "
        f"({1e6 / m.pose_per_cpu_s:.0f} µs of analyzer a frame, the rest the assumed task overhead).",
        f"Gemini mode: the {limits[0][0]} binds at {_n(limits[0][1])} dancers (raise the quota, or",
        "send Gemini a share of the frames and score the rest with the pose analyzer); one dancer costs",
        f"${per_hour:.2f} an hour of practice. Costs per day above assume that concurrency around the clock.",
        "",
    ]
    return out


def capacity_doc() -> str:
    m = measured(BENCHMARKS.read_text())
    a = {name: value for name, (value, _) in ASSUMPTIONS.items()}
    input_price, output_price = gemini_prices()
    out = [
        "# Capacity",
        "",
        "Generated by `python scripts/capacity.py` from the latest figures in [benchmarks.md](benchmarks.md)",
        "(a test fails when this page and the script disagree). Rerun it after a benchmark changes.",
        "",
        "For N dancers each sending a frame every T seconds (the cadence [api.md](api.md) asks for),",
        "what the deployment needs. Web, websocket and worker processes scale out (compose `--scale`, the",
        "Kubernetes HPA or KEDA, [deployment.md](deployment.md)); PostgreSQL's primary, Redis and the",
        "Gemini quota are shared by all of them, so they are what saturates. Each Gemini-mode analysis",
        "also runs the pose analyzer for grounding, but only when landmarks are sent.",
        "",
        "## Measured (docs/benchmarks.md)",
        "",
        "| input | value | from |",
        "| --- | ---: | --- |",
        f"| pose analyzer, frames per CPU second (worker's path) | {_n(m.pose_per_cpu_s)} | `bench/pose.py` |",
        f"| web CPU per submission (frames to S3) | {m.web_cpu_ms:g} ms | `tests/resilience/test_multi_host.py` |",
        f"| worker CPU per Gemini analysis (same run) | {m.gemini_worker_cpu_ms:g} ms "
        "| `tests/resilience/test_multi_host.py` |",
        f"| Gemini worker efficiency (completed/s over slots / latency) | {m.gemini_efficiency:.2f} "
        f"| `bench/pipeline.py`: {m.gemini_completed_per_s:g}/s, {m.gemini_slots} slots, "
        f"{m.gemini_fake_latency_s:g} s |",
        f"| PostgreSQL rows written per analysis | {m.pg_rows_per_analysis:g} "
        "| `tests/resilience/test_multi_host.py` |",
        f"| Redis commands per analysis (all processes, idle polling included) | {m.redis_commands_per_analysis:g} "
        "| `tests/resilience/test_multi_host.py` |",
        f"| Gemini price per million tokens, input / output | ${input_price:g} / ${output_price:g} "
        "| `GEMINI_PRICE_*` defaults |",
        "",
        "## Assumed (not measurable here; change them in `scripts/capacity.py`)",
        "",
        "| assumption | value | what it means |",
        "| --- | ---: | --- |",
    ]
    out += [f"| `{name}` | {_n(value, 2 if value < 10 else 0)} | {why} |" for name, (value, why) in ASSUMPTIONS.items()]
    out += [
        "",
        "## The model",
        "",
        "- analyses/s = N / T. Web processes = analyses/s ÷ (`web_utilization` × 1000 / web CPU ms per",
        "  submission), at least 2; websocket processes = N ÷ `sockets_per_process`, at least 2.",
        "- Pose workers: CPU = analyses/s × (1 / pose frames per CPU second + `task_overhead_ms`), one",
        "  worker process per core at 70%. Gemini workers are I/O-bound: slots (prefork processes,",
        "  `CELERY_WORKER_CONCURRENCY`, 8 to 16 per core) = analyses/s × `gemini_latency_s` ÷ efficiency,",
        "  and their cores = analyses/s × worker CPU per Gemini analysis.",
        "- Gemini requests/min = analyses/s × 60 × (1 + `describe_share`); tokens and cost per day count",
        "  the analyses (a clip description is cached per second of video and shared by every dancer).",
        "- PostgreSQL rows/s and Redis commands/s = analyses/s × the measured footprint per analysis.",
        "",
        "## Tables (pose columns: every analysis on the pose analyzer; Gemini columns: every one on Gemini)",
        "",
    ]
    for interval in INTERVALS:
        out += table(m, a, interval)
    return "\n".join(out)


def main() -> int:
    text = capacity_doc()
    if "--check" in sys.argv:
        if not CAPACITY.exists() or CAPACITY.read_text() != text:
            print("docs/capacity.md is out of date: run python scripts/capacity.py")
            return 1
        return 0
    CAPACITY.write_text(text)
    print(f"wrote {CAPACITY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
