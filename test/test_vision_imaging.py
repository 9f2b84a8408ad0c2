"""Input normalisation and clear errors for images and videos the pipelines cannot use."""
import cv2
import numpy as np
import pytest

from pose_estimation_ros.vision.imaging import (
    ImageError,
    VideoReader,
    iter_inputs,
    read_image,
    to_bgr8,
)


def test_grayscale_bgra_and_16_bit_become_bgr8():
    gray = np.full((4, 5), 200, np.uint8)
    assert to_bgr8(gray).shape == (4, 5, 3) and to_bgr8(gray)[0, 0].tolist() == [200] * 3
    bgra = np.zeros((4, 5, 4), np.uint8)
    bgra[..., 2] = 255
    assert to_bgr8(bgra)[0, 0].tolist() == [0, 0, 255]
    deep = np.full((4, 5, 3), 65535, np.uint16)
    assert to_bgr8(deep).dtype == np.uint8 and to_bgr8(deep).max() == 255
    assert to_bgr8(np.full((4, 5, 1), 7, np.uint8)).shape == (4, 5, 3)


@pytest.mark.parametrize("image, message", [
    (np.zeros((0, 5, 3), np.uint8), "empty image"),
    (np.zeros((4, 5, 3), np.float32), "unsupported pixel type"),
    (np.zeros((4, 5, 2), np.uint8), "unsupported image shape"),
    ("not an image", "expected a numpy image"),
])
def test_unusable_images_get_clear_errors(image, message):
    with pytest.raises(ImageError, match=message):
        to_bgr8(image)


def test_corrupt_or_missing_files_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(ImageError, match="cannot read image .*bad.jpg: corrupt JPEG"):
        read_image(bad)
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "none.png")
    video = tmp_path / "bad.mp4"
    video.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ImageError, match="cannot open video|no readable frame"):
        VideoReader(video)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="holds no images"):
        list(iter_inputs(tmp_path / "empty"))


def test_16_bit_png_and_folder_are_read(tmp_path):
    cv2.imwrite(str(tmp_path / "b.png"), np.full((6, 8), 40000, np.uint16))
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((6, 8, 3), np.uint8))
    frames = list(iter_inputs(tmp_path))
    assert [f.name for f in frames] == ["a.png", "b.png"]
    assert frames[1].image.shape == (6, 8, 3) and frames[1].image.max() == 40000 >> 8
