"""Decode and bound the dancer's frame before anything is stored.

The format is decided by decoding, not by the `data:` header the client claims, and the
pixel count is read from the image header before any pixel is decoded (decompression bombs).
The work of decoding is bounded too: a progressive JPEG is decoded once per scan, so its scans
are counted from the markers first. Only the image itself is kept: bytes after its end are cut.
"""

import base64
import binascii
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=-]+)*;base64,", re.IGNORECASE)
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers that stand alone (no length follows): TEM, RST0-7, SOI.
_JPEG_BARE_MARKERS = {0x01, *range(0xD0, 0xD8), 0xD8}
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9


class FrameError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Frame:
    data: bytes
    mime: str
    extension: str
    sha256: str
    width: int
    height: int


def frame_decode(encoded: str) -> Frame:
    max_pixels = settings.FRAME_MAX_PIXELS
    data = image_trimmed(_frame_bytes(encoded))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in _FORMATS:
                raise FrameError("unsupported_frame_format", "The frame must be a JPEG, PNG or WebP image.")
            width, height = image.size
            if width * height > max_pixels:
                raise FrameError("frame_too_many_pixels", f"The frame has more than {max_pixels} pixels.")
            if image.format == "JPEG":
                # Decode at 1/8 scale: every scan is still read (truncation and corruption still
                # fail), most of the inverse DCT is skipped. Nothing here keeps the pixels.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()  # decode fully: a truncated or corrupt file fails here
    except FrameError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FrameError("frame_too_many_pixels", f"The frame has more than {max_pixels} pixels.") from None
    except UnidentifiedImageError:
        raise FrameError("invalid_frame", "The frame is not a readable image.") from None
    except (OSError, SyntaxError, ValueError):
        raise FrameError("invalid_frame", "The frame is not a readable image.") from None
    mime, extension = _FORMATS[image.format]
    return Frame(
        data=data, mime=mime, extension=extension, sha256=hashlib.sha256(data).hexdigest(), width=width, height=height
    )


def _frame_bytes(encoded: str) -> bytes:
    max_bytes = settings.FRAME_MAX_BYTES
    text = _DATA_URL.sub("", encoded.strip(), count=1)
    text = re.sub(r"\s+", "", text)
    # Refuse before decoding when the base64 alone is too long for the byte limit.
    if len(text) * 3 // 4 > max_bytes + 3:
        raise FrameError("frame_too_large", f"The frame is larger than {max_bytes} bytes.")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise FrameError("invalid_base64", "The frame is not valid base64.") from None
    if not data:
        raise FrameError("invalid_frame", "The frame is empty.")
    if len(data) > max_bytes:
        raise FrameError("frame_too_large", f"The frame is larger than {max_bytes} bytes.")
    return data


def image_trimmed(data: bytes) -> bytes:
    """The image without anything after its end; a JPEG with more scans than allowed is refused.

    Formats other than JPEG, PNG and WebP are returned as they are (decoding refuses them)."""
    if data.startswith(b"\xff\xd8\xff"):
        return data[: _jpeg_end(data, max_scans=settings.FRAME_JPEG_MAX_SCANS)]
    if data.startswith(_PNG_SIGNATURE):
        return data[: _png_end(data)]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        end = 8 + int.from_bytes(data[4:8], "little")
        if end > len(data):
            raise FrameError("invalid_frame", "The frame is not a complete WebP image.")
        return data[:end]
    return data


def _jpeg_end(data: bytes, *, max_scans: int) -> int:
    """Where the end-of-image marker ends, walking the segments from the start of image."""
    i, scans, size = 2, 0, len(data)
    while i + 1 < size:
        if data[i] != 0xFF:  # stray bytes between segments: libjpeg skips them too
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == _JPEG_EOI:
            return i + 2
        if marker in _JPEG_BARE_MARKERS:
            i += 2
            continue
        if i + 4 > size:
            break
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == _JPEG_SOS:
            scans += 1
            if scans > max_scans:
                raise FrameError(
                    "frame_too_many_scans", f"The frame is a JPEG of more than {max_scans} scans; send a baseline JPEG."
                )
            i = _entropy_coded_end(data, i)
    raise FrameError("invalid_frame", "The frame is not a complete JPEG image.")


def _entropy_coded_end(data: bytes, i: int) -> int:
    """Where a scan's coded data ends: the first 0xFF that starts a marker other than a restart."""
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= len(data):
            return len(data)
        follower = data[i + 1]
        if follower == 0xFF:  # fill bytes: the marker comes after them
            i += 1
        elif follower == 0x00 or 0xD0 <= follower <= 0xD7:  # a stuffed 0xFF, or a restart marker
            i += 2
        else:
            return i


def _png_end(data: bytes) -> int:
    """Where the IEND chunk ends: each chunk is length, type, data and CRC."""
    i, size = len(_PNG_SIGNATURE), len(data)
    while i + 12 <= size:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND" and i <= size:
            return i
    raise FrameError("invalid_frame", "The frame is not a complete PNG image.")
