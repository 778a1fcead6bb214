"""Benchmark: CPU one anonymous `GET /api/schema/` costs, drf-spectacular's view against ours.

drf-spectacular's SpectacularAPIView generates and renders the document on every request; the
served view (config/schema.py) generates each language's document once per process and keeps each
rendering. Both are driven in this process through Django's test client with the embedded default
settings, alternating, and timed in CPU seconds of this process; the ratio is of the medians.

Run from the project root: python bench/schema.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.test import RequestFactory  # noqa: E402
from drf_spectacular.views import SpectacularAPIView  # noqa: E402

from bench.harness import machine  # noqa: E402
from config.schema import SchemaApi  # noqa: E402

VARIANTS = {"YAML": "application/vnd.oai.openapi", "JSON": "application/json"}


def cpu_ms(view, accept: str) -> float:
    request = RequestFactory().get("/api/schema/", HTTP_ACCEPT=accept)
    started = time.process_time()
    response = view(request)
    if hasattr(response, "render"):
        response.render()
    assert response.status_code == 200
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    uncached, served = SpectacularAPIView.as_view(), SchemaApi.as_view()
    SchemaApi.cache_clear()
    first = {name: cpu_ms(served, accept) for name, accept in VARIANTS.items()}
    print(f"machine: {machine()}")
    print(f"served view, first request per process: YAML {first['YAML']:.1f} ms, JSON {first['JSON']:.1f} ms CPU")
    for name, accept in VARIANTS.items():
        before, after = [], []
        for _ in range(args.runs):
            before.append(cpu_ms(uncached, accept))
            after.append(cpu_ms(served, accept))
        b, a = statistics.median(before), statistics.median(after)
        print(f"{name}: drf-spectacular {b:.1f} ms, served {a:.2f} ms CPU per request", end=" ")
        print(f"(medians of {args.runs}); ratio {b / a:.0f}")


if __name__ == "__main__":
    main()
