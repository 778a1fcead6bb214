"""The frame is bounded in work and stored without anything after the image's end."""

import base64
import hashlib
import io

import pytest
from PIL import Image

from analyses import frames
from analyses.frames import FrameError, frame_decode
from analyses.models import Analysis
from analyses.tests.factories import submission
from bench.jpeg_bomb import scan_bomb, scan_count

ANALYSES = "/api/v1/analyses/"


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image_bytes(fmt: str, *, size=(64, 64), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 150)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_it_refuses_a_scan_bomb_from_its_markers_without_decoding_it(monkeypatch):
    bomb = scan_bomb(side=4096, scans=3000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the bomb reached the decoder")

    monkeypatch.setattr(frames.Image, "open", no_decoding)
    with pytest.raises(FrameError) as refused:
        frame_decode(encoded(bomb))
    assert refused.value.code == "frame_too_many_scans"


def test_it_accepts_scans_up_to_the_limit_and_refuses_one_more(settings):
    settings.FRAME_JPEG_MAX_SCANS = 8
    at_limit, over = scan_bomb(side=64, scans=2), scan_bomb(side=64, scans=3)
    assert (scan_count(at_limit), scan_count(over)) == (8, 9)
    assert frame_decode(encoded(at_limit)).width == 64
    with pytest.raises(FrameError) as refused:
        frame_decode(encoded(over))
    assert refused.value.code == "frame_too_many_scans"


def test_it_accepts_a_progressive_jpeg_as_encoders_write_it():
    data = image_bytes("JPEG", progressive=True)
    assert scan_count(data) == 10
    assert frame_decode(encoded(data)).data == data


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_keeps_nothing_after_the_end_of_the_image(fmt):
    clean = image_bytes(fmt)
    frame = frame_decode(encoded(clean + b"\x00junk" * 1000 + b"\xff\xd9"))
    assert frame.data == clean
    assert frame.sha256 == hashlib.sha256(clean).hexdigest()


def test_it_keeps_a_jpeg_whose_metadata_holds_an_end_marker_whole():
    thumbnail = image_bytes("JPEG", size=(8, 8))  # an embedded thumbnail ends with its own FFD9
    data = image_bytes("JPEG", exif=b"Exif\x00\x00" + thumbnail)
    assert frame_decode(encoded(data)).data == data


def test_it_refuses_a_jpeg_cut_before_its_end():
    data = image_bytes("JPEG", progressive=True)
    with pytest.raises(FrameError) as refused:
        frame_decode(encoded(data[: len(data) // 2]))
    assert refused.value.code == "invalid_frame"


@pytest.mark.django_db(transaction=True)
def test_it_stores_a_jpeg_with_megabytes_appended_as_the_jpeg_alone(auth_client, settings):
    body = submission()
    clean = base64.b64decode(body["user_frame"])
    body["user_frame"] = encoded(clean + b"\xab" * 5_000_000)
    response = auth_client.post(ANALYSES, body, format="json")
    assert response.status_code in (201, 202), response.json()
    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.frame.size == len(clean)
    assert analysis.frame_sha256 == hashlib.sha256(clean).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_it_answers_an_identical_frame_with_junk_after_it_from_the_result_cache(auth_client):
    body = submission()
    first = auth_client.post(ANALYSES, body, format="json")
    padded = {**body, "user_frame": encoded(base64.b64decode(body["user_frame"]) + b"trailing bytes")}
    second = auth_client.post(ANALYSES, padded, format="json")
    assert first.json()["cached"] is False
    assert second.json()["cached"] is True


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_scan_bomb_submission_with_a_400(auth_client):
    response = auth_client.post(ANALYSES, submission(user_frame=encoded(scan_bomb(scans=3000))), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "frame_too_many_scans"
    assert response.json()["errors"][0]["attr"] == "user_frame"
    assert not Analysis.objects.exists()
