"""The next frame's crop from a track's keypoints: the torso floor that keeps a person whose
legs were lost from being cropped smaller and smaller."""
import numpy as np
import pytest
from test_tracking_tracker import FPS, person

from pose_estimation_ros.core.results import FrameResult, Person, bbox_of_keypoints
from pose_estimation_ros.core.topology import BLAZEPOSE33, COCO17, MPII16, Topology
from pose_estimation_ros.tracking.pose_box import BodyParts, pose_box
from pose_estimation_ros.tracking.tracker import Tracker, TrackerConfig

ANKLES = [15, 16]


def test_body_parts_come_from_each_topologys_coco_map():
    coco, blaze, mpii = (BodyParts.of(t) for t in (COCO17, BLAZEPOSE33, MPII16))
    assert list(coco.shoulders) == [5, 6] and list(coco.hips) == [11, 12]
    assert list(blaze.hips) == [23, 24] and list(blaze.ankles) == [27, 28]
    assert list(mpii.shoulders) == [13, 12] and list(mpii.ankles) == [5, 0]
    assert BodyParts.of(Topology("bare", ("a",), ())) is None


def test_a_whole_body_keeps_its_tight_box_and_lost_legs_get_the_torso_floor():
    p = person(300, 400, 300)
    good = np.ones(17, bool)
    parts = BodyParts.of(COCO17)
    tight = bbox_of_keypoints(p.keypoints, good.astype(np.float32), 0.5, 1.25)
    np.testing.assert_allclose(pose_box(p.keypoints, good, 1.25, 1.9, parts), tight)
    good[ANKLES] = False
    box = pose_box(p.keypoints, good, 1.25, 1.9, parts)
    # hips at y = 415, shoulders at 310: 105 px of torso, 1.9 × that below the hips
    assert box[3] == pytest.approx(415 + 1.9 * 105, abs=0.5)
    assert box[3] > p.keypoints[ANKLES, 1].max()  # the feet are back in the crop
    assert box[1] <= tight[1]  # never smaller than the keypoints' own box
    np.testing.assert_allclose(pose_box(p.keypoints, good, 1.25, 0.0, parts),
                               bbox_of_keypoints(p.keypoints, good.astype(np.float32), 0.5,
                                                 1.25))


def _model_sees_the_crop(box: np.ndarray, truth: Person, hidden: list[int]) -> Person:
    """A pose model that finds only the keypoints inside its crop (and not the `hidden`)."""
    inside = np.all((truth.keypoints >= box[:2]) & (truth.keypoints <= box[2:]), axis=1)
    scores = np.where(inside, 0.9, 0.1).astype(np.float32)
    scores[hidden] = 0.1
    return Person(box.copy(), 0.9, truth.keypoints.copy(), scores)


@pytest.mark.parametrize("torso", [0.0, 1.9])
def test_feet_hidden_for_three_frames_come_back_only_with_the_torso_floor(torso):
    tracker = Tracker(TrackerConfig(det_interval=100, smoothing=False, pose_box_torso=torso),
                      COCO17)
    truth = person(300, 400, 300)
    found = []
    for i in range(12):
        plan = tracker.plan()
        if plan.detect:
            plan = tracker.with_detections(plan, truth.bbox[None], np.array([0.9]))
        hidden = ANKLES if 3 <= i < 6 else []
        people = [_model_sees_the_crop(b, truth, hidden) for b in plan.boxes]
        out = tracker.update(FrameResult(i / FPS, (1280, 720), COCO17, people), i / FPS,
                             plan)
        assert [p.track_id for p in out.people] == [0]
        found.append(bool((out.people[0].keypoint_scores[ANKLES] > 0.5).all()))
    assert found[:3] == [True] * 3 and found[3:6] == [False] * 3
    # without the floor the crop ends above the knees' box and the feet never come back
    assert found[6:] == ([True] * 6 if torso else [False] * 6)
