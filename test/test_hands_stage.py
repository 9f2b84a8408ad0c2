"""The hand stage on real frames (the RealSense recording, ../shared/data/rgbd): hands for every
person whose wrist the body model sees, the side from the body, all hands of a frame in one
call of each model, smoothed per track and side, skipped hands counted by reason."""
from dataclasses import replace

import numpy as np
import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.core.results import FrameResult
from pose_estimation_ros.core.topology import HAND21
from pose_estimation_ros.hands.regions import knuckles, search_region
from pose_estimation_ros.hands.stage import HandConfig, HandStage
from pose_estimation_ros.pipelines.registry import PipelineOptions, create_pipeline
from pose_estimation_ros.stream.step import StepConfig, create_step

pytestmark = needs_shared
ON = HandConfig(enabled=True)


@pytest.fixture(scope="module")
def frames():
    return rgbd.frames()


@pytest.mark.parametrize("pipeline", ["topdown", "blazepose"])
def test_each_seen_wrist_gets_its_hand_with_the_body_s_side(frames, pipeline):
    """COCO-17 (forearm rule) and BlazePose (knuckle keypoints): each hand's wrist keypoint
    lies at the body's wrist of the same side."""
    body = create_pipeline(PipelineOptions(pipeline=pipeline, static_image_mode=True))
    stage = HandStage(ON, body.topology)
    names = {n: i for i, n in enumerate(body.topology.keypoints)}
    given = 0
    for _, image, _ in frames[::8]:
        result = body.process(image)
        stage.process(image, result)
        for person in result.people:
            assert [h.side for h in person.hands] == sorted({h.side for h in person.hands})
            for hand in person.hands:
                wrist = person.keypoints[names[f"{hand.side}_wrist"]]
                other = person.keypoints[names[f"{'right' if hand.side == 'left' else 'left'}"
                                                 "_wrist"]]
                size = np.ptp(hand.keypoints, axis=0).max()
                assert np.linalg.norm(hand.keypoints[0] - wrist) < 0.6 * size, hand.side
                assert np.linalg.norm(hand.keypoints[0] - wrist) < \
                    np.linalg.norm(hand.keypoints[0] - other) or \
                    np.linalg.norm(wrist - other) < size  # hands together: either is near
                assert hand.keypoints.shape == (HAND21.num_keypoints, 2)
                assert 0.0 <= hand.presence <= 1.0
                given += 1
        assert sum(result.hands_skipped.values()) + sum(len(p.hands) for p in result.people) \
            == 2 * len(result.people)  # every hand given or counted with its reason
    assert given >= 8


def test_all_hands_of_a_frame_go_through_each_model_in_one_call(frames):
    step = create_step(PipelineOptions(pipeline="topdown"), StepConfig(hands=ON))
    calls = {m.spec.id: [] for m in step.hands.models}
    for m in step.hands.models:
        m.recorder = calls[m.spec.id]
    for i, (_, image, _) in enumerate(frames[:4]):
        result = step.infer(image, i / 10)
        hands = sum(len(p.hands) for p in result.people)
        assert hands >= 3
        for model_id, batches in calls.items():
            assert len(batches) == i + 1, model_id  # one call per frame
            assert len(batches[-1]) == hands, model_id  # with every hand in it
        assert result.timings["hands"] >= result.timings["model:hand-landmark-full"] > 0


def test_skipped_hands_are_counted_by_reason_never_given(frames):
    _, image, _ = frames[0]
    body = create_pipeline(PipelineOptions(pipeline="topdown", static_image_mode=True))
    result = body.process(image)
    people = len(result.people)
    small = HandStage(replace(ON, min_size=10_000.0), body.topology)
    small.process(image, result)
    assert not any(p.hands for p in result.people)
    assert sum(result.hands_skipped.values()) == 2 * people
    assert result.hands_skipped["too_small"] >= 3
    doubtful = HandStage(replace(ON, min_presence=0.5), body.topology)
    doubtful.process(image, result)
    kept = [h for p in result.people for h in p.hands]
    assert kept and all(h.presence >= 0.5 for h in kept)
    assert result.hands_skipped.get("no_hand", 0) >= 1  # the standing person's hidden hand
    # a person cut by the image's edge: the region's centre outside the image
    person = result.people[0]
    out_of_frame = FrameResult(0.0, result.image_size, result.topology, [replace(
        person, keypoints=person.keypoints + np.float32([-person.bbox[2] - 50, 0]))])
    HandStage(ON, body.topology).process(image, out_of_frame)
    assert out_of_frame.hands_skipped.get("outside_image", 0) + \
        out_of_frame.hands_skipped.get("wrist_unseen", 0) == 2
    assert not out_of_frame.people[0].hands


def test_tracked_hands_are_smoothed_per_track_and_side(frames):
    """With tracking, a hand's keypoints follow their person's One-Euro filter: steadier over
    the still seated person's hands than without smoothing."""
    def jitter(smoothing: bool) -> float:
        config = StepConfig(hands=ON)
        config = replace(config, tracker=replace(config.tracker, smoothing=smoothing))
        step = create_step(PipelineOptions(pipeline="topdown"), config)
        tracks = {}
        for i, (_, image, _) in enumerate(frames[:12]):
            for p in step.infer(image, i / 10).people:
                for h in p.hands:
                    tracks.setdefault((p.track_id, h.side), []).append(h.keypoints)
        if smoothing:
            assert set(step.hands.filters) <= set(tracks)
        steps = [np.abs(np.diff(np.stack(v), axis=0)).mean() for v in tracks.values()
                 if len(v) == 12]
        return float(np.mean(steps))
    assert jitter(True) < 0.8 * jitter(False)


def test_the_search_region_is_the_knuckle_square_enlarged_around_the_hand(frames):
    """MediaPipe Holistic's rule on COCO-17: the region is about 1.9 forearms across, turned
    so the forearm's direction points up, centred beyond the wrist."""
    _, image, _ = frames[0]
    body = create_pipeline(PipelineOptions(pipeline="topdown", static_image_mode=True))
    person = body.process(image).people[0]
    names = {n: i for i, n in enumerate(body.topology.keypoints)}
    wrist, knuckle = knuckles(person, body.topology, "right")
    forearm = np.linalg.norm(wrist - person.keypoints[names["right_elbow"]])
    rect = search_region(wrist, knuckle)
    assert rect.width == pytest.approx(rect.height)
    assert rect.width == pytest.approx(2 * 0.35 * 2.7 * forearm, rel=1e-4)
    direction = (knuckle - wrist) / np.linalg.norm(knuckle - wrist)
    up = np.array([np.sin(rect.angle), -np.cos(rect.angle)])  # the region's "up" in the image
    assert up @ direction > 0.999
    assert (np.array([rect.cx, rect.cy]) - wrist) @ direction > 0  # beyond the wrist
