"""Which bags `bag` reads and how (issue 33's rows): two bags with the same name from
different folders are refused before anything is written, the same bag twice is one bag, an
`--output` inside the input folder is run again with `--resume` without taking its own
outputs for input bags, a depth topic in image_transport's compressedDepth is read, and a
CameraInfo topic of another type is refused up front with the type named. `bag` runs as the
user runs it, a process of its own."""
import csv
import shutil
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
import rgbd
import yaml
from conftest import ROOT, needs_shared
from test_bags import frames, make_bag, read_topic

from pose_estimation_ros.bags.types import typestore
from pose_estimation_ros.transport.image import compressed_depth_to_array

pytestmark = needs_shared


def _bag(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pose_estimation_ros", "bag", *map(str, args),
                           "--no-progress"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_bags_that_share_a_name_are_refused_and_one_bag_twice_is_one(tmp_path):
    images = frames(6)
    for study in ("study_a", "study_b"):
        make_bag(tmp_path / study / "sess", images)
    done = _bag(tmp_path / "study_a" / "sess", tmp_path / "study_b" / "sess", "--output",
                tmp_path / "out")
    assert done.returncode == 2
    err = done.stderr
    assert f"{tmp_path / 'study_a' / 'sess'} and {tmp_path / 'study_b' / 'sess'} would both " \
        "write sess.poses" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    bag = tmp_path / "study_a" / "sess"
    done = _bag(bag, bag, tmp_path / "study_a", "--output", tmp_path / "out", "--csv",
                tmp_path / "all.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("bags=1 processed=1 skipped=0 failed=0")
    rows = list(csv.DictReader(open(tmp_path / "all.csv")))
    assert len(rows) == len(list(csv.DictReader(open(tmp_path / "out" / "sess.poses.csv"))))


def test_an_output_folder_inside_the_inputs_is_not_read_as_input(tmp_path):
    images = frames(6)
    for name in ("a", "b"):
        make_bag(tmp_path / "study" / name, images)
    study = tmp_path / "study"
    assert _bag(study, "--output", study).returncode == 0
    assert sorted(p.name for p in study.iterdir()) == [
        "a", "a.poses", "a.poses.yaml", "b", "b.poses", "b.poses.yaml"]
    done = _bag(study, "--output", study, "--resume")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("bags=2 processed=0 skipped=2 failed=0")
    # named on purpose, an output bag is read, and says it has no camera images
    done = _bag(study / "a.poses", "--output", tmp_path / "again")
    assert done.returncode == 2
    assert "a.poses: no image topics; choose one with --image-topic" in done.stderr


def test_a_compressed_depth_topic_gives_the_same_answer_as_raw_depth(tmp_path):
    store = typestore()
    data = rgbd.frames()[:8]
    rgbd.write_bag(tmp_path / "raw", data, store)
    rgbd.write_bag(tmp_path / "packed", data, store, compressed=True)
    for name in ("raw", "packed"):
        done = _bag(tmp_path / name, "--output", tmp_path / "out", "--image-topic",
                    rgbd.COLOUR, "--depth-topic", rgbd.DEPTH, "--camera-info-topic",
                    rgbd.COLOUR_INFO, *rgbd.PIPELINE)
        assert done.returncode == 0, done.stderr
    raw, packed = (read_topic(tmp_path / "out" / f"{n}.poses", "/poses")[0]
                   for n in ("raw", "packed"))
    assert [r for _, r, _ in raw] == [r for _, r, _ in packed]  # PNG is lossless
    side = yaml.safe_load((tmp_path / "out" / "packed.poses.yaml").read_text())
    assert side["frames_with_3d"] == 8


def test_compressed_depth_32fc1_is_decoded_from_its_quantised_inverse_depth():
    """32FC1 compressedDepth stores q = a / z + b as 16-bit (0: no data), a and b in the
    header (image_transport's depth_quantization 100, depth_max 10 m)."""
    z = np.array([[0.5, 1.0, 2.5], [4.0, np.nan, 9.0]], np.float32)
    a = np.float32(100.0 * 101.0)
    b = np.float32(1.0 - a / 10.0)
    q = np.where(np.isfinite(z), a / np.nan_to_num(z, nan=1.0) + b, 0).astype(np.uint16)
    data = struct.pack("<iff", 0, a, b) + cv2.imencode(".png", q)[1].tobytes()
    got = compressed_depth_to_array("32FC1; compressedDepth png", data)
    assert np.isnan(got[1, 1]) and np.allclose(got[np.isfinite(z)], z[np.isfinite(z)],
                                               rtol=2e-3)
    assert compressed_depth_to_array("16UC1; compressedDepth png", rgbd.compressed_depth(
        np.full((4, 5), 1234, np.uint16))).tolist() == [[1234] * 5] * 4
    for fmt, message in (("16UC1; compressedDepth rvl", "rvl is not read"),
                         ("bgr8; jpeg compressed bgr8", "must be image_transport's")):
        with pytest.raises(ValueError, match=message):
            compressed_depth_to_array(fmt, data)


def test_a_camera_info_topic_of_another_type_is_refused_up_front(tmp_path):
    store = typestore()
    rgbd.write_bag(tmp_path / "rs", rgbd.frames()[:2], store)
    done = _bag(tmp_path / "rs", "--output", tmp_path / "out", "--image-topic", rgbd.COLOUR,
                "--camera-info-topic", rgbd.DEPTH)
    assert done.returncode == 2
    assert f"--camera-info-topic {rgbd.DEPTH} is sensor_msgs/msg/Image, not " \
        "sensor_msgs/msg/CameraInfo" in done.stderr
    assert not list((tmp_path / "out").glob("*.yaml"))
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_a_colour_camera_info_of_another_size_is_scaled_or_refused(tmp_path):
    """(issue 33, row 2, offline) A colour CameraInfo for twice the image size is the same
    picture resized: the same positions as the right one. One for another shape gives no 3D,
    every frame counted `size_mismatch` (before: its K was used as it was)."""
    store = typestore()
    data = rgbd.frames()[:6]
    h, w = data[0][1].shape[:2]
    for name, size in (("right", None), ("double", (2 * w, 2 * h)), ("wide", (w, h * 3 // 4))):
        rgbd.write_bag(tmp_path / name, data, store, info_size=size)
        done = _bag(tmp_path / name, "--output", tmp_path / "out", "--image-topic",
                    rgbd.COLOUR, "--depth-topic", rgbd.DEPTH, "--camera-info-topic",
                    rgbd.COLOUR_INFO, *rgbd.PIPELINE)
        assert done.returncode == 0, done.stderr
    sides = {n: yaml.safe_load((tmp_path / "out" / f"{n}.poses.yaml").read_text())
             for n in ("right", "double", "wide")}
    assert sides["right"]["frames_with_3d"] == sides["double"]["frames_with_3d"] == 6
    assert sides["wide"]["frames_with_3d"] == 0
    assert sides["wide"]["frames_without_3d"] == {"size_mismatch": 6}
    right, double = (read_topic(tmp_path / "out" / f"{n}.poses", "/poses")[0]
                     for n in ("right", "double"))
    assert len(right) == len(double) == 6
    for (_, _, a), (_, _, b) in zip(right, double):
        for pa, pb in zip(a.people, b.people):
            got = [(k.position.x, k.position.y, k.position.z) for k in pb.keypoints
                   if k.position_valid]
            want = [(k.position.x, k.position.y, k.position.z) for k in pa.keypoints
                    if k.position_valid]
            assert got and np.allclose(got, want, atol=1e-4)
