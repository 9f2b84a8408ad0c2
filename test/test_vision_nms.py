"""vision/nms.py: IoU, weighted (blending) NMS, OKS and pose NMS."""
import numpy as np
import pytest

from pose_estimation_ros.core.results import Person
from pose_estimation_ros.core.topology import COCO17
from pose_estimation_ros.vision.nms import (
    iou_matrix,
    oks_matrix,
    pose_nms,
    pose_nms_indices,
    weighted_nms,
)


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 2, 8]])
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0, 0.0]])


def test_weighted_nms_blends_a_cluster_by_score_and_keeps_the_top_score():
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.3, 0.5])
    extras = np.array([[0.0], [4.0], [7.0]])
    b, s, e = weighted_nms(boxes, scores, extras, 0.3)
    np.testing.assert_allclose(s, [0.9, 0.5])
    np.testing.assert_allclose(b[0], [0.5, 0, 10.5, 10])  # (0.9·0 + 0.3·2) / 1.2 = 0.5
    np.testing.assert_allclose(e[:, 0], [1.0, 7.0])
    empty = weighted_nms(boxes[:0], scores[:0], extras[:0], 0.3)
    assert all(len(x) == 0 for x in empty)


def _pose(dx: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    return (rng.uniform(0, 100, (17, 2)) + [dx, 0]).astype(np.float32)


def test_oks_is_one_for_the_same_pose_and_falls_with_distance():
    a = _pose(0)
    near, far = a + 2, a + 40
    sims = oks_matrix(a[None], np.stack([a, near, far]), [100 * 100], COCO17.sigmas)[0]
    assert sims[0] == pytest.approx(1.0) and 1.0 > sims[1] > sims[2] > 0
    only_hips = np.zeros((1, 17), bool)
    only_hips[0, [11, 12]] = True  # wide sigmas: a 2 px shift costs less there
    assert oks_matrix(a[None], near[None], [1e4], COCO17.sigmas, only_hips)[0, 0] > sims[1]


def test_pose_nms_drops_the_weaker_duplicate_and_keeps_a_distinct_person():
    poses = np.stack([_pose(0), _pose(1), _pose(300)])
    scores = np.array([0.5, 0.9, 0.8])
    boxes = np.array([[0, 0, 100, 100], [1, 0, 101, 100], [300, 0, 400, 100]], np.float32)
    keep = pose_nms(poses, np.ones((3, 17)), scores, boxes, COCO17.sigmas, 0.5)
    assert list(keep) == [1, 2]
    # without sigmas (a topology without OKS constants) the boxes decide
    assert list(pose_nms(poses, np.ones((3, 17)), scores, boxes, None, 0.5)) == [1, 2]


def test_pose_nms_over_people_ranks_by_score_times_keypoint_confidence():
    def p(dx, score, kp):
        return Person(np.array([dx, 0, dx + 100, 100], np.float32), score, _pose(dx),
                      np.full(17, kp, np.float32))
    people = [p(0, 0.9, 0.2), p(1, 0.5, 0.9), p(300, 0.1, 0.9)]
    assert pose_nms_indices(people, COCO17.sigmas, 0.5) == [1, 2]  # 0.45 beats 0.18
    assert pose_nms_indices(people, COCO17.sigmas, 1.0) == [0, 1, 2]  # 1 turns it off
