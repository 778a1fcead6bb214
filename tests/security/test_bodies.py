"""Oversized bodies and decompression bombs are refused before they are decoded."""

import base64
import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from analyses.models import Analysis
from analyses.tests.factories import submission

pytestmark = pytest.mark.django_db

ANALYSES = "/api/v1/analyses/"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 40_000) -> bytes:
    """A valid 1-bit PNG of side×side pixels (1.6 billion at 40,000) that compresses to ~200 KB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.fixture
def decodes(monkeypatch):
    """Records every pixel decode Pillow starts."""
    calls = []
    original = ImageFile.ImageFile.load

    def load(self, *args, **kwargs):
        calls.append(self.size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


@pytest.fixture
def b64decodes(monkeypatch):
    from analyses import frames

    calls = []
    original = frames.base64.b64decode

    def b64decode(data, *args, **kwargs):
        if len(data) > 1000:  # not the JWT's small parts
            calls.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(frames.base64, "b64decode", b64decode)
    return calls


@pytest.fixture
def json_parses(monkeypatch):
    from rest_framework import parsers

    calls = []
    original = parsers.json.load

    def load(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(parsers.json, "load", load)
    return calls


def codes(response):
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def test_the_bomb_really_is_one(monkeypatch):
    bomb = png_bomb()
    assert len(bomb) < 1_000_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's own guard would refuse to open it
    with Image.open(io.BytesIO(bomb)) as image:
        assert image.size == (40_000, 40_000)
        assert image.format == "PNG"


def test_a_png_decompression_bomb_is_refused_from_its_header(auth_client, decodes):
    frame = base64.b64encode(png_bomb()).decode()
    r = auth_client.post(ANALYSES, submission(user_frame=frame), format="json")
    assert r.status_code == 400
    assert ("frame_too_many_pixels", "user_frame") in codes(r)
    assert decodes == [], "Pillow started decoding the bomb's pixels"
    assert Analysis.objects.count() == 0


def test_a_bomb_under_pillows_own_limit_is_still_refused_by_ours(auth_client, decodes, settings):
    settings.FRAME_MAX_PIXELS = 1000 * 1000
    frame = base64.b64encode(png_bomb(side=2000)).decode()  # 4 MP: under Pillow's warning, over ours
    r = auth_client.post(ANALYSES, submission(user_frame=frame), format="json")
    assert ("frame_too_many_pixels", "user_frame") in codes(r)
    assert decodes == []


def test_a_frame_whose_base64_is_too_long_is_refused_before_base64_decoding(auth_client, b64decodes, settings):
    settings.FRAME_MAX_BYTES = 64 * 1024
    frame = "A" * (200 * 1024)
    r = auth_client.post(ANALYSES, submission(user_frame=frame), format="json")
    assert ("frame_too_large", "user_frame") in codes(r)
    assert b64decodes == []


def test_a_body_over_the_limit_is_a_413_before_the_json_is_parsed(auth_client, json_parses, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    body = submission(user_frame="A" * (300 * 1024))
    r = auth_client.post(ANALYSES, body, format="json")
    assert r.status_code == 413
    assert codes(r) == [("request_too_large", None)]
    assert json_parses == []
    assert Analysis.objects.count() == 0


def test_the_default_body_limit_refuses_a_9_mib_submission(auth_client, json_parses):
    r = auth_client.post(ANALYSES, submission(user_frame="A" * (9 * 1024 * 1024)), format="json")
    assert r.status_code == 413
    assert json_parses == []


@pytest.mark.parametrize("url", ["/api/v1/auth/login/", "/api/v1/auth/register/", "/api/v1/playlists/"])
def test_every_json_endpoint_has_the_limit(auth_client, json_parses, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = auth_client.post(url, {"email": "a@example.com", "password": "x" * 5000, "name": "y" * 5000}, format="json")
    assert r.status_code == 413
    assert json_parses == []
