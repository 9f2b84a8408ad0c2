"""Tracking layer on synthetic sequences: ids through crossings and occlusion, time going
backwards, One-Euro jitter and lag."""
import numpy as np
import pytest

from pose_estimation_ros.core.results import FrameResult, Person, bbox_of_keypoints
from pose_estimation_ros.core.topology import COCO17
from pose_estimation_ros.tracking.smoothing import OneEuroFilter
from pose_estimation_ros.tracking.tracker import Detect, Tracker, TrackerConfig

# A standing COCO-17 figure, unit height, feet at y = 0.5, centred on x = 0.
FIGURE = np.array([
    [0, -0.45], [-0.03, -0.47], [0.03, -0.47], [-0.06, -0.45], [0.06, -0.45],
    [-0.12, -0.3], [0.12, -0.3], [-0.16, -0.1], [0.16, -0.1], [-0.18, 0.08], [0.18, 0.08],
    [-0.08, 0.05], [0.08, 0.05], [-0.09, 0.28], [0.09, 0.28], [-0.09, 0.5], [0.09, 0.5],
], np.float32)
FPS = 30.0


def person(cx: float, cy: float, height: float, arms_up: bool = False) -> Person:
    fig = FIGURE.copy()
    if arms_up:
        fig[[7, 8, 9, 10], 1] -= 0.45
    kps = fig * height + (cx, cy)
    scores = np.full(17, 0.9, np.float32)
    return Person(bbox=bbox_of_keypoints(kps, scores, scale=1.1), score=0.9,
                  keypoints=kps.astype(np.float32), keypoint_scores=scores)


def frame(stamp: float, *people: Person) -> FrameResult:
    return FrameResult(stamp, (1280, 720), COCO17, list(people))


def _ids_by_identity(outputs, references):
    """For each frame, the track id of the output nearest each reference person."""
    ids = []
    for out, refs in zip(outputs, references):
        row = []
        for ref in refs:
            d = [np.abs(p.keypoints - ref.keypoints).mean() for p in out.people]
            row.append(out.people[int(np.argmin(d))].track_id)
        ids.append(row)
    return np.array(ids)


def test_two_people_crossing_keep_their_ids():
    tracker = Tracker(TrackerConfig(smoothing=False), COCO17)
    outputs, refs = [], []
    for i in range(60):
        a = person(200 + 12 * i, 400, 300)  # walks right
        b = person(908 - 12 * i, 380, 260, arms_up=True)  # walks left, a little further away
        refs.append((a, b))
        outputs.append(tracker.update(frame(i / FPS, a, b), i / FPS))
    ids = _ids_by_identity(outputs, refs)
    assert len(set(ids[:, 0])) == 1 and len(set(ids[:, 1])) == 1, ids
    assert ids[0, 0] != ids[0, 1]
    assert tracker.confirmed_total == 2


def test_person_hidden_for_five_frames_comes_back_with_the_same_id():
    tracker = Tracker(TrackerConfig(smoothing=False, include_predicted=True), COCO17)
    states, ids = [], []
    for i in range(30):
        p = person(300 + 8 * i, 400, 300)
        hidden = 12 <= i < 17
        out = tracker.update(frame(i / FPS, *([] if hidden else [p])), i / FPS)
        assert len(out.people) == 1
        states.append(out.people[0].track_state)
        ids.append(out.people[0].track_id)
        if hidden:  # the Kalman prediction keeps following the walk
            assert np.abs(out.people[0].keypoints - p.keypoints).max() < 20
            assert np.all(out.people[0].keypoint_scores == 0)
    assert set(ids) == {0}
    assert states[:2] == ["tentative"] * 2 and states[2] == "confirmed"
    assert states[12:17] == ["predicted"] * 5 and states[17] == "confirmed"


def test_ids_are_never_reused_and_unmatched_tentative_tracks_are_lost():
    tracker = Tracker(TrackerConfig(smoothing=False, max_missing=2), COCO17)
    first = tracker.update(frame(0.0, person(200, 400, 300)), 0.0).people[0].track_id
    tracker.update(frame(1 / FPS), 1 / FPS)  # tentative and unseen: lost at once
    assert tracker.lost_ids == [first] and not tracker.tracks
    second = tracker.update(frame(2 / FPS, person(200, 400, 300)), 2 / FPS).people[0].track_id
    assert second != first


def test_time_going_backwards_resets_the_filters_without_an_exception():
    tracker = Tracker(TrackerConfig(), COCO17)
    for i in range(10):
        tracker.update(frame(5 + i / FPS, person(300, 400, 300)), 5 + i / FPS)
    raw = person(340, 400, 300)
    out = tracker.update(frame(1.0, raw), 1.0)  # a bag replay jumped back 4 s
    assert out.people[0].track_id == 0
    np.testing.assert_allclose(out.people[0].keypoints, raw.keypoints)  # filter restarted
    assert tracker.tracks[0].filter.restarts == 1
    out = tracker.update(frame(1.0 + 3.0, raw), 4.0)  # and a jump forward over 1 s
    assert tracker.tracks[0].filter.restarts == 2


