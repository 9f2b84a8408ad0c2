"""Top-down multi-person pipeline (RTMPose paper): person detector → crops → pose head."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..core.results import FrameResult
from ..core.timing import StageTimer
from ..models.runtime import ModelPool, RuntimeOptions
from ..vision.imaging import check_bgr8
from ..vision.nms import suppress_duplicate_people
from .base import DEFAULT_POSE, Pipeline, boxes_array
from .detection import DetectorConfig, PersonDetector
from .heads import PoseHead, get_head


@dataclass(frozen=True)
class TopDownConfig:
    pose: str = DEFAULT_POSE
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    #: OKS pose NMS threshold (IoU where the topology has no OKS sigmas); 1 turns it off
    pose_nms_threshold: float = 0.5
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        get_head(self.pose)  # raises ValueError naming the known heads
        if not 0.0 < self.pose_nms_threshold <= 1.0:
            raise ValueError(f"pose_nms_threshold must be in (0, 1], not "
                             f"{self.pose_nms_threshold}")


class TopDownPipeline(Pipeline):
    runs_on_boxes = True
    has_detector = True

    def __init__(self, config: TopDownConfig | None = None, pool: ModelPool | None = None):
        self.config = config or TopDownConfig()
        self.detector = PersonDetector(replace(self.config.detector, runtime=self.config.runtime),
                                       pool)
        self.head = PoseHead(self.config.pose, self.config.runtime, pool=pool)
        self.topology = self.head.topology
        self.models = [self.detector.model, self.head.model]
        self.reset()

    @property
    def max_people(self) -> int:
        """People per frame: the detector's limit, which also caps the tracker's boxes (one
        value, so that a runtime change applies to every frame)."""
        return self.detector.config.max_people

    def apply(self, options, tracker_config=None) -> None:
        detector = replace(self.detector.config, score_threshold=float(options.det_score),
                           max_people=int(options.max_people))
        self.detector.config = detector
        self.config = replace(self.config, detector=detector)

    def detect(self, image: np.ndarray, timer: StageTimer) -> tuple[np.ndarray, np.ndarray]:
        self.detector_runs += 1
        return self.detector(image, timer)

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        """Detector, a crop per box, pose NMS."""
        timer = StageTimer()
        boxes, scores = self.detect(check_bgr8(image), timer)
        result = self.process_boxes(image, boxes, scores, stamp, timer)
        with timer.stage("postprocess"):
            result.people = suppress_duplicate_people(result.people, self.topology.sigmas,
                                                      self.config.pose_nms_threshold)
        return result

    def process_boxes(self, image: np.ndarray, boxes: np.ndarray,
                      scores: np.ndarray | None = None, stamp: float = 0.0,
                      timer: StageTimer | None = None) -> FrameResult:
        """The pose head on given boxes (score 1 where none are given), one person per box in
        order and no pose NMS: ground-truth boxes are distinct people, and the tracker runs
        the NMS on its own boxes' poses."""
        timer = timer or StageTimer()
        boxes, scores = boxes_array(boxes, scores)
        h, w = check_bgr8(image).shape[:2]
        people = self.head(image, boxes, scores, timer)
        return FrameResult(stamp, (w, h), self.topology, people, timer.ms)
