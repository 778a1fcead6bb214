"""What authentication costs per request: `GET auth/me/` with our own token and with a provider's.

In-process (Django's test client, so no HTTP server's noise), production settings, PostgreSQL and
Redis on localhost, the fake identity provider of bench/fake_idp.py. Three variants are measured in
turn within each round, so they share the machine's conditions:

- own_off: our own token, hosted sign-in off (the baseline)
- own_on: our own token, hosted sign-in on (must cost the same: the provider path is never entered)
- provider: a provider's RS256 token, its key set already in Redis

Prints the median per-request time of each variant over the rounds, and the ratios to the baseline.

    .venv/bin/python bench/auth.py --database postgres://postgres@127.0.0.1:5432/bench_auth_oidc --redis redis://127.0.0.1:6379/9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.fake_idp import JWKS_PATH, FakeIdentityProvider

ME = "/api/v1/auth/me/"


def setup(args, idp: FakeIdentityProvider) -> None:
    harness.database_recreate(args.database)
    env = harness.production_env(
        database=args.database,
        redis=args.redis,
        media=Path(tempfile.mkdtemp(prefix="bench-auth-")),
        RATELIMIT_ENABLE="false",
        CACHE_KEY_PREFIX=f"bench-auth-{os.getpid()}",  # a db shared with other benches: never cleared
        ALLOWED_HOSTS="testserver",
        **idp.env(),
    )
    harness.migrate(env)
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

    import django

    django.setup()


def timed(client, token: str, n: int) -> float:
    """Median seconds per request over n requests."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}", secure=True)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/dancecoach_bench_auth")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300, help="per variant and round")
    args = parser.parse_args()

    with FakeIdentityProvider() as idp:
        setup(args, idp)
        from django.conf import settings
        from django.test import Client
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User

        providers = settings.OIDC_PROVIDERS
        own = str(AccessToken.for_user(User.objects.create_user(email="bench@example.com", password=None)))
        external = idp.token("bench-dancer", lifetime=3600)
        client = Client()
        timed(client, external, 5)  # the user is created and the key set fetched once, before timing
        medians = {"own_off": [], "own_on": [], "provider": []}
        for _ in range(args.rounds):
            settings.OIDC_PROVIDERS = []
            medians["own_off"].append(timed(client, own, args.requests))
            settings.OIDC_PROVIDERS = providers
            medians["own_on"].append(timed(client, own, args.requests))
            medians["provider"].append(timed(client, external, args.requests))

    result = {name: statistics.median(values) * 1e6 for name, values in medians.items()}
    print(f"machine: {harness.machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"{args.rounds} rounds x {args.requests} requests per variant; median per request (microseconds):")
    for name, value in result.items():
        print(f"  {name:9} {value:8.0f}   ratio to own_off {value / result['own_off']:.3f}")
    fetches = idp.hits[JWKS_PATH]
    print(f"key set fetches: {fetches} for {args.rounds * args.requests + 5} provider requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
