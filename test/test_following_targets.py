"""Choosing and keeping the person to follow, on the two-person hug clip with synthetic depth:
person A (on the left at the start) 2 m away, person B 3 m, a wall at 5 m."""
from dataclasses import replace

import cv2
import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.core.results import FrameResult
from pose_estimation_ros.core.topology import COCO17
from pose_estimation_ros.following.depth import add_positions
from pose_estimation_ros.following.targets import (
    TargetConfig,
    TargetSelector,
    TargetState,
    facing_camera,
)

FPS = 28.05


@pytest.fixture(scope="module")
def hug():
    """Per frame: the tracked result with 3D positions, and the track ids of A and B."""
    from pose_estimation_ros.pipelines.registry import (
        PipelineOptions,
        create_pipeline,
    )
    from pose_estimation_ros.pipelines.video import VideoPipeline

    pipeline = VideoPipeline(create_pipeline(PipelineOptions(pipeline="topdown")))
    capture = cv2.VideoCapture(str(DATA / "videos" / "mmaction2_demo_skeleton.mp4"))
    results, a_id, b_id = [], None, None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frame = cv2.resize(frame, (960, 540))
        result = pipeline.process(frame, len(results) / FPS)
        ids = sorted((p.bbox[0], p.track_id) for p in result.people if p.track_id >= 0)
        if a_id is None and len(ids) == 2:
            a_id, b_id = ids[0][1], ids[1][1]
        results.append((frame.shape, result))
    assert a_id is not None, "two people never seen"
    k = np.array([[800.0, 0, 480], [0, 800.0, 270], [0, 0, 1]])
    out = []
    for shape, result in results:
        depth = np.full(shape[:2], 5.0, np.float32)
        topology = result.topology
        order = sorted(result.people, key=lambda p: p.track_id != b_id)  # B first, A over it
        for person in order:
            z = 2.0 if person.track_id == a_id else 3.0
            pts = np.rint(person.keypoints).astype(int)
            thick = max(int(0.1 * (person.bbox[3] - person.bbox[1])), 6)
            for i, j in topology.edges:
                cv2.line(depth, tuple(map(int, pts[i])), tuple(map(int, pts[j])), z, thick)
        add_positions(result.people, result.topology, depth, k, k)
        out.append(result)
    return out, a_id, b_id


def _run(results, config):
    selector = TargetSelector(config)
    return [selector.update(r) for r in results]


@needs_shared
def test_closest_picks_the_nearer_person_and_keeps_them_through_the_hug(hug):
    results, a_id, b_id = hug
    targets = _run(results, TargetConfig("closest"))
    chosen = [t.track_id for t in targets if t.track_id >= 0]
    assert chosen and set(chosen) == {a_id}
    first = next(i for i, t in enumerate(targets) if t.track_id >= 0)
    assert all(t.track_id == a_id for t in targets[first:])  # through the hug (frames 54–71)
    assert sum(t.changed for t in targets) == 1 and "closest" in targets[first].reason


@needs_shared
def test_track_id_policy_follows_the_chosen_id(hug):
    results, a_id, b_id = hug
    targets = _run(results, TargetConfig("track_id", track_id=b_id))
    present = [any(p.track_id == b_id and p.track_state == "confirmed" for p in r.people)
               for r in results]
    assert [t.state is TargetState.TRACKING for t in targets] == present
    assert all(t.track_id == b_id and t.followed in (b_id, -1) for t in targets)


@needs_shared
def test_a_lost_target_is_waited_for_and_nobody_else_is_followed(hug):
    """on_target_lost wait (the default): occluded up to the timeout (position predicted),
    then lost, and the other person is never chosen."""
    results, a_id, b_id = hug
    gone = 30  # A leaves the picture from frame 30 on
    edited = [r if i < gone else replace(r, people=[p for p in r.people if p.track_id != a_id])
              for i, r in enumerate(results)]
    targets = _run(edited, TargetConfig("closest", timeout=0.5))
    assert all(t.track_id == a_id for t in targets[gone - 5:])
    states = [t.state for t in targets[gone:]]
    lost = states.index(TargetState.LOST)
    assert set(states[:lost]) == {TargetState.OCCLUDED} and set(states[lost:]) == \
        {TargetState.LOST}
    assert lost / FPS == pytest.approx(0.5, abs=1.5 / FPS)
    occluded = targets[gone]
    assert occluded.predicted and occluded.position is not None and occluded.followed == a_id
    assert targets[-1].followed == -1 and "until that person is re-identified" in \
        targets[-1].reason and targets[-1].since_seen > 1.0


