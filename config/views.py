"""Pages for people rather than API clients."""

from csp.decorators import csp_update
from django.shortcuts import render

# MediaPipe compiles its WebAssembly in the page; the staff page plays a local file (a blob: URL).
_MEDIAPIPE = {"script-src": ["'wasm-unsafe-eval'"], "media-src": ["'self'", "blob:"], "img-src": ["blob:"]}


# MediaPipe compiles its WebAssembly in the page ('wasm-unsafe-eval'); the YouTube IFrame player
# comes from YouTube. Every other asset, MediaPipe's models included, comes from this server.
@csp_update(
    {
        "script-src": ["'wasm-unsafe-eval'", "https://www.youtube.com", "https://s.ytimg.com"],
        "frame-src": ["https://www.youtube.com", "https://www.youtube-nocookie.com"],
        "img-src": ["blob:", "https://i.ytimg.com"],
        "media-src": ["'self'", "blob:"],
    }
)
def home(request):
    """`GET /`: the practice page, the reference client of the public API (docs/frontend.md)."""
    return render(request, "practice.html")


@csp_update(_MEDIAPIPE)
def reference(request):
    """`GET /reference/`: staff record a video's reference pose track from a file, in the browser."""
    return render(request, "reference.html")