def test_still_jitter_is_halved_and_constant_speed_lags_at_most_one_frame():
    params = TrackerConfig().one_euro
    rng = np.random.default_rng(1)
    height = 300.0  # the person's size sets the speed scale of the filter
    f = OneEuroFilter(params)
    still = 500 + rng.uniform(-2, 2, size=(240, 2))
    out = np.array([f(v, i / FPS, 1 / height) for i, v in enumerate(still)])
    ratio = np.diff(out[30:], axis=0).std() / np.diff(still[30:], axis=0).std()
    assert ratio <= 0.5, ratio
    for speed in (3.0, 6.0, 12.0):  # px per frame: 0.3 to 1.2 person heights per second
        f = OneEuroFilter(params)
        truth = np.stack([100 + speed * np.arange(120), np.full(120, 300.0)], axis=1)
        out = np.array([f(v, i / FPS, 1 / height) for i, v in enumerate(truth)])
        lag_frames = (truth[60:, 0] - out[60:, 0]).mean() / speed
        assert 0 <= lag_frames <= 1.0, (speed, lag_frames)


def test_invalid_tracker_settings_are_rejected():
    with pytest.raises(ValueError, match="det_interval"):
        TrackerConfig(det_interval=0)
    with pytest.raises(ValueError, match="missing_iou"):
        TrackerConfig(missing_iou=1.5)


def test_detector_runs_every_interval_and_at_once_when_a_person_goes_missing():
    tracker = Tracker(TrackerConfig(det_interval=3, smoothing=False), COCO17)
    due, reasons = [], []
    for i in range(12):
        plan = tracker.plan()
        due.append(plan.detect)
        reasons.append(plan.reason)
        people = [] if i == 7 else [person(300 + 5 * i, 400, 300)]
        tracker.update(frame(i / FPS, *people), i / FPS)
    # every 3rd frame; frame 8 is forced because the person went missing on frame 7
    assert due == [True, False, False, True, False, False, True, False, True, False, False,
                   True]
    assert [r for r in reasons if r] == ["nobody tracked", "interval", "interval",
                                         "track missing", "interval"]
    assert tracker.detect_reasons == {"nobody tracked": 1, "interval": 3, "track missing": 1}
    assert not tracker.plan(Detect.NEVER).detect and tracker.plan(Detect.FORCE).reason == "forced"


def test_a_person_missing_for_several_frames_is_looked_for_once_then_per_interval():
    """Issue 15: the detector ran on every frame while anyone was missing (up to max_missing
    frames); now on the frame after they went missing, then every det_interval frames."""
    tracker = Tracker(TrackerConfig(det_interval=5, smoothing=False), COCO17)
    reasons = []
    for i in range(16):
        plan = tracker.plan()
        reasons.append(plan.reason)
        others = [person(900, 400, 300)]
        people = others if 6 <= i < 14 else [person(300 + 5 * i, 400, 300), *others]
        tracker.update(frame(i / FPS, *people), i / FPS)
    assert reasons[6:] == ["", "track missing", "", "", "", "", "interval", "", "", ""]


def test_detector_runs_while_a_missing_person_is_hidden_behind_a_visible_one():
    """Someone walking behind another person (the hug clip): while their predicted box
    overlaps the visible person's crop, which then holds both and whose pose may jump to the
    hidden one, the detector runs on every frame; once they are out, it stops."""
    tracker = Tracker(TrackerConfig(det_interval=50, smoothing=False), COCO17)
    reasons, hidden = [], range(8, 13)
    for i in range(20):
        reasons.append(tracker.plan().reason)
        walker = person(800 - 30 * i, 400, 300)  # B walks left past A, behind A at 8-12
        people = [person(500, 400, 300)] + ([] if i in hidden else [walker])
        out = tracker.update(frame(i / FPS, *people), i / FPS)
    assert reasons[:9] == ["nobody tracked"] + [""] * 8
    assert reasons[9] == "track missing"  # the frame after B went missing
    assert reasons[10:13].count("occluded") >= 2  # B's prediction is where A is
    assert set(reasons[14:]) == {""}  # B is back: no reason left
    assert sorted(p.track_id for p in out.people) == [0, 1]  # and kept its id
    apart = Tracker(TrackerConfig(det_interval=50, smoothing=False), COCO17)
    for i in range(8):  # missing far from anyone: looked for once, then at the interval
        apart.plan()
        apart.update(frame(i / FPS, *([person(300, 400, 300)] if i >= 4 else
                                      [person(300, 400, 300), person(1000, 400, 300)])),
                     i / FPS)
    assert apart.detect_reasons == {"nobody tracked": 1, "track missing": 1}


