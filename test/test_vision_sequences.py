"""vision/sequences.py: which folders are image sequences, and colour/depth pairing by name."""
import shutil

import cv2
import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.vision.imaging import ImageError
from pose_estimation_ros.vision.sequences import (
    image_files,
    image_size,
    pair_by_name,
    sequence_order,
)


def _write(folder, names, size=(64, 48)):
    folder.mkdir(exist_ok=True)
    for name in names:
        cv2.imwrite(str(folder / name), np.zeros((size[1], size[0], 3), np.uint8))
    return folder


@needs_shared
def test_the_rgbd_recording_is_a_sequence_and_coco_photos_are_not():
    order, why = sequence_order(image_files(DATA / "rgbd" / "color"))
    assert [p.name for p in order] == [f"{i:05d}.png" for i in range(20, 60)]
    assert why == "40 consecutively numbered images of one size"
    order, why = sequence_order(image_files(DATA / "mmpose_tests" / "coco"))
    assert order is None and why.startswith("the numbers are not consecutive")


def test_sequence_rules(tmp_path):
    order, _ = sequence_order(image_files(_write(tmp_path / "a", ["f9.png", "f10.png",
                                                                  "f11.png"])))
    assert [p.name for p in order] == ["f9.png", "f10.png", "f11.png"]  # by number
    for folder, names, reason in (
            ("b", ["a1.png", "b2.png"], "the names differ in more than their number"),
            ("c", ["1.png", "x.png"], "not every name ends in a frame number (x.png)"),
            ("d", ["1.jpg"], "a single image")):
        assert sequence_order(image_files(_write(tmp_path / folder, names))) == (None, reason)
    _write(tmp_path / "e", ["1.png"])
    _write(tmp_path / "e", ["2.png"], size=(32, 32))
    order, why = sequence_order(image_files(tmp_path / "e"))
    assert order is None and why.startswith("the images differ in size")


def test_image_size_from_png_and_jpeg_headers_and_others(tmp_path):
    for ext in (".png", ".jpg", ".bmp"):
        path = tmp_path / f"x{ext}"
        cv2.imwrite(str(path), np.zeros((37, 53, 3), np.uint8))
        assert image_size(path) == (53, 37)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot decode"):
        image_size(tmp_path / "bad.png")


def test_pairing_by_name_then_by_number(tmp_path):
    colour = image_files(_write(tmp_path / "c", ["00020.png", "00021.png"]))
    same = image_files(_write(tmp_path / "d", ["00021.png", "00020.png", "99.png"]))
    assert [p.name for p in pair_by_name(colour, same)] == ["00020.png", "00021.png"]
    numbered = image_files(_write(tmp_path / "n", ["depth_20.png", "depth_21.png"]))
    assert [p.name for p in pair_by_name(colour, numbered)] == ["depth_20.png", "depth_21.png"]
    shutil.rmtree(tmp_path / "n")
    other = image_files(_write(tmp_path / "o", ["00020.png", "00022.png"]))
    with pytest.raises(ImageError, match="do not pair by file name: no depth for 00021.png"):
        pair_by_name(colour, other)
