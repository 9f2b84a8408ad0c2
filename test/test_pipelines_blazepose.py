"""BlazePose decoding and the detector-tracker pipeline on real weights and images."""
import math

import numpy as np
import pytest
from conftest import DATA, needs_shared

from pose_estimation_ros.core.topology import BLAZEPOSE33, COCO17, to_coco17
from pose_estimation_ros.pipelines.blazepose import BlazePoseConfig, BlazePosePipeline
from pose_estimation_ros.pipelines.blazepose_decode import refine_with_heatmap
from pose_estimation_ros.vision.crops import RotatedRect, aligned_rect, crop_to_image
from pose_estimation_ros.vision.imaging import ImageError, VideoReader, read_image, to_bgr8
from pose_estimation_ros.vision.nms import weighted_nms

VIDEO = DATA / "videos" / "mmaction2_test_video_structuralize.mp4"


def test_weighted_nms_blends_overlapping_boxes_and_keeps_separate_ones():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8])
    extras = np.array([[0.0], [10.0], [5.0]])
    b, s, e = weighted_nms(boxes, scores, extras, 0.3)
    assert s.tolist() == [0.9, 0.8]
    assert b[0, 0] == pytest.approx(0.6 / 1.5)  # score-weighted x1
    assert e[0, 0] == pytest.approx(10 * 0.6 / 1.5)


def test_heatmap_refinement_moves_to_the_peak_and_ignores_weak_ones():
    heatmap = np.full((64, 64, 2), -10.0, np.float32)
    heatmap[20, 30, 0] = 10.0  # a sharp peak for landmark 0
    heatmap[20, 30, 1] = -1.0  # landmark 1: peak confidence 0.27 < 0.5, left alone
    xy = np.array([[31.5 / 64, 21.2 / 64], [31.5 / 64, 21.2 / 64]])
    out = refine_with_heatmap(xy, heatmap, kernel=9)
    assert out[0] == pytest.approx([30 / 64, 20 / 64], abs=2e-3)
    assert out[1].tolist() == xy[1].tolist()



def _refine_one_by_one(xy, heatmap, kernel):
    """The refinement written as MediaPipe describes it: a loop over landmarks and pixels."""
    hm_h, hm_w, n = heatmap.shape
    out = xy.copy()
    for i in range(n):
        col, row = int(xy[i, 0] * hm_w), int(xy[i, 1] * hm_h)
        if not (0 <= col < hm_w and 0 <= row and col < hm_h):  # the reference's own test
            continue
        total = wx = wy = peak = 0.0
        for r in range(row - kernel // 2, row + kernel // 2 + 1):
            for c in range(col - kernel // 2, col + kernel // 2 + 1):
                if 0 <= r < hm_h and 0 <= c < hm_w:
                    conf = 1.0 / (1.0 + math.exp(-float(heatmap[r, c, i])))
                    total, wx, wy, peak = total + conf, wx + conf * c, wy + conf * r, max(peak,
                                                                                        conf)
        if peak >= 0.5 and total > 0:
            out[i] = (wx / hm_w / total, wy / hm_h / total)
    return out


def test_heatmap_refinement_matches_a_plain_loop_inside_and_at_the_border():
    rng = np.random.default_rng(3)
    heatmap = rng.normal(-1.0, 3.0, (64, 64, 39)).astype(np.float32)
    xy = rng.uniform(-0.05, 1.05, (39, 2))  # some windows cross the border, some lie outside
    xy[:10] = rng.uniform(0.2, 0.8, (10, 2))
    expected = _refine_one_by_one(xy, heatmap, 9)
    assert not np.allclose(expected, xy)  # the case refines something
    assert np.abs(refine_with_heatmap(xy, heatmap, kernel=9) - expected).max() < 1e-6

def test_aligned_rect_points_the_body_up_and_maps_back():
    rect = aligned_rect(np.array([100.0, 200.0]), np.array([100.0, 100.0]))  # upright body
    assert rect.angle == pytest.approx(0.0) and rect.width == pytest.approx(250.0)
    tilted = aligned_rect(np.array([0.0, 0.0]), np.array([100.0, 0.0]))  # body lies right
    assert abs(tilted.angle) == pytest.approx(math.pi / 2)
    centre = crop_to_image(np.array([[0.5, 0.5], [0.5, 0.0]]), RotatedRect(10, 20, 8, 8, 0.0))
    assert centre.tolist() == [[10, 20], [10, 16]]


def test_topology_tables_are_consistent():
    assert BLAZEPOSE33.num_keypoints == 33 and COCO17.num_keypoints == 17
    for t in (BLAZEPOSE33, COCO17):
        assert all(0 <= a < t.num_keypoints and 0 <= b < t.num_keypoints for a, b in t.edges)
    kps = np.arange(66, dtype=np.float32).reshape(33, 2)
    coco, scores, have = to_coco17(BLAZEPOSE33, kps, np.ones(33))
    assert have.all() and coco[5].tolist() == kps[11].tolist()  # left shoulder
    assert BLAZEPOSE33.keypoints[11] == COCO17.keypoints[5] == "left_shoulder"


@needs_shared
def test_static_image_finds_the_person_where_the_annotation_is(blazepose_static):
    import json

    ann = json.loads((DATA / "mmpose_tests" / "coco" / "test_coco.json").read_text())
    image_info = next(i for i in ann["images"] if i["file_name"].endswith("000000000785.jpg"))
    gt = next(a for a in ann["annotations"] if a["image_id"] == image_info["id"])
    result = blazepose_static.process(read_image(DATA / "mmpose_tests/coco/000000000785.jpg"))
    assert len(result.people) == 1 and result.topology.name == "blazepose33"
    person = result.people[0]
    coco, _, _ = to_coco17(BLAZEPOSE33, person.keypoints, person.keypoint_scores)
    gt_kps = np.asarray(gt["keypoints"], np.float32).reshape(17, 3)
    dist = np.linalg.norm(coco - gt_kps[:, :2], axis=1)[gt_kps[:, 2] > 0]
    assert np.median(dist) < 0.05 * max(gt["bbox"][2:]), dist
    assert person.world_keypoints.shape == (33, 3) and np.isfinite(person.world_keypoints).all()
    assert 0 <= person.visibility.min() and person.presence.max() <= 1
    assert set(result.timings) >= {"preprocess", "model:blazepose-detector",
                                   "model:blazepose-landmark-full", "postprocess"}


@needs_shared
def test_nobody_in_the_frame_gives_an_empty_result(blazepose_static):
    result = blazepose_static.process(np.full((240, 320, 3), 90, np.uint8))
    assert result.people == [] and result.image_size == (320, 240)


@needs_shared
def test_grayscale_and_bgra_inputs_give_the_same_pose_as_bgr(blazepose_static):
    """Input sources convert with to_bgr8; the pipeline itself refuses anything else."""
    import cv2

    bgr = read_image(DATA / "mmpose_tests/coco/000000000785.jpg")
    gray = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    a = blazepose_static.process(gray).people[0].keypoints
    b = blazepose_static.process(to_bgr8(cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY))).people[0]
    c = blazepose_static.process(to_bgr8(cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA))).people[0]
    d = blazepose_static.process(bgr).people[0].keypoints
    assert np.abs(a - b.keypoints).max() < 1e-3 and np.abs(c.keypoints - d).max() < 1e-3
    for raw in (cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), bgr.astype(np.float32), bgr[:0]):
        with pytest.raises(ImageError, match="the pipelines take BGR uint8"):
            blazepose_static.process(raw)


