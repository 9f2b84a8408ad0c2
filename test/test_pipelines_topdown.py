"""Top-down pipeline, pose heads and MoveNet modes on the real models and images."""
import json

import cv2
import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.core.topology import COCO17, MPII16, to_coco17
from pose_estimation_ros.pipelines.detection import DetectorConfig, filter_boxes
from pose_estimation_ros.pipelines.heads import PoseHead, decode_heatmap
from pose_estimation_ros.pipelines.movenet import next_crop
from pose_estimation_ros.pipelines.registry import PipelineOptions, create_pipeline
from pose_estimation_ros.vision.crops import RotatedRect, box_rect, pad_outside_boxes
from pose_estimation_ros.vision.imaging import VideoReader, read_image

COCO_DIR = DATA / "mmpose_tests" / "coco"


def _gt(file_name: str):
    ann = json.loads((COCO_DIR / "test_coco.json").read_text())
    image_id = next(i["id"] for i in ann["images"] if i["file_name"] == file_name)
    people = [a for a in ann["annotations"] if a["image_id"] == image_id and a["num_keypoints"]]
    boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                       a["bbox"][1] + a["bbox"][3]] for a in people], np.float32)
    return boxes, [np.array(a["keypoints"], np.float32).reshape(17, 3) for a in people]


def _pck(kps: np.ndarray, gt: np.ndarray, box: np.ndarray, joints=None) -> float:
    labelled = gt[:, 2] > 0
    if joints is not None:
        labelled &= joints
    limit = 0.2 * max(box[2] - box[0], box[3] - box[1])
    return float(np.mean(np.linalg.norm(kps - gt[:, :2], axis=1)[labelled] <= limit))


@pytest.fixture(scope="module")
def thunder_topdown():
    return create_pipeline(PipelineOptions(pipeline="topdown", pose="movenet-thunder"))


def _no_person_images():
    from skimage import data

    return {"coffee": cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR),
            "black": np.zeros((480, 640, 3), np.uint8)}


@needs_shared
@pytest.mark.parametrize("options", [
    PipelineOptions(pipeline="topdown", detector="rtmdet-nano"),
    PipelineOptions(pipeline="topdown", detector="yolox-nano"),
    PipelineOptions(pipeline="movenet"),
    PipelineOptions(pipeline="movenet-multipose"),
], ids=["rtmdet", "yolox", "movenet", "multipose"])
def test_frame_without_people_gives_an_empty_result(options):
    pipeline = create_pipeline(options)
    for name, image in _no_person_images().items():
        result = pipeline.process(image)
        assert result.people == [], (name, [p.score for p in result.people])
        assert result.image_size == (image.shape[1], image.shape[0])


@needs_shared
def test_topdown_finds_the_person_and_their_keypoints(thunder_topdown):
    boxes, gts = _gt("000000000785.jpg")
    result = thunder_topdown.process(read_image(COCO_DIR / "000000000785.jpg"))
    assert len(result.people) == 1 and result.topology.name == "coco17"
    person = result.people[0]
    assert person.keypoints.shape == (17, 2) and person.keypoint_scores.shape == (17,)
    assert _pck(person.keypoints, gts[0], boxes[0]) >= 0.9
    assert {"model:rtmdet-nano", "model:movenet-thunder", "preprocess"} <= set(result.timings)


@needs_shared
def test_boxes_at_and_beyond_the_border_are_handled(thunder_topdown):
    image = read_image(COCO_DIR / "000000000785.jpg")
    h, w = image.shape[:2]
    gt_box = _gt("000000000785.jpg")[0][0]
    boxes = np.array([gt_box,
                      [-100, -50, 120, 300],  # leaves the image at the top-left
                      [w - 80, h - 60, w + 200, h + 300],  # leaves at the bottom-right
                      [w + 10, 10, w + 90, 200],  # entirely outside
                      [0, 0, 0, 0]], np.float32)  # degenerate, on the corner
    result = thunder_topdown.process_boxes(image, boxes)
    assert len(result.people) == len(boxes)  # every box gets a (possibly low-score) pose
    for person in result.people:
        assert np.all(np.isfinite(person.keypoints))
        assert np.all((person.keypoint_scores >= 0) & (person.keypoint_scores <= 1))
    # the clipped part of a box does not disturb the person inside it
    clipped = thunder_topdown.process_boxes(image, [gt_box + [0, 0, 0, 0]]).people[0]
    np.testing.assert_allclose(clipped.keypoints, result.people[0].keypoints, atol=1e-3)


def test_square_crops_show_only_the_padded_box():
    crops = np.full((1, 100, 100, 3), 200, np.uint8)
    box = np.array([40.0, 0.0, 60.0, 100.0])  # a standing person: 20 × 100
    rect = box_rect(box, 1.0, 1.25)  # widened to a 125 × 125 square
    pad_outside_boxes(crops, [rect], box[None], 1.25, 0)
    kept = np.flatnonzero(crops[0, 50, :, 0] == 200)
    assert (kept.min(), kept.max()) == (40, 59)  # 25 of 125 px across: the centre 20 columns
    assert np.all(crops[0, :, 50] == 200)  # the full height stays


@needs_shared
def test_two_people_hugging_give_two_poses(thunder_topdown):
    # In frames 54–71 of the clip the detector finds both people, but a square MoveNet crop of
    # the narrower one shows mostly the other: with the image outside the box, the two crops
    # gave the same pose twice and pose NMS kept one (2 poses in 3 of the 18 frames; 15 with
    # the padding).
    video = VideoReader(DATA / "videos" / "mmaction2_demo_skeleton.mp4")
    counts = [len(thunder_topdown.process(f.image).people) for f in video if 54 <= f.index <= 71]
    assert len(counts) == 18 and counts.count(2) >= 14, counts


