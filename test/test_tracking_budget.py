"""The per-frame pose budget (issue 35): who gets a crop, the refresh guarantee, predicted
people, and no change at all without a budget."""
import numpy as np
import pytest
from test_tracking_tracker import FPS, frame, person

from pose_estimation_ros.core.results import TrackState
from pose_estimation_ros.core.topology import COCO17
from pose_estimation_ros.tracking.budget import Candidate, choose
from pose_estimation_ros.tracking.tracker import Tracker, TrackerConfig


def test_the_target_unknown_and_due_people_always_then_new_then_drift_then_size():
    c = [Candidate(1, 100.0), Candidate(2, 100.0, skipped=1), Candidate(7, 10.0, new=True),
         Candidate(4, 50.0, target=True), Candidate(5, 400.0), Candidate(6, 90.0, speed=0.2)]
    assert choose(c, 1) == [3]  # the target
    assert choose(c, 2) == [2, 3]  # then the new (tentative) track
    assert choose(c, 3) == [2, 3, 5]  # then the fastest (drift 0.21 against 0.02 and 0.01)
    assert choose(c, 4) == [1, 2, 3, 5]  # then the one skipped last frame
    assert choose(c, 5) == [1, 2, 3, 4, 5]  # then the largest box
    assert choose(c, 0) == choose(c, 6) == list(range(6))  # 0: no budget
    # always cropped, whatever the budget: the refresh guarantee and people nobody tracks yet
    due = [Candidate(i, 100.0, due=True) for i in range(3)] + [Candidate(-1, 9.0, new=True)]
    assert choose(due + [Candidate(8, 500.0)], 2) == [0, 1, 2, 3]


def _walk(budget: int, interval: int = 3, frames: int = 60, target: int = 0):
    """Five people walking at different speeds; the "head" gives each planned box the
    person whose centre is nearest (a perfect pose model)."""
    tracker = Tracker(TrackerConfig(smoothing=False, max_crops_per_frame=budget,
                                    max_refresh_interval=interval), COCO17)
    outputs, truths, crops = [], [], []
    for i in range(frames):
        truth = [person(120 + 200 * k + (k + 1) * 2.0 * i, 300 + 10 * k, 200 + 10 * k)
                 for k in range(5)]
        plan = tracker.plan()
        if plan.detect:
            plan = tracker.with_detections(plan, np.stack([p.bbox for p in truth]),
                                           np.full(5, 0.9, np.float32))
        plan = tracker.spend(plan, target)
        centres = np.array([[(p.bbox[0] + p.bbox[2]) / 2, (p.bbox[1] + p.bbox[3]) / 2]
                            for p in truth])
        cropped = [truth[int(np.argmin(np.linalg.norm(centres - [(b[0] + b[2]) / 2,
                                                                (b[1] + b[3]) / 2], axis=1)))]
                   for b in plan.boxes]
        outputs.append(tracker.update(frame(i / FPS, *cropped), i / FPS, plan))
        truths.append(truth)
        crops.append(len(plan))
    return tracker, outputs, truths, crops


def test_a_budget_of_two_for_five_people():
    tracker, outputs, truths, crops = _walk(2)
    assert tracker.confirmed_total == 5  # nobody lost or split by being predicted
    steady = outputs[10:]
    assert all(len(o.people) == 5 for o in steady)
    assert max(crops[10:]) <= 3 and np.mean(crops[10:]) < 2.5  # within budget but for due
    # the target (track 0) is measured on every frame
    assert all(next(p for p in o.people if p.track_id == 0).track_state is TrackState.CONFIRMED
               for o in steady)
    # everyone refreshed at least every 3 frames: never 3 predicted frames in a row
    run = {i: 0 for i in range(5)}
    for o in steady:
        for p in o.people:
            run[p.track_id] = run[p.track_id] + 1 if p.track_state is TrackState.PREDICTED else 0
            assert run[p.track_id] <= 2
    predicted = [(p, t) for o, truth in zip(steady, truths[10:]) for p in o.people
                 if p.track_state is TrackState.PREDICTED for t in [truth[p.track_id]]]
    assert len(predicted) > 50
    for p, t in predicted:  # constant velocity: the Kalman prediction is close
        assert np.abs(p.keypoints - t.keypoints).max() < 3.0
        assert not p.keypoint_scores.any()  # predictions carry no keypoint score


def test_without_a_budget_the_tracker_is_unchanged():
    _, with_zero, _, crops = _walk(0)
    _, with_room, _, _ = _walk(5)  # a budget nobody needs to share
    assert crops[10:] == [5] * 50
    for a, b in zip(with_zero, with_room):
        assert [(p.track_id, p.track_state, p.keypoints.tobytes()) for p in a.people] == \
            [(p.track_id, p.track_state, p.keypoints.tobytes()) for p in b.people]


def test_the_budget_is_deterministic_and_checked():
    _, a, _, _ = _walk(1, interval=4)
    _, b, _, _ = _walk(1, interval=4)
    assert [[(p.track_id, p.track_state, p.keypoints.tobytes()) for p in o.people] for o in a] \
        == [[(p.track_id, p.track_state, p.keypoints.tobytes()) for p in o.people] for o in b]
    with pytest.raises(ValueError, match="max_crops_per_frame"):
        TrackerConfig(max_crops_per_frame=-1)
    with pytest.raises(ValueError, match="max_refresh_interval"):
        TrackerConfig(max_refresh_interval=0)
