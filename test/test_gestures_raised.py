"""gestures/raised.py: a wrist above the nose, held for `hold` seconds, with short dips."""
import numpy as np
import pytest

from pose_estimation_ros.core.results import Person
from pose_estimation_ros.core.topology import COCO17, MPII16
from pose_estimation_ros.gestures.raised import RaisedHands, hand_up


def _person(wrist_y: float, track_id: int = 3, wrist_score: float = 0.9,
            topology=COCO17) -> Person:
    names = list(topology.keypoints)
    kps = np.tile(np.array([[100.0, 300.0]], np.float32), (len(names), 1))
    for head in ("nose", "upper_neck"):
        if head in names:
            kps[names.index(head)] = (100, 100)
            break
    kps[names.index("right_wrist")] = (120, wrist_y)
    scores = np.full(len(names), 0.9, np.float32)
    scores[names.index("right_wrist")] = wrist_score
    return Person(np.array([0, 0, 200, 400], np.float32), 0.9, kps, scores, track_id=track_id)


def test_a_wrist_above_the_nose_is_a_hand_up_with_confident_keypoints():
    assert hand_up(_person(80), COCO17, "right") == pytest.approx(0.9)
    assert hand_up(_person(120), COCO17, "right") is None  # below the nose
    assert hand_up(_person(80, wrist_score=0.1), COCO17, "right") is None
    assert hand_up(_person(80), COCO17, "left") is None  # the other hand is down
    assert hand_up(_person(80, topology=MPII16), MPII16, "right") == pytest.approx(0.9)


def test_held_for_the_hold_time_a_short_dip_allowed_a_long_one_not():
    hands = RaisedHands(COCO17, hold=1.0, gap=0.2)
    up = [hands.update([_person(80)], i / 10) for i in range(10)]
    assert not any(up) and hands.update([_person(80)], 1.0)[0].start == 0.0
    hands.update([_person(150)], 1.1)  # one frame down: within the gap
    raised = hands.update([_person(80)], 1.2)
    assert raised and raised[0].start == 0.0 and raised[0].side == "right"
    for i in range(4):  # 0.4 s down: a new raise
        hands.update([_person(150)], 1.3 + i / 10)
    assert not any(hands.update([_person(80)], 1.7 + i / 10) for i in range(10))
    assert hands.update([_person(80)], 2.7)[0].start == 1.7
    assert not hands.update([], 3.5) and not hands.held._since  # gone: forgotten
