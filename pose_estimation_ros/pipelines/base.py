"""What every pipeline offers, and the one place their defaults are written.

A pipeline holds its loaded models (`models`, possibly shared with other pipelines through a
`ModelPool`) and the state of one image stream (a tracked region, a detector count). Its
optional abilities are declared as class attributes, so callers ask the pipeline instead of
probing for methods:
- `runs_on_boxes`: `process_boxes` runs the pose model on given person boxes (ground-truth
  boxes for `eval --gt-boxes`, the tracker's boxes for video);
- `has_detector`: `detect` finds person boxes, so the video step (`pipelines.video`) may skip
  it on frames where the tracker's boxes are enough (top-down).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..core.results import FrameResult
from ..core.timing import StageTimer
from ..core.topology import Topology
from ..vision.imaging import check_bgr8

# Defaults of the pipeline settings, used by the config classes, the CLI and the ROS parameters.
DEFAULT_PIPELINE = "blazepose"
DEFAULT_VARIANT = "full"  # BlazePose landmark model
DEFAULT_DETECTOR = "rtmdet-nano"
#: the top-down head (and the single-person MoveNet model): Thunder, the most accurate head
#: with real weights here (README accuracy table); RTMPose weights are not distributed with it
DEFAULT_POSE = "movenet-thunder"
DET_SCORE = 0.5  # person detectors' minimum score (BlazePose's min_detection_confidence)
MAX_PEOPLE = 6  # people per frame, as MoveNet MultiPose's fixed 6
MIN_TRACKING_CONFIDENCE = 0.5  # BlazePose pose flag (MediaPipe's default)
MIN_PERSON_SCORE = 0.2  # MoveNet's person score (the TF.js model card's 0.2)


class Pipeline:
    """Base of every pipeline; see the module docstring for the abilities."""

    topology: Topology
    models: list
    runs_on_boxes: ClassVar[bool] = False
    has_detector: ClassVar[bool] = False
    #: times the person detector ran since `reset` (0 for pipelines without one)
    detector_runs: int = 0
    #: the top-down pose head (its batched/per-crop comparison in `bench`), else None
    head = None

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        """Every person in one BGR uint8 image."""
        raise NotImplementedError

    def process_boxes(self, image: np.ndarray, boxes: np.ndarray,
                      scores: np.ndarray | None = None, stamp: float = 0.0,
                      timer: StageTimer | None = None) -> FrameResult:
        """The pose model on given x1, y1, x2, y2 boxes: one person per box, in order."""
        raise ValueError(f"{type(self).__name__} looks at the whole image and cannot run on "
                         "given boxes (no --gt-boxes for it)")

    def detect(self, image: np.ndarray, timer: StageTimer) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes [M,4] and scores [M], best first."""
        raise ValueError(f"{type(self).__name__} has no person detector")

    @property
    def max_people(self) -> int | None:
        """People per frame where the pipeline limits them."""
        return None

    def apply(self, options, tracker_config=None) -> None:
        """Take the settings that may change while running (`PipelineOptions`: det_score,
        max_people, min_tracking_confidence, min_person_score); the models stay loaded.
        `tracker_config` is for the video step (`VideoPipeline`); a bare pipeline has no
        tracker."""

    def reset(self) -> None:
        """Forget the stream's state (e.g. on a new video)."""
        self.detector_runs = 0


def boxes_array(boxes, scores=None) -> tuple[np.ndarray, np.ndarray]:
    """[M,4] float32 boxes and [M] scores (1 where none are given)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = (np.ones(len(boxes), np.float32) if scores is None
              else np.asarray(scores, np.float32).reshape(-1))
    return boxes, scores


def head_on_boxes(head, image: np.ndarray, boxes, scores, stamp: float,
                  timer: StageTimer | None) -> FrameResult:
    """A pose head (`heads.PoseHead`) on given boxes: one person per box, in order."""
    check_bgr8(image)
    boxes, scores = boxes_array(boxes, scores)
    timer = timer or StageTimer()
    people = head(image, boxes, scores, timer)
    return FrameResult(stamp, (image.shape[1], image.shape[0]), head.topology, people,
                       timer.ms)
