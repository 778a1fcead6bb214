"""gunicorn settings of the web service: `gunicorn -c config/gunicorn.py` (scripts/serve, `make serve`).

The ASGI app (config/asgi.py: HTTP through Django's WSGI handler in thread pools, WebSocket on
Channels) under uvicorn workers; bind address, processes and trusted proxies come from settings.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings
from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    # Requests are logged by config.request_id (path without query): uvicorn's access log would
    # repeat them with their query strings.
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "access_log": False}


wsgi_app = "config.asgi:application"
worker_class = Worker
bind = f"{settings.HOST}:{settings.PORT}"
workers = settings.WEB_WORKERS
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
# SIGTERM: stop accepting, let requests in flight finish for up to this long (WebSockets are closed
# with 1012 "service restart"; clients reconnect).
graceful_timeout = 30
timeout = 60  # a worker silent this long is restarted
keepalive = 5
accesslog = None
errorlog = "-"
# The event loop thread waits for the GIL while a request thread runs Python, by default up to
# 5 ms at a time: a shorter wait lets it take and answer requests sooner (docs/benchmarks.md).
GIL_SWITCH_INTERVAL_SECONDS = 0.0005


def post_worker_init(worker):
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
