"""YouTube video URLs: the one place in the project that turns a URL into a video id.

Accepted (any letter case in the host, http or https, or no scheme at all):
- `youtube.com/watch?v=ID` with other query parameters before or after, `&t=` or `#t=`;
- `youtube.com/shorts/ID`, `/embed/ID`, `/live/ID`, `/v/ID` (a trailing slash or query is fine);
- `youtu.be/ID`;
- hosts `youtube.com`, `www.`, `m.`, `music.`, and `youtube-nocookie.com` (with or without `www.`).

Refused with `InvalidYouTubeURL` (a ValueError): anything that is not a string, longer
than 2,048 characters, with spaces, control characters or backslashes, another scheme,
another host (look-alikes such as `youtube.com.example.org` included), user info
(`https://youtube.com@evil.com/...`), a port other than the scheme's default, a page
without a video (channels, playlists, search) and ids that are not exactly 11 of
`A-Z a-z 0-9 _ -`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from config.bounds import BIGINT_MAX

MAX_URL_LENGTH = 2048
YOUTUBE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")

_SHORT_HOSTS = frozenset({"youtu.be"})
_LONG_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "music.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }
)
# First path segment (lower case) followed by the id.
_ID_PATH_PREFIXES = frozenset({"shorts", "embed", "live", "v"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Characters no pasted URL needs; urlsplit would silently drop some of them.
_FORBIDDEN_RE = re.compile(r"[\x00-\x20\x7f\\]")


class InvalidYouTubeURL(ValueError):
    """The text is not a URL of one YouTube video; the message says why."""


def is_youtube_id(value: object) -> bool:
    return isinstance(value, str) and YOUTUBE_ID_RE.match(value) is not None


def video_ref_parse(value: str) -> int | str:
    """A video named by its numeric id (an int) or its 11-character YouTube id (a str).

    Digits are a numeric id; ValueError, with a sentence, for anything else or an id no database holds.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which isdigit() but int() refuses
        number = int(value)
        if not 1 <= number <= BIGINT_MAX:
            raise ValueError(f"A numeric video id is between 1 and {BIGINT_MAX}.")
        return number
    if is_youtube_id(value):
        return value
    raise ValueError("Name a video by its numeric id or its 11-character YouTube id.")


def youtube_watch_url(youtube_id: str) -> str:
    """The canonical watch URL of a video id."""
    if not is_youtube_id(youtube_id):
        raise InvalidYouTubeURL("A YouTube video id is exactly 11 letters, digits, '-' or '_'.")
    return f"https://www.youtube.com/watch?v={youtube_id}"


def _checked_id(candidate: str) -> str:
    if not is_youtube_id(candidate):
        raise InvalidYouTubeURL(
            "The video id in this URL is not valid: a YouTube video id is exactly 11 letters, digits, '-' or '_'."
        )
    return candidate


def youtube_id_from_url(url: str) -> str:
    """The 11-character video id of a YouTube video URL, or InvalidYouTubeURL."""
    if not isinstance(url, str):
        raise InvalidYouTubeURL("A YouTube URL must be a string.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidYouTubeURL(f"The URL is longer than {MAX_URL_LENGTH:,} characters.")
    url = url.strip()
    if not url:
        raise InvalidYouTubeURL("The URL is empty.")
    if _FORBIDDEN_RE.search(url):
        raise InvalidYouTubeURL("The URL contains spaces, control characters or backslashes.")
    if url.startswith("//"):
        url = "https:" + url
    elif not _SCHEME_RE.match(url):
        url = "https://" + url

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidYouTubeURL("The URL cannot be parsed.") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidYouTubeURL("A YouTube URL starts with http:// or https://.")
    if "@" in parts.netloc:
        raise InvalidYouTubeURL("A YouTube URL has no user name or password before the host.")
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        raise InvalidYouTubeURL("A YouTube URL has no port number.")
    host = (parts.hostname or "").lower()
    if host.endswith("."):  # the fully qualified form of the same name
        host = host[:-1]

    segments = [s for s in parts.path.split("/") if s]
    if host in _SHORT_HOSTS:
        if len(segments) != 1:
            raise InvalidYouTubeURL("A youtu.be URL is youtu.be/<video id>.")
        return _checked_id(segments[0])
    if host not in _LONG_HOSTS:
        raise InvalidYouTubeURL(f"'{host or url}' is not a YouTube host.")

    first = segments[0].lower() if segments else ""
    if first == "watch" and len(segments) == 1:
        values = parse_qs(parts.query).get("v")
        if not values:
            raise InvalidYouTubeURL("This watch URL has no video id (the v= parameter is missing).")
        return _checked_id(values[0])
    if first in _ID_PATH_PREFIXES:
        if len(segments) != 2:
            raise InvalidYouTubeURL(f"A /{first}/ URL is /{first}/<video id>.")
        return _checked_id(segments[1])
    if first == "playlist" or (first == "" and "list=" in parts.query):
        raise InvalidYouTubeURL("This is a playlist URL; open one video of it and use that video's URL.")
    raise InvalidYouTubeURL("This YouTube URL is not a video (a channel, search or other page?).")
