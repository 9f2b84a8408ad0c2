"""MoveNet's own modes (Google, "Next-Generation Pose Detection with MoveNet").

Single-person with intelligent cropping: the first frame (and any frame after the person is
lost) looks at the whole image padded to a square; later frames look at a square around the
previous frame's keypoints, sized from the torso and body extent, falling back to the whole
image when the torso is not seen. MultiPose: the whole image at once, up to 6 people.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..core.results import FrameResult, Person, bbox_of_keypoints
from ..core.timing import StageTimer
from ..core.topology import COCO17
from ..models.runtime import ModelPool, RuntimeOptions, open_model
from ..vision.crops import (
    RotatedRect,
    crop_batch,
    crop_points_to_image,
    letterbox,
    to_input,
    whole_image_rect,
)
from ..vision.imaging import check_bgr8
from .base import DEFAULT_POSE, MIN_PERSON_SCORE, Pipeline, head_on_boxes
from .heads import PoseHead, decode_regression

_SHOULDERS, _HIPS = (5, 6), (11, 12)


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], not {value}")


@dataclass(frozen=True)
class MoveNetConfig:
    model: str = DEFAULT_POSE  # movenet-thunder or movenet-lightning
    #: a person is reported when the mean keypoint score reaches this
    min_person_score: float = MIN_PERSON_SCORE
    #: keypoints above this score steer the next crop (the tutorial's 0.2)
    crop_keypoint_score: float = 0.2
    static_image_mode: bool = False
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        if self.model not in ("movenet-thunder", "movenet-lightning"):
            raise ValueError(f"MoveNet model must be movenet-thunder or movenet-lightning, "
                             f"not {self.model!r}")
        _check_unit("min_person_score", self.min_person_score)
        _check_unit("crop_keypoint_score", self.crop_keypoint_score)


def next_crop(keypoints: np.ndarray, scores: np.ndarray, width: int, height: int,
              min_score: float = 0.2) -> RotatedRect | None:
    """Square region for the next frame from this frame's COCO-17 keypoints, or None for the
    whole image: centred on the hips, half-side = the larger of 1.9 × the torso extent and
    1.2 × the body extent, no larger than the farthest image edge."""
    seen = scores > min_score
    if not (seen[list(_HIPS)].any() and seen[list(_SHOULDERS)].any()):
        return None
    cx, cy = keypoints[list(_HIPS)].mean(axis=0)
    torso = np.abs(keypoints[list(_SHOULDERS + _HIPS)] - (cx, cy)).max(axis=0)
    body = np.abs(keypoints[seen] - (cx, cy)).max(axis=0)
    half = max(1.9 * torso.max(), 1.2 * body.max())
    half = min(half, max(cx, width - cx, cy, height - cy))
    if half > max(width, height) / 2 or not math.isfinite(half) or half < 1:
        return None
    return RotatedRect(float(cx), float(cy), 2 * half, 2 * half, 0.0)


class MoveNetSinglePose(Pipeline):
    topology = COCO17
    runs_on_boxes = True

    def __init__(self, config: MoveNetConfig | None = None, pool: ModelPool | None = None):
        self.config = config or MoveNetConfig()
        self.model = open_model(self.config.model, self.config.runtime, pool)
        self.models = [self.model]
        self._box_head: PoseHead | None = None
        self.reset()

    def reset(self) -> None:
        self._next: RotatedRect | None = None
        self.whole_image_runs = 0
        self.detector_runs = 0

    def apply(self, options, tracker_config=None) -> None:
        self.config = replace(self.config, min_person_score=float(options.min_person_score))

    def process_boxes(self, image: np.ndarray, boxes: np.ndarray,
                      scores: np.ndarray | None = None, stamp: float = 0.0,
                      timer: StageTimer | None = None) -> FrameResult:
        """The model as a top-down head on given boxes, e.g. `eval --gt-boxes`."""
        if self._box_head is None:
            self._box_head = PoseHead(self.config.model, model=self.model)
        return head_on_boxes(self._box_head, image, boxes, scores, stamp, timer)

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        timer = StageTimer()
        bgr = check_bgr8(image)
        h, w = bgr.shape[:2]
        rect = None if self.config.static_image_mode else self._next
        if rect is None:
            rect = whole_image_rect(w, h)
            self.whole_image_runs += 1
        spec = self.model.spec
        with timer.stage("preprocess"):
            x = to_input(crop_batch(bgr, [rect], spec), spec)
        out = self.model.run(x)["keypoints"]
        timer.add(f"model:{spec.id}", self.model.last_ms)
        result = FrameResult(stamp, (w, h), COCO17, timings=timer.ms)
        with timer.stage("postprocess"):
            xy, scores = decode_regression(out, *spec.input_size)
            kps = crop_points_to_image(xy[0], rect, *spec.input_size).astype(np.float32)
            score = float(scores[0].mean())
            self._next = next_crop(kps, scores[0], w, h, self.config.crop_keypoint_score)
            if score < self.config.min_person_score:
                self._next = None
                return result
            result.people.append(Person(
                bbox=bbox_of_keypoints(kps, scores[0], self.config.crop_keypoint_score),
                score=score, keypoints=kps, keypoint_scores=scores[0],
                visibility=np.full(17, np.nan, np.float32)))
        return result


@dataclass(frozen=True)
class MultiPoseConfig:
    #: the image is scaled so its long side is this (a multiple of 32), the short side padded
    #: up to a multiple of 32
    long_side: int = 256
    min_person_score: float = MIN_PERSON_SCORE
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        if self.long_side < 32 or self.long_side % 32:
            raise ValueError(f"long_side must be a positive multiple of 32, not {self.long_side}")
        _check_unit("min_person_score", self.min_person_score)


class MoveNetMultiPose(Pipeline):
    topology = COCO17

    def __init__(self, config: MultiPoseConfig | None = None, pool: ModelPool | None = None):
        self.config = config or MultiPoseConfig()
        self.model = open_model("movenet-multipose", self.config.runtime, pool)
        self.models = [self.model]

    def apply(self, options, tracker_config=None) -> None:
        self.config = replace(self.config, min_person_score=float(options.min_person_score))

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        s = self.config.long_side / max(width, height)
        return (int(math.ceil(width * s / 32) * 32), int(math.ceil(height * s / 32) * 32))

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        timer = StageTimer()
        bgr = check_bgr8(image)
        h, w = bgr.shape[:2]
        in_w, in_h = self.input_size(w, h)
        with timer.stage("preprocess"):
            canvas, scale, _ = letterbox(bgr, in_w, in_h, 0)
            x = to_input(canvas[None], self.model.spec)
        out = self.model.run(x)["people"][0]  # [6, 56]
        timer.add(f"model:{self.model.spec.id}", self.model.last_ms)
        result = FrameResult(stamp, (w, h), COCO17, timings=timer.ms)
        with timer.stage("postprocess"):
            to_image = np.array([in_w, in_h], np.float32) / scale
            for row in out[out[:, 55] >= self.config.min_person_score]:
                kps = row[:51].reshape(17, 3)
                ymin, xmin, ymax, xmax = row[51:55]
                result.people.append(Person(
                    bbox=np.array([xmin, ymin, xmax, ymax], np.float32) * np.tile(to_image, 2),
                    score=float(row[55]), keypoints=kps[:, 1::-1] * to_image,
                    keypoint_scores=kps[:, 2].astype(np.float32),
                    visibility=np.full(17, np.nan, np.float32)))
            result.people.sort(key=lambda p: -p.score)
        return result
