"""The embedded default's server (`make run`): uvicorn with reload on HOST/PORT, configured from settings."""

import os

import uvicorn

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings


def main() -> None:
    uvicorn.run(
        "config.asgi:application",
        host=settings.HOST,
        port=settings.PORT,
        reload=settings.DEBUG,
        # Forwarded headers count only from the proxies named in FORWARDED_ALLOW_IPS (none by default).
        proxy_headers=bool(settings.FORWARDED_ALLOW_IPS),
        forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        # Requests are logged by config.request_id, without their query strings.
        access_log=False,
    )


if __name__ == "__main__":
    main()
