"""Pipeline registry: a name on the command line (or a ROS parameter) → a configured pipeline.

Every pipeline offers `process(bgr_image, stamp) -> FrameResult`, `reset()`, `models` (the
runtime models it holds, for timing and provider reports) and, for evaluation on given
person boxes, `process_boxes(bgr_image, boxes, stamp) -> FrameResult`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..core.results import FrameResult
from ..core.timing import StageTimer
from ..models.runtime import RuntimeOptions
from ..tracking.tracker import Tracker, TrackerConfig
from ..vision.imaging import to_bgr8
from .blazepose import BlazePoseConfig, BlazePosePipeline
from .detection import DETECTORS, DetectorConfig
from .heads import HEADS, PoseHead
from .movenet import MoveNetConfig, MoveNetMultiPose, MoveNetSinglePose, MultiPoseConfig
from .topdown import TopDownConfig, TopDownPipeline

PIPELINES = ("blazepose", "topdown", "rtmpose", "movenet", "movenet-multipose")
DEFAULT_PIPELINE = "blazepose"
#: `--pipeline rtmpose` is the shorthand for this detector and head
RTMPOSE_DEFAULT = ("rtmdet-nano", "rtmpose-s")


@dataclass(frozen=True)
class PipelineOptions:
    pipeline: str = DEFAULT_PIPELINE
    #: BlazePose landmark variant: lite, full or heavy
    variant: str = "full"
    static_image_mode: bool = False
    #: top-down: person detector and pose head ids (`pose` is also the model of the
    #: single-person MoveNet pipeline: movenet-thunder or movenet-lightning)
    detector: str = "rtmdet-nano"
    pose: str = "movenet-thunder"
    #: top-down detector: minimum score, people kept per frame
    det_score: float = 0.5
    max_people: int = 6
    #: MoveNet (both modes): minimum person score
    min_person_score: float = 0.2
    runtime: RuntimeOptions = RuntimeOptions()

    def __post_init__(self):
        if self.pipeline not in PIPELINES:
            raise ValueError(f"unknown pipeline {self.pipeline!r}; choose from {PIPELINES}")
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; choose from {DETECTORS}")
        if self.pose not in HEADS:
            raise ValueError(f"unknown pose head {self.pose!r}; choose from {sorted(HEADS)}")

    def model_ids(self) -> list[str]:
        """The model files this pipeline opens (for `demo`'s prepare step and reports)."""
        if self.pipeline == "blazepose":
            return ["blazepose-detector", f"blazepose-landmark-{self.variant}"]
        if self.pipeline in ("topdown", "rtmpose"):
            det, pose = RTMPOSE_DEFAULT if self.pipeline == "rtmpose" else (self.detector,
                                                                          self.pose)
            return [det, HEADS[pose].model]
        if self.pipeline == "movenet":
            return [self.pose]
        return ["movenet-multipose"]


def create_pipeline(options: PipelineOptions):
    o = options
    if o.pipeline == "blazepose":
        return BlazePosePipeline(BlazePoseConfig(
            variant=o.variant, static_image_mode=o.static_image_mode, runtime=o.runtime))
    if o.pipeline in ("topdown", "rtmpose"):
        det, pose = RTMPOSE_DEFAULT if o.pipeline == "rtmpose" else (o.detector, o.pose)
        return TopDownPipeline(TopDownConfig(
            pose=pose, detector=DetectorConfig(model=det, score_threshold=o.det_score,
                                               max_people=o.max_people),
            runtime=o.runtime))
    if o.pipeline == "movenet":
        return MoveNetSinglePose(MoveNetConfig(
            model=o.pose, min_person_score=o.min_person_score,
            static_image_mode=o.static_image_mode, runtime=o.runtime))
    return MoveNetMultiPose(MultiPoseConfig(min_person_score=o.min_person_score,
                                            runtime=o.runtime))


def box_runner(pipeline):
    """A callable (image, boxes) → FrameResult running the pose model on given boxes, e.g.
    ground-truth boxes for `eval --gt-boxes`. Pipelines that crop one person reuse their
    landmark model as a top-down head (square crop, 1.25 × the box's long side)."""
    if isinstance(pipeline, TopDownPipeline):
        return pipeline.process_boxes
    if isinstance(pipeline, BlazePosePipeline):
        head = PoseHead(f"blazepose-{pipeline.config.variant}", model=pipeline.landmarker)
    elif isinstance(pipeline, MoveNetSinglePose):
        head = PoseHead(pipeline.config.model, model=pipeline.model)
    else:
        raise ValueError(f"{type(pipeline).__name__} looks at the whole image and cannot run "
                         "on given boxes (no --gt-boxes for it)")

    def run(image: np.ndarray, boxes: np.ndarray, stamp: float = 0.0) -> FrameResult:
        bgr = to_bgr8(image)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        people = head(bgr, boxes, np.ones(len(boxes), np.float32), StageTimer())
        return FrameResult(stamp, (bgr.shape[1], bgr.shape[0]), head.topology.name, people)
    return run


class TrackedPipeline:
    """A pipeline followed by the tracker, for video: same `process(image, stamp)` interface.

    Pipelines that accept boxes (`process_tracked`, the top-down pipeline) run the detector
    only when the tracker says so and otherwise crop where the tracked poses are heading.
    """

    def __init__(self, pipeline, config: TrackerConfig | None = None):
        self.pipeline = pipeline
        self.config = config or TrackerConfig()
        self.topology = pipeline.topology
        self.models = pipeline.models
        self.tracker = Tracker(self.config, pipeline.topology)
        self.frames = 0

    @property
    def detector_runs(self) -> int:
        return getattr(self.pipeline, "detector_runs", 0)

    def reset(self) -> None:
        self.pipeline.reset()
        self.tracker.reset()
        self.frames = 0

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        if hasattr(self.pipeline, "process_tracked"):
            boxes, scores = self.tracker.pose_boxes()
            detect = self.tracker.detection_due(boxes)
            result = self.pipeline.process_tracked(image, stamp, boxes, scores, detect,
                                                   self.config.det_merge_iou)
            self.tracker.note_frame(detect)
        else:
            result = self.pipeline.process(image, stamp)
        self.frames += 1
        start = time.perf_counter()
        tracked = self.tracker.update(result, stamp)
        tracked.timings["tracking"] = (time.perf_counter() - start) * 1000.0
        return tracked
