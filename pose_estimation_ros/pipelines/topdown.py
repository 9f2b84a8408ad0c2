"""Top-down multi-person pipeline (RTMPose paper): person detector → crops → pose head."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..core.results import FrameResult
from ..core.timing import StageTimer
from ..models.runtime import RuntimeOptions
from ..vision.imaging import to_bgr8
from ..vision.nms import priority_nms, suppress_duplicate_people
from .detection import DetectorConfig, PersonDetector
from .heads import PoseHead, get_head


@dataclass(frozen=True)
class TopDownConfig:
    pose: str = "rtmpose-s"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    #: OKS pose NMS threshold (IoU where the topology has no OKS sigmas); 1 turns it off
    pose_nms_threshold: float = 0.5
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        get_head(self.pose)  # raises ValueError naming the known heads
        if not 0.0 < self.pose_nms_threshold <= 1.0:
            raise ValueError(f"pose_nms_threshold must be in (0, 1], not "
                             f"{self.pose_nms_threshold}")


class TopDownPipeline:
    def __init__(self, config: TopDownConfig | None = None):
        self.config = config or TopDownConfig()
        self.detector = PersonDetector(replace(self.config.detector, runtime=self.config.runtime))
        self.head = PoseHead(self.config.pose, self.config.runtime)
        self.topology = self.head.topology
        self.models = [self.detector.model, self.head.model]
        self.detector_runs = 0

    @property
    def providers(self) -> dict[str, str]:
        return {m.spec.id: m.provider for m in self.models}

    def reset(self) -> None:
        self.detector_runs = 0

    @property
    def max_people(self) -> int:
        """People per frame: the detector's limit, which also caps the tracker's boxes (one
        value, so that a runtime change applies to every frame)."""
        return self.detector.config.max_people

    def set_detector_limits(self, score_threshold: float, max_people: int) -> None:
        """Change the detector's score threshold and the people per frame while running."""
        detector = replace(self.detector.config, score_threshold=score_threshold,
                           max_people=max_people)
        self.detector.config = detector
        self.config = replace(self.config, detector=detector)

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        timer = StageTimer()
        bgr = to_bgr8(image)
        boxes, scores = self.detector(bgr, timer)
        self.detector_runs += 1
        return self._result(bgr, boxes, scores, stamp, timer)

    def process_tracked(self, image: np.ndarray, stamp: float, track_boxes: np.ndarray,
                        track_scores: np.ndarray, detect: bool,
                        merge_iou: float = 0.7) -> FrameResult:
        """One video frame with boxes from the tracker's poses; on detection frames the
        detector's boxes are merged in (IoU NMS, the tracks' boxes first). The tracker runs
        the pose NMS on the result."""
        timer = StageTimer()
        bgr = to_bgr8(image)
        limit = self.max_people
        boxes, scores = track_boxes.reshape(-1, 4)[:limit], track_scores.reshape(-1)[:limit]
        if detect:
            det_boxes, det_scores = self.detector(bgr, timer)
            self.detector_runs += 1
            with timer.stage("postprocess"):
                boxes = np.concatenate([boxes, det_boxes])
                scores = np.concatenate([scores, det_scores])
                keep = priority_nms(boxes, merge_iou)[:limit]
                boxes, scores = boxes[keep], scores[keep]
        return self._result(bgr, boxes, scores, stamp, timer, nms=False)

    def process_boxes(self, image: np.ndarray, boxes: np.ndarray,
                      stamp: float = 0.0) -> FrameResult:
        """The pose head on given x1, y1, x2, y2 boxes (score 1), e.g. ground-truth boxes;
        every box is a distinct person, so no pose NMS."""
        bgr = to_bgr8(image)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        return self._result(bgr, boxes, np.ones(len(boxes), np.float32), stamp, StageTimer(),
                            nms=False)

    def _result(self, bgr, boxes, scores, stamp, timer, nms: bool = True) -> FrameResult:
        h, w = bgr.shape[:2]
        people = self.head(bgr, boxes, scores, timer)
        if nms:
            with timer.stage("postprocess"):
                people = suppress_duplicate_people(people, self.topology.sigmas,
                                                   self.config.pose_nms_threshold)
        return FrameResult(stamp, (w, h), self.topology.name, people, timer.ms)
