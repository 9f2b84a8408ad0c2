"""BlazePose detector-tracker: detector → aligned region → landmark model → next region.

In tracking mode the detector runs only when there is no region from the previous frame; the
next frame's region comes from the current frame's two auxiliary landmarks (hip centre and
scale point), smoothed with the One-Euro filter MediaPipe applies to them. A pose flag below
`min_tracking_confidence` drops the person and the next frame runs the detector again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ..core.numeric import sigmoid
from ..core.results import FrameResult, Person
from ..core.timing import StageTimer
from ..core.topology import BLAZEPOSE33
from ..models.runtime import ModelPool, RuntimeOptions, open_model
from ..tracking.smoothing import OneEuroFilter, OneEuroParams
from ..vision.crops import (
    RotatedRect,
    aligned_rect,
    crop_matrix,
    to_input,
    warp_crop,
    whole_image_rect,
)
from ..vision.imaging import check_bgr8
from .base import DEFAULT_VARIANT, DET_SCORE, MIN_TRACKING_CONFIDENCE, Pipeline, head_on_boxes
from .blazepose_decode import Landmarks, decode_detections, decode_landmarks, landmarks_person
from .heads import PoseHead

VARIANTS = ("lite", "full", "heavy")
#: MediaPipe's filter on the auxiliary landmarks: steady regions when still, responsive moves.
#: The speed term is divided by the person's scale, 2·|scale point − hip centre| of the raw
#: points (MediaPipe's OBJECT_SCALE_ROI), so it does not depend on the size in pixels.
ROI_FILTER = OneEuroParams(min_cutoff=0.01, beta=10.0, d_cutoff=1.0, max_gap=1.0)


@dataclass(frozen=True)
class BlazePoseConfig:
    """MediaPipe Pose's settings, by MediaPipe's names."""

    variant: str = DEFAULT_VARIANT  # the landmark model: lite, full or heavy
    #: every image on its own (the detector each time), not a tracked video
    static_image_mode: bool = False
    min_detection_confidence: float = DET_SCORE
    #: a pose flag below this drops the person and runs the detector again
    min_tracking_confidence: float = MIN_TRACKING_CONFIDENCE
    #: heatmap refinement window (MediaPipe 0.10.14 behaves like 9; 0 turns it off)
    refine_kernel: int = 9
    segmentation: bool = False
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {value}")
        if self.refine_kernel < 0 or (self.refine_kernel and self.refine_kernel % 2 == 0):
            raise ValueError(f"refine_kernel must be 0 or odd, not {self.refine_kernel}")


class BlazePosePipeline(Pipeline):
    """One person, 33 keypoints with visibility and presence, world landmarks."""

    topology = BLAZEPOSE33
    runs_on_boxes = True

    def __init__(self, config: BlazePoseConfig | None = None, pool: ModelPool | None = None):
        self.config = config or BlazePoseConfig()
        self.detector = open_model("blazepose-detector", self.config.runtime, pool)
        # the segmentation branch is a build of its own, loaded only when it is wanted
        seg = "-seg" if self.config.segmentation else ""
        self.landmarker = open_model(f"blazepose-landmark-{self.config.variant}{seg}",
                                     self.config.runtime, pool)
        self.models = [self.detector, self.landmarker]
        self._roi_filter = OneEuroFilter(ROI_FILTER)
        self._box_head: PoseHead | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the tracked region and the detector-run count (e.g. on a new video)."""
        self.reset_tracking()
        self.detector_runs = 0

    def apply(self, options, tracker_config=None) -> None:
        self.config = replace(self.config, min_detection_confidence=float(options.det_score),
                              min_tracking_confidence=float(options.min_tracking_confidence))

    @property
    def next_region(self) -> RotatedRect | None:
        """The region the next frame is cropped from (None: the detector runs first)."""
        return None if self.config.static_image_mode else self._next_rect

    def detect_region(self, bgr: np.ndarray, timer: StageTimer) -> RotatedRect | None:
        spec = self.detector.spec
        h, w = bgr.shape[:2]
        letterbox = whole_image_rect(w, h)
        with timer.stage("preprocess"):
            size = spec.input_size
            x = to_input(warp_crop(bgr, letterbox, size[0], size[1], "zero")[None], spec)
        out = self.detector.run(x)
        timer.add(f"model:{spec.id}", self.detector.last_ms)
        self.detector_runs += 1
        with timer.stage("postprocess"):
            dets = decode_detections(out["boxes"][0], out["scores"][0], letterbox,
                                     self.config.min_detection_confidence)
            if not dets:
                return None
            return aligned_rect(dets[0].keypoints[0], dets[0].keypoints[1])

    def landmarks(self, bgr: np.ndarray, rect: RotatedRect,
                  timer: StageTimer) -> tuple[Landmarks, np.ndarray | None]:
        """Landmarks of the person in `rect` of a BGR image, and the segmentation logits
        where the model gives them."""
        spec = self.landmarker.spec
        size = spec.input_size
        with timer.stage("preprocess"):
            x = to_input(warp_crop(bgr, rect, size[0], size[1], "replicate")[None], spec)
        out = self.landmarker.run(x)
        timer.add(f"model:{spec.id}", self.landmarker.last_ms)
        with timer.stage("postprocess"):
            lm = decode_landmarks(out["landmarks"][0], out["pose_flag"][0], out["heatmap"][0],
                                  out["world"][0], rect, size[0], self.config.refine_kernel)
        seg = out.get("segmentation")
        return lm, None if seg is None else seg[0, :, :, 0]

    def _mask(self, seg_logits: np.ndarray, rect: RotatedRect, w: int, h: int) -> np.ndarray:
        prob = sigmoid(np.clip(seg_logits, -80, 80)).astype(np.float32)
        m = crop_matrix(rect, prob.shape[1], prob.shape[0])
        return cv2.warpPerspective(prob, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def process(self, image: np.ndarray, stamp: float = 0.0) -> FrameResult:
        """Estimate the pose in one BGR image; `stamp` (seconds) drives the region filter."""
        timer = StageTimer()
        h, w = check_bgr8(image).shape[:2]
        result = FrameResult(stamp, (w, h), self.topology, timings=timer.ms)
        rect = self.next_region
        if rect is None:
            rect = self.detect_region(image, timer)
            if rect is None:
                self.reset_tracking()
                return result
        lm, seg = self.landmarks(image, rect, timer)
        if lm.pose_score < self.config.min_tracking_confidence:
            self.reset_tracking()
            return result
        with timer.stage("postprocess"):
            result.people.append(self.to_person(lm, seg, rect, w, h))
            self._track(lm, stamp)
        return result

    def process_boxes(self, image: np.ndarray, boxes: np.ndarray,
                      scores: np.ndarray | None = None, stamp: float = 0.0,
                      timer: StageTimer | None = None) -> FrameResult:
        """The landmark model as a top-down head on given boxes (square crop, 1.25 × the
        box's long side), e.g. ground-truth boxes for `eval --gt-boxes`."""
        if self._box_head is None:
            self._box_head = PoseHead(f"blazepose-{self.config.variant}", model=self.landmarker)
        return head_on_boxes(self._box_head, image, boxes, scores, stamp, timer)

    def reset_tracking(self) -> None:
        """Forget the tracked region: the next frame runs the detector."""
        self._next_rect: RotatedRect | None = None
        self._roi_filter.reset()

    def to_person(self, lm: Landmarks, seg, rect: RotatedRect, w: int, h: int) -> Person:
        person = landmarks_person(lm)
        if self.config.segmentation and seg is not None:
            person.segmentation = self._mask(seg, rect, w, h)
        return person

    def _track(self, lm: Landmarks, stamp: float) -> None:
        if self.config.static_image_mode:
            return
        aux = lm.aux.astype(np.float64)
        scale = 2.0 * float(np.hypot(*(aux[1] - aux[0])))
        if scale > 1e-6:
            aux = self._roi_filter(aux, stamp, 1.0 / scale)
        rect = aligned_rect(aux[0], aux[1])
        self._next_rect = rect if math.isfinite(rect.width) and rect.width > 1 else None

