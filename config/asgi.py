"""The ASGI application: Django's HTTP and the live-status WebSocket in one process.

Served by gunicorn with uvicorn workers in production (config/gunicorn.py) and by uvicorn
directly for `make run`.
"""

import asyncio
import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Set Django up before anything imports models.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from analyses.routing import websocket_urlpatterns  # noqa: E402
from config.ws_auth import JwtAuthMiddleware  # noqa: E402

# WhiteNoise hands Django a file iterator that is read in a thread under ASGI; Django warns about
# it once per process. Static files are small and few; the warning says nothing actionable.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")


class BoundedConcurrency:
    """At most `limit` HTTP requests of this process run at once; the others wait their turn.

    Django runs each request's sync code in a thread of its own under ASGI: without a bound, a burst
    makes as many threads (and database connections) as requests.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = max(1, int(limit))
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    async def __call__(self, scope, receive, send):
        async with self._semaphore():
            await self.app(scope, receive, send)


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
        "http": BoundedConcurrency(django_http, settings.WEB_THREADS),
        "websocket": OriginValidator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns)), websocket_origins),
        "lifespan": lifespan,
    }
)
