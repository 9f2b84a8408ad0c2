"""vision/headers.py: compressed images checked from their header before decoding."""
import struct
import time

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pose_estimation_ros.transport.image import compressed_to_bgr
from pose_estimation_ros.vision.headers import check_pixels, header_size
from pose_estimation_ros.vision.imaging import ImageError

IMAGE = cv2.resize(np.random.default_rng(3).integers(0, 255, (12, 16, 3), np.uint8), (64, 48))
JPEG = cv2.imencode(".jpg", IMAGE)[1].tobytes()
PNG = cv2.imencode(".png", IMAGE)[1].tobytes()


def _with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
    i = jpeg.find(b"\xff\xc0")
    return jpeg[:i + 5] + struct.pack(">HH", height, width) + jpeg[i + 9:]


def test_sizes_from_the_header():
    assert header_size(JPEG) == ("jpeg", 64, 48) and header_size(PNG) == ("png", 64, 48)


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = _with_sof_size(JPEG, 20000, 20000)  # a few KB declaring 400 megapixels
    start = time.perf_counter()
    with pytest.raises(ImageError, match="20000×20000 = 400,000,000 pixels is over the limit "
                                         "of 40,000,000"):
        compressed_to_bgr("jpeg", bomb)
    assert time.perf_counter() - start < 1.0  # nothing was decoded
    png_bomb = PNG[:16] + struct.pack(">II", 1 << 16, 1 << 15) + PNG[24:]  # 2^31 pixels
    with pytest.raises(ImageError, match="over the limit"):
        compressed_to_bgr("png", png_bomb)
    with pytest.raises(ImageError, match="over the limit of 1,000"):
        compressed_to_bgr("jpeg", JPEG, max_pixels=1000)
    check_pixels(8000, 5000)  # 8K UHD-ish is fine
    with pytest.raises(ImageError, match="empty image"):
        check_pixels(0, 10)


def test_valid_jpegs_that_a_naive_check_calls_corrupt():
    exif = b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00" + JPEG  # a whole JPEG as thumbnail
    with_thumbnail = JPEG[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + JPEG[2:]
    assert compressed_to_bgr("jpeg", with_thumbnail).shape == (48, 64, 3)
    two = JPEG + cv2.imencode(".jpg", IMAGE[::-1])[1].tobytes()  # the first is decoded
    np.testing.assert_array_equal(compressed_to_bgr("jpeg", two), compressed_to_bgr("jpeg", JPEG))
    progressive = cv2.imencode(".jpg", IMAGE, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    assert compressed_to_bgr("jpeg", progressive).shape == (48, 64, 3)
    restarts = cv2.imencode(".jpg", IMAGE, [cv2.IMWRITE_JPEG_RST_INTERVAL, 1])[1].tobytes()
    assert compressed_to_bgr("jpeg", restarts).shape == (48, 64, 3)


def test_damage_and_other_formats_are_reasons_not_crashes():
    sos = JPEG.find(b"\xff\xda")
    cases = {
        JPEG[:len(JPEG) // 2]: "truncated",
        JPEG[:sos] + JPEG[sos:sos + 40] + b"\xff\xc0" + JPEG[sos + 42:]: "invalid marker 0xFFC0",
        JPEG[:2] + JPEG[sos:]: "image data before a frame header",
        b"v/1\x01" + bytes(100): "unsupported compressed image",  # OpenEXR's magic
        PNG[:12] + b"IHDX" + PNG[16:]: "no IHDR header",
    }
    for data, reason in cases.items():
        with pytest.raises(ImageError, match=reason.replace("(", r"\(")):
            compressed_to_bgr("jpeg", data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([JPEG, PNG]), st.integers(0, 10_000), st.binary(max_size=16),
       st.integers(0, 3))
def test_any_damage_gives_an_image_or_an_image_error(base, at, junk, mode):
    """Truncated, overwritten or spliced JPEG and PNG data: decoded, or refused with an
    ImageError; never another exception (OpenCV's included) and never a huge allocation."""
    at %= len(base)
    data = (base[:at], base[:at] + junk + base[at + len(junk):], base[:at] + junk + base[at:],
            junk + base)[mode]
    try:
        image = compressed_to_bgr("x", data)
    except ImageError:
        return
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.size <= 3 * 40_000_000
