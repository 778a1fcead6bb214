"""The embedded default's server (`make run`): uvicorn with reload on HOST/PORT, configured from settings."""

import os

import django
import uvicorn
from django.conf import settings
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    django.setup()
    if not settings.DEBUG:
        # Production storage serves the collected manifest only: without it the admin answers 500.
        call_command("collectstatic", "--noinput", verbosity=0)
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