@needs_shared
def test_tracking_runs_the_detector_only_when_the_pose_is_lost():
    pipeline = BlazePosePipeline(BlazePoseConfig(static_image_mode=False))
    found = 0
    for frame, _ in zip(VideoReader(VIDEO), range(60)):
        found += bool(pipeline.process(frame.image, frame.stamp).people)
    assert found >= 55
    assert 1 <= pipeline.detector_runs <= 60 - found + 5
    # The next frame is cropped around the person just found.
    region = pipeline.next_region
    person = pipeline.process(frame.image, frame.stamp + 1 / 30).people[0]
    x1, y1, x2, y2 = person.bbox
    assert x1 < region.cx < x2 and y1 < region.cy < y2 and region.width > 0.5 * (y2 - y1)
    # A blank frame loses the person; the next frame runs the detector again.
    runs = pipeline.detector_runs
    assert pipeline.process(np.zeros((240, 426, 3), np.uint8), 3.0).people == []
    assert pipeline.next_region is None
    pipeline.process(next(iter(VideoReader(VIDEO))).image, 3.1)
    assert pipeline.detector_runs >= runs + 1


@needs_shared
def test_segmentation_mask_covers_the_person():
    pipeline = BlazePosePipeline(BlazePoseConfig(static_image_mode=True, segmentation=True,
                                                 variant="lite"))
    image = read_image(DATA / "mmpose_tests/coco/000000000785.jpg")
    person = pipeline.process(image).people[0]
    mask = person.segmentation
    assert mask.shape == image.shape[:2]
    x, y = np.round(person.keypoints[11]).astype(int)  # left shoulder is on the body
    assert mask[y, x] > 0.5 and mask[0, 0] < 0.5
    # the mask comes from the whole-graph build; the default build has no segmentation branch
    # and gives the same landmarks (issue 15: the branch was over half the model's time)
    plain = BlazePosePipeline(BlazePoseConfig(static_image_mode=True, variant="lite"))
    assert pipeline.landmarker.spec.id == "blazepose-landmark-lite-seg"
    assert plain.landmarker.spec.id == "blazepose-landmark-lite"
    assert "Identity_2" in pipeline.landmarker.output_names
    names = [o.name for o in plain.landmarker.session.get_outputs()]
    assert "Identity_2" not in names and len(names) == 4
    again = plain.process(image).people[0]
    assert again.segmentation is None
    np.testing.assert_allclose(again.keypoints, person.keypoints, atol=1e-3)


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="variant"):
        BlazePoseConfig(variant="huge")
    with pytest.raises(ValueError, match="min_tracking_confidence"):
        BlazePoseConfig(min_tracking_confidence=1.5)