def test_detector_rows_are_filtered_clipped_and_ordered():
    dets = np.array([[10, 10, 100, 200, 0.9],  # person
                     [-30, 50, 60, 500, 0.8],  # leaves the image: clipped
                     [200, 10, 205, 20, 0.95],  # 5 px wide: too small
                     [300, 10, 400, 200, 0.3],  # below the score threshold
                     [300, 10, 400, 200, 0.99]], np.float32)  # not a person (label 1)
    labels = np.array([0, 0, 0, 0, 1])
    # the detector saw the image at half size, padded 8 px on the left
    boxes, scores = filter_boxes(dets, labels, 0.5, (8.0, 0.0), (320, 400),
                                 DetectorConfig(score_threshold=0.5, min_box_size=16))
    np.testing.assert_allclose(scores, [0.9, 0.8])
    np.testing.assert_allclose(boxes[0], [4, 20, 184, 399])  # y2 clipped to the image
    np.testing.assert_allclose(boxes[1], [0, 100, 104, 399])
    area_first = filter_boxes(dets, labels, 0.5, (8.0, 0.0), (320, 400),
                              DetectorConfig(order="area", max_people=1))[0]
    np.testing.assert_allclose(area_first[0], [4, 20, 184, 399])


@needs_shared
def test_batched_head_call_equals_one_call_per_crop():
    head = PoseHead("blazepose-full")
    assert head.batched
    image = read_image(COCO_DIR / "000000197388.jpg")
    boxes = _gt("000000197388.jpg")[0][:3]
    x = head.preprocess(image, boxes)[0]
    one, _ = head.infer(x, batched=True)
    each, _ = head.infer(x, batched=False)
    assert one.keys() == each.keys()
    for a, b in ((one[k], each[k]) for k in one):
        assert a.shape[0] == 3
        np.testing.assert_allclose(a, b, atol=2e-3)


@needs_shared
def test_efficientpose_heatmap_head_on_gt_boxes():
    pipeline = create_pipeline(PipelineOptions(pipeline="topdown", pose="efficientpose-ii-lite"))
    boxes, gts = _gt("000000000785.jpg")
    person = pipeline.process_boxes(read_image(COCO_DIR / "000000000785.jpg"), boxes).people[0]
    assert pipeline.topology is MPII16 and person.keypoints.shape == (16, 2)
    kps, _, have = to_coco17(MPII16, person.keypoints, person.keypoint_scores)
    assert have.sum() == 12  # the limb joints
    assert _pck(kps, gts[0], boxes[0], have) >= 0.8


def test_heatmap_decode_quarter_offset_and_channel_order():
    hm = np.zeros((1, 8, 10, 2), np.float32)
    hm[0, 3, 4, 0], hm[0, 3, 5, 0], hm[0, 2, 4, 0] = 0.9, 0.5, 0.3  # right and up neighbours
    hm[0, 6, 2, 1] = 0.7
    xy, scores = decode_heatmap(hm)
    np.testing.assert_allclose(xy[0, 0], [4.25, 2.75])
    np.testing.assert_allclose(xy[0, 1], [2, 6])
    np.testing.assert_allclose(scores[0], [0.9, 0.7])
    xy_swapped, _ = decode_heatmap(hm, channel_order=(1, 0))
    np.testing.assert_allclose(xy_swapped[0], xy[0, ::-1])


def test_mpii_map_pairs_the_same_joints():
    for coco_index, mpii_index in enumerate(MPII16.to_coco17):
        if mpii_index >= 0:
            assert MPII16.keypoints[mpii_index] == COCO17.keypoints[coco_index]
    assert sum(i >= 0 for i in MPII16.to_coco17) == 12


def test_movenet_next_crop_follows_the_torso_and_falls_back():
    kps = np.zeros((17, 2), np.float32)
    scores = np.full(17, 0.9, np.float32)
    kps[:] = (300, 200)
    kps[[5, 6]] = [[280, 150], [320, 150]]
    kps[[11, 12]] = [[290, 220], [310, 220]]
    rect = next_crop(kps, scores, 640, 480)
    assert isinstance(rect, RotatedRect)
    assert (rect.cx, rect.cy) == (300, 220) and rect.width == rect.height
    assert rect.width == pytest.approx(2 * 1.9 * 70)  # torso reaches 70 px above the hips
    scores[[11, 12]] = 0.1  # hips not seen: whole image next time
    assert next_crop(kps, scores, 640, 480) is None


@needs_shared
def test_movenet_single_person_crops_from_the_previous_frame():
    pipeline = create_pipeline(PipelineOptions(pipeline="movenet"))
    reader = VideoReader(DATA / "videos" / "mmaction2_test_video_structuralize.mp4")
    found = 0
    for _, frame in zip(range(10), reader):
        found += len(pipeline.process(frame.image, frame.stamp).people)
    reader.close()
    assert found >= 8
    assert pipeline.whole_image_runs <= 2  # later frames use the keypoint-derived square


@needs_shared
def test_multipose_finds_several_people():
    result = create_pipeline(PipelineOptions(pipeline="movenet-multipose")).process(
        read_image(COCO_DIR / "000000197388.jpg"))
    assert 3 <= len(result.people) <= 6
    scores = [p.score for p in result.people]
    assert scores == sorted(scores, reverse=True)
    boxes, gts = _gt("000000197388.jpg")
    # every person found lies on an annotated one
    centres = np.array([p.bbox.reshape(2, 2).mean(0) for p in result.people])
    inside = [(b[0] <= c[0] <= b[2]) and (b[1] <= c[1] <= b[3]) for c in centres for b in boxes]
    assert np.reshape(inside, (len(centres), len(boxes))).any(axis=1).all()