def test_with_nobody_in_view_the_detector_keeps_to_its_interval():
    """Issue 15: an empty scene, or one whose people are all missing, ran the detector on
    every frame (14 frames in a row at the end of the basketball clip); a person who walks in
    is now found within det_interval frames, like rtmlib's and MMDeploy's trackers."""
    tracker = Tracker(TrackerConfig(det_interval=4, smoothing=False), COCO17)
    reasons = []
    for i in range(14):
        plan = tracker.plan()
        reasons.append(plan.reason)
        people = [person(300, 400, 300)] if i < 3 else []
        tracker.update(frame(i / FPS, *people), i / FPS)
    assert reasons == ["nobody tracked", "", "", "", "interval", "", "", "", "interval", "",
                       "", "", "interval", ""]


def test_pose_boxes_follow_the_tracked_keypoints_one_frame_ahead():
    tracker = Tracker(TrackerConfig(smoothing=False), COCO17)
    for i in range(6):
        tracker.update(frame(i / FPS, person(300 + 10 * i, 400, 300)), i / FPS)
    plan = tracker.plan()
    expected = bbox_of_keypoints(person(360, 400, 300).keypoints, np.ones(17), scale=1.25)
    assert plan.boxes.shape == (1, 4) and plan.scores[0] == pytest.approx(0.9)
    assert list(plan.track_ids) == [0] and plan.sources == ("pose",)
    np.testing.assert_allclose(plan.boxes[0], expected, atol=3.0)


def test_detector_runs_when_a_visible_person_has_too_few_sure_keypoints_for_a_pose_box():
    tracker = Tracker(TrackerConfig(det_interval=5, smoothing=False), COCO17)
    unsure = person(700, 400, 300)
    unsure.keypoint_scores = np.where(np.arange(17) < 6, 0.9, 0.2).astype(np.float32)
    due = []
    for i in range(6):
        due.append(tracker.plan().detect)
        tracker.update(frame(i / FPS, person(300, 400, 300), unsure), i / FPS)
    # one pose box for two visible people: the detector looks for the other every frame
    plan = tracker.plan()
    assert len(plan) == 1 and plan.reason == "unsure pose"
    assert due == [True] * 6
    ids = {p.track_id for p in tracker.update(frame(6 / FPS, person(300, 400, 300), unsure),
                                              6 / FPS).people}
    assert ids == {0, 1}  # both keep their first ids


def _crops(plan, truth: dict) -> FrameResult:
    """What a pose head would return for a plan: the person whose box centre is nearest each
    planned box (the 'model' sees whoever is in the crop)."""
    people = []
    for box in plan.boxes:
        centre = (box[:2] + box[2:]) / 2
        near = min(truth.values(), key=lambda p: np.abs((p.bbox[:2] + p.bbox[2:]) / 2
                                                       - centre).sum())
        people.append(Person(box.copy(), near.score, near.keypoints.copy(),
                             near.keypoint_scores.copy()))
    return FrameResult(0.0, (1280, 720), COCO17, people)


def test_a_detection_of_a_missing_person_gets_their_id_back():
    """The top-down loop (plan → detections → crops → update) with one person occluded for 3
    frames while walking: the detection that reappears overlaps their Kalman prediction and
    carries their id into the crop, so the pose comes back to the same track."""
    tracker = Tracker(TrackerConfig(det_interval=1, smoothing=False), COCO17)
    ids = []
    for i in range(20):
        truth = {"a": person(300 + 6 * i, 400, 300), "b": person(900, 400, 300)}
        if 8 <= i < 11:
            del truth["a"]
        plan = tracker.plan()
        assert plan.detect
        plan = tracker.with_detections(plan, np.stack([p.bbox for p in truth.values()]),
                                       np.full(len(truth), 0.9))
        if i == 11:  # back: the detection took the missing track's id before any pose
            assert sorted(plan.track_ids) == [0, 1] and "detection" in plan.sources
        out = tracker.update(_crops(plan, truth), i / FPS, plan)
        ids.append(sorted(p.track_id for p in out.people))
    assert ids[:8] == [[0, 1]] * 8 and ids[8:11] == [[1]] * 3 and ids[11:] == [[0, 1]] * 9
    assert tracker.confirmed_total == 2


def test_a_pose_keeps_the_id_of_the_box_it_was_cropped_from():
    tracker = Tracker(TrackerConfig(det_interval=100, smoothing=False), COCO17)
    for i in range(4):
        a, b = person(300, 400, 300), person(520, 400, 300)
        plan = tracker.with_detections(tracker.plan(), np.stack([a.bbox, b.bbox]),
                                       np.full(2, 0.9))
        tracker.update(_crops(plan, {"a": a, "b": b}), i / FPS, plan)
    plan = tracker.plan()
    assert not plan.detect and list(plan.track_ids) == [0, 1] and plan.sources == ("pose",) * 2
    with pytest.raises(ValueError, match="1 poses for a plan of 2 boxes"):
        tracker.update(frame(1.0, person(300, 400, 300)), 1.0, plan)
