"""3D keypoints from aligned depth: real people found on real photos, depth images built from
known geometry (a person 2 m in front of a wall 4 m away)."""
import cv2
import numpy as np
import pytest
from conftest import needs_shared

from pose_estimation_ros.following.depth import (
    DepthConfig,
    DepthError,
    add_positions,
    depth_to_metres,
)
from pose_estimation_ros.transport.image import depth_to_array

PERSON, WALL, HAND = 2.0, 4.0, 1.5


def _k(w: int, h: int, scale: float = 1.0) -> np.ndarray:
    f = 0.9 * w * scale
    return np.array([[f, 0, (w * scale) / 2], [0, f, (h * scale) / 2], [0, 0, 1]], np.float64)


def _scene(person, topology, shape, thickness):
    """Wall at 4 m; the person's skeleton drawn thick at 2 m (metres, float32)."""
    depth = np.full(shape, WALL, np.float32)
    pts = np.rint(person.keypoints).astype(int)
    for a, b in topology.edges:
        cv2.line(depth, tuple(map(int, pts[a])), tuple(map(int, pts[b])), PERSON, thickness)
    for p in pts:
        cv2.circle(depth, tuple(map(int, p)), thickness // 2 + 2, PERSON, -1)
    return depth


@pytest.fixture(scope="module")
def scene(blazepose_static, coco_images):
    for path in coco_images:
        image = cv2.imread(str(path))
        result = blazepose_static.process(image)
        if result.people:
            person = result.people[0]
            topology = result.topology
            h = person.bbox[3] - person.bbox[1]
            return image, person, topology, max(int(0.12 * h), 6)
    pytest.skip("no person found on the COCO test images")


def _copy(person):
    from dataclasses import replace
    return replace(person, positions=None, position=None)


def _check_at(person, positions, k, z_expected, index):
    p = positions[index]
    u, v = person.keypoints[index]
    truth = np.array([(u - k[0, 2]) / k[0, 0] * z_expected, (v - k[1, 2]) / k[1, 1] * z_expected,
                      z_expected])
    assert np.all(np.isfinite(p)), f"keypoint {index} has no position"
    assert np.linalg.norm(p - truth) < 0.02 * np.linalg.norm(truth), (index, p, truth)


@needs_shared
def test_positions_within_2_percent_holes_invalid_and_the_hand_in_front(scene):
    image, person, topology, thickness = scene
    h, w = image.shape[:2]
    k = _k(w, h)
    depth = _scene(person, topology, (h, w), thickness)
    names = topology.keypoints
    knee, wrist, hip = names.index("left_knee"), names.index("right_wrist"), \
        names.index("left_hip")
    cfg = DepthConfig()
    radius = int(np.clip(round(cfg.window_share * (person.bbox[3] - person.bbox[1])),
                         cfg.min_window, cfg.max_window)) // 2
    kx, ky = np.rint(person.keypoints[knee]).astype(int)
    cv2.circle(depth, (int(kx), int(ky)), 3 * radius + 3, 0.0, -1)  # a hole of no data
    wx, wy = np.rint(person.keypoints[wrist]).astype(int)
    hand_r = max(2, int(0.8 * radius))
    cv2.circle(depth, (int(wx), int(wy)), hand_r, HAND, -1)  # a hand in front of the body
    near_hand = np.hypot(*(person.keypoints - [wx, wy]).T) <= hand_r + radius + 1  # fingers
    ok = person.keypoint_scores >= cfg.min_score
    for encoding, raw in (("16UC1", np.rint(depth * 1000).astype(np.uint16)),
                          ("32FC1", np.where(depth == 0, np.nan, depth).astype(np.float32))):
        p = _copy(person)
        add_positions([p], topology, depth_to_metres(raw), k, k, cfg)
        assert not np.any(np.all(p.positions == 0, axis=1)), "a (0, 0, 0) position"
        assert np.all(np.isnan(p.positions[~ok])), f"{encoding}: unsure keypoints got positions"
        assert np.all(np.isnan(p.positions[knee])), f"{encoding}: the hole has a position"
        if ok[wrist]:
            _check_at(person, p.positions, k, HAND, wrist)  # the hand's own depth
        _check_at(person, p.positions, k, PERSON, hip)  # the torso's, not the hand's
        others = [i for i in np.flatnonzero(ok) if i != knee and not near_hand[i]]
        for i in others:
            if np.all(np.isfinite(p.positions[i])):
                _check_at(person, p.positions, k, PERSON, i)
        assert sum(np.all(np.isfinite(p.positions[i])) for i in others) >= 0.8 * len(others)
        assert p.position is not None and abs(p.position[2] - PERSON) < 0.02 * PERSON


@needs_shared
def test_depth_at_half_the_colour_resolution(scene):
    image, person, topology, thickness = scene
    h, w = image.shape[:2]
    full = _scene(person, topology, (h, w), thickness)
    half = cv2.resize(full, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
    p = _copy(person)
    add_positions([p], topology, half, _k(w, h, 0.5), _k(w, h))
    hip = topology.keypoints.index("left_hip")
    _check_at(person, p.positions, _k(w, h), PERSON, hip)
    assert abs(p.position[2] - PERSON) < 0.02 * PERSON


@needs_shared
def test_all_zero_and_out_of_range_depth_give_no_positions(scene):
    image, person, topology, _ = scene
    h, w = image.shape[:2]
    for depth in (np.zeros((h, w), np.uint16), np.full((h, w), 25000, np.uint16)):  # 0, 25 m
        p = _copy(person)
        add_positions([p], topology, depth_to_metres(depth), _k(w, h), _k(w, h))
        assert np.all(np.isnan(p.positions)) and p.position is None


def test_depth_decoding_from_message_fields():
    mm = np.array([[0, 1500], [2000, 65535]], np.uint16)
    metres = depth_to_metres(depth_to_array("16UC1", 2, 2, 4, mm.tobytes(), False))
    assert np.isnan(metres[0, 0]) and metres[0, 1] == pytest.approx(1.5)
    big = depth_to_metres(depth_to_array("16UC1", 2, 2, 4, mm.astype(">u2").tobytes(), True))
    assert np.array_equal(np.isnan(big), np.isnan(metres)) and big[1, 0] == pytest.approx(2.0)
    f = np.array([[np.nan, np.inf], [0.0, 3.25]], np.float32)
    decoded = depth_to_metres(depth_to_array("32FC1", 2, 2, 8, f.tobytes(), False))
    assert np.isnan(decoded[:, 0]).all() and np.isnan(decoded[0, 1]) and decoded[1, 1] == 3.25
    with pytest.raises(DepthError, match="unsupported depth encoding 'bgr8'"):
        depth_to_array("bgr8", 2, 2, 6, bytes(12), False)
    with pytest.raises(DepthError, match="truncated"):
        depth_to_array("16UC1", 2, 2, 4, bytes(6), False)