@needs_shared
def test_reselect_picks_a_new_person_after_the_timeout(hug):
    results, a_id, b_id = hug
    gone = 30
    edited = [r if i < gone else replace(r, people=[p for p in r.people if p.track_id != a_id])
              for i, r in enumerate(results)]
    targets = _run(edited, TargetConfig("closest", timeout=0.5, on_lost="reselect"))
    switch = next(i for i, t in enumerate(targets) if t.track_id == b_id)
    assert all(t.track_id == a_id for t in targets[gone:switch])  # waited for A
    assert (switch - gone) / FPS == pytest.approx(0.5, abs=1.5 / FPS)
    assert targets[switch].state is TargetState.TRACKING
    assert f"track {a_id} lost; a new person: closest: track {b_id}" == targets[switch].reason


def _frame(stamp: float, *people) -> FrameResult:
    from pose_estimation_ros.core.results import Person

    out = []
    for track_id, x, z in people:
        p = Person(np.array([x, 100, x + 50, 300], np.float32), 0.9,
                   np.zeros((17, 2), np.float32), np.ones(17, np.float32),
                   track_id=track_id, track_state="confirmed")
        p.position = np.array([0.0, 0.0, z]) if z is not None else None
        out.append(p)
    return FrameResult(stamp, (640, 480), COCO17, out)


def test_reacquired_select_and_gesture_policy():
    """Re-identification gives the lost target back (`reacquired`, then `tracking`); an
    explicit selection overrides the policy; the gesture policy takes the first raised hand."""
    selector = TargetSelector(TargetConfig("closest", timeout=1.0))
    assert selector.update(_frame(0.0, (1, 100, 2.0), (2, 400, 3.0))).track_id == 1
    assert selector.update(_frame(0.5, (2, 400, 3.0))).state is TargetState.OCCLUDED
    assert selector.update(_frame(2.0, (2, 400, 3.0))).state is TargetState.LOST
    back = selector.update(_frame(3.0, (1, 200, 4.0), (2, 400, 3.0)), frozenset({1}))
    assert (back.state, back.track_id, back.changed) == (TargetState.REACQUIRED, 1, True)
    assert selector.update(_frame(3.1, (1, 200, 4.0))).state is TargetState.TRACKING
    selector.select(2)
    chosen = selector.update(_frame(3.2, (1, 200, 4.0), (2, 400, 3.0)))
    assert (chosen.track_id, chosen.reason) == (2, "selected: track 2")
    selector.select(None)  # whom the policy picks now: the closer one
    assert selector.update(_frame(3.3, (1, 200, 4.0), (2, 400, 3.0))).track_id == 2
    gesture = TargetSelector(TargetConfig("gesture"))
    assert gesture.update(_frame(0.0, (1, 100, 2.0), (2, 400, 3.0))).track_id == -1
    chosen = gesture.update(_frame(1.0, (1, 100, 2.0), (2, 400, 3.0)), raised={2: 0.1, 1: 0.4})
    assert chosen.track_id == 2 and chosen.reason == "gesture: track 2"


def test_only_confirmed_tracks_and_policies_without_depth():
    from pose_estimation_ros.core.results import Person

    def person(track_id, state, box):
        return Person(np.array(box, np.float32), 0.9, np.zeros((17, 2), np.float32),
                      np.ones(17, np.float32), track_id=track_id, track_state=state)
    frame = FrameResult(1.0, (640, 480), COCO17, [
        person(1, "tentative", [0, 0, 400, 400]), person(2, "confirmed", [300, 200, 340, 280]),
        person(3, "confirmed", [0, 0, 100, 300])])
    assert TargetSelector(TargetConfig("largest")).update(frame).track_id == 3
    assert TargetSelector(TargetConfig("centre")).update(frame).track_id == 2
    assert TargetSelector(TargetConfig("closest")).update(frame).track_id == -1  # no 3D
    assert TargetSelector(TargetConfig("none")).update(frame).track_id == -1
    with pytest.raises(ValueError, match="target_policy must be one of"):
        TargetConfig("nearest")


def test_facing_the_camera():
    for position in ([0.0, 0.0, 2.0], [1.0, 0.5, 1.0], [-2.0, 0.0, 0.5]):
        x, y, z, w = facing_camera(np.array(position))
        # rotate the x axis by the quaternion; it must point back at the camera, level
        axis = np.array([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)])
        towards = -np.array([position[0], 0.0, position[2]])
        np.testing.assert_allclose(axis, towards / np.linalg.norm(towards), atol=1e-6)
