"""Decode and bound the dancer's frame before anything is stored.

The format is decided by decoding, not by the `data:` header the client claims, and the
pixel count is read from the image header before any pixel is decoded (decompression bombs).
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
    max_bytes = settings.FRAME_MAX_BYTES
    max_pixels = settings.FRAME_MAX_PIXELS
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
