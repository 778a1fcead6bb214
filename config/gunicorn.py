"""gunicorn settings of the web service: `gunicorn -c config/gunicorn.py`.

The ASGI app (HTTP and WebSocket) under uvicorn workers; the number of workers comes from settings
(WEB_WORKERS), the requests in flight per worker from WEB_THREADS (enforced in config/asgi.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings

wsgi_app = "config.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
bind = "0.0.0.0:8000"
workers = settings.WEB_WORKERS
# SIGTERM: stop accepting, let requests in flight finish for up to this long (WebSockets are closed
# with 1012 "service restart"; clients reconnect).
graceful_timeout = 30
timeout = 60  # a worker silent this long is restarted
keepalive = 5
# Each request is logged by config.request_id with its request id; no separate access log.
accesslog = None
errorlog = "-"
