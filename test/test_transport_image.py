"""transport/image.py: sensor_msgs/Image and CompressedImage payloads to BGR, depth payloads."""
import cv2
import numpy as np
import pytest

from pose_estimation_ros.transport.image import compressed_to_bgr, image_to_bgr
from pose_estimation_ros.vision.imaging import ImageError

BGR = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
GREY = cv2.cvtColor(BGR, cv2.COLOR_BGR2GRAY)


def _encode(encoding: str) -> np.ndarray:
    return {"bgr8": BGR, "rgb8": BGR[..., ::-1],
            "bgra8": cv2.cvtColor(BGR, cv2.COLOR_BGR2BGRA),
            "rgba8": cv2.cvtColor(BGR, cv2.COLOR_BGR2RGBA), "mono8": GREY,
            "mono16": GREY.astype(np.uint16) * 257}[encoding]


def _payload(pixels: np.ndarray, pad: int, big_endian: bool = False) -> tuple[bytes, int]:
    if pixels.dtype == np.uint16:
        pixels = pixels.astype(">u2" if big_endian else "<u2")
    rows = pixels.reshape(pixels.shape[0], -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((rows.shape[0], pad), 77, np.uint8)], axis=1)
    return padded.tobytes(), padded.shape[1]


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16"])
@pytest.mark.parametrize("pad", [0, 3])
def test_image_encodings_with_and_without_row_padding(encoding, pad):
    data, step = _payload(_encode(encoding), pad)
    out = image_to_bgr(encoding, 7, 5, step, data)
    expected = cv2.cvtColor(GREY, cv2.COLOR_GRAY2BGR) if encoding.startswith("mono") else BGR
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)


def test_big_endian_mono16():
    data, step = _payload(_encode("mono16"), 0, big_endian=True)
    np.testing.assert_array_equal(image_to_bgr("mono16", 7, 5, step, data, is_bigendian=True),
                                  cv2.cvtColor(GREY, cv2.COLOR_GRAY2BGR))


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_compressed_frames(ext):
    ok, buf = cv2.imencode(ext, BGR)
    out = compressed_to_bgr(ext[1:], buf.tobytes())
    assert out.shape == BGR.shape
    if ext == ".png":
        np.testing.assert_array_equal(out, BGR)


@pytest.mark.parametrize("encoding,match", [
    ("bayer_rggb8", "unsupported image encoding"), ("yuv422", "unsupported image encoding"),
    ("32FC1", "unsupported image encoding")])
def test_unsupported_encodings_are_clear_errors(encoding, match):
    with pytest.raises(ImageError, match=match):
        image_to_bgr(encoding, 7, 5, 7 * 4, bytes(7 * 4 * 5))


def test_wrong_step_truncated_and_empty_images_are_clear_errors():
    data, step = _payload(BGR, 0)
    with pytest.raises(ImageError, match="step 20 is smaller"):
        image_to_bgr("bgr8", 7, 5, 20, data)
    with pytest.raises(ImageError, match="truncated"):
        image_to_bgr("bgr8", 7, 5, step, data[:-5])
    with pytest.raises(ImageError, match="empty"):
        image_to_bgr("bgr8", 0, 0, 0, b"")
    ok, buf = cv2.imencode(".jpg", BGR)
    with pytest.raises(ImageError, match=r"corrupt JPEG \(10 bytes\): truncated \(a header"):
        compressed_to_bgr("jpeg", buf.tobytes()[:10])
    data = buf.tobytes()
    header_only = data[:data.find(b"\xff\xda")] + b"\xff\xd9"
    with pytest.raises(ImageError, match="corrupt JPEG .*no image data \\(header only\\)"):
        compressed_to_bgr("jpeg", header_only)
    with pytest.raises(ImageError, match="unsupported compressed image .*JPEG and PNG are read"):
        compressed_to_bgr("png", buf.tobytes()[2:])
    png = cv2.imencode(".png", BGR)[1].tobytes()
    with pytest.raises(ImageError, match="cannot decode compressed image"):  # a damaged PNG
        compressed_to_bgr("png", png[:40] + bytes(64) + png[104:])
    with pytest.raises(ImageError, match="empty compressed"):
        compressed_to_bgr("jpeg", b"")
