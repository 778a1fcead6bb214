"""The ASGI application: HTTP through Django's WSGI handler in thread pools, and the live-status
WebSocket on Channels, in one process.

Served by gunicorn with uvicorn workers in production (config/gunicorn.py, `make serve`) and by
uvicorn directly for `make run` (config/run.py). config/serving.py says how HTTP is served.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Set Django up before anything imports models.
django_http = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from analyses.routing import websocket_urlpatterns  # noqa: E402
from config.serving import WsgiThreadPool  # noqa: E402
from config.ws_auth import JwtAuthMiddleware  # noqa: E402


async def lifespan(scope, receive, send):
    """Answer the server's start-up and shut-down messages (nothing to do on either)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# A browser always sends Origin: the API's own hosts and the front-end origins allowed by CORS may
# open the socket (the front end is usually served from another origin than the API).
websocket_origins = [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS]

application = ProtocolTypeRouter(
    {
        "http": WsgiThreadPool(
            django_http,
            threads=settings.WEB_THREADS,
            long_poll_threads=settings.WEB_LONG_POLL_THREADS,
            body_limit=settings.REQUEST_BODY_MAX_BYTES,
            body_timeout=settings.REQUEST_BODY_TIMEOUT_SECONDS,
        ),
        "websocket": OriginValidator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns)), websocket_origins),
        "lifespan": lifespan,
    }
)
