"""Person detection for the top-down pipeline: letterbox → detector → person boxes.

Both supported detectors are OpenMMLab MMDeploy exports with NMS inside the graph: `dets`
[N, K, 5] (x1, y1, x2, y2, score in input pixels) and `labels` [N, K] (0 = person).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.timing import StageTimer
from ..models.runtime import ModelPool, RuntimeOptions, open_model
from ..vision.crops import letterbox, to_input
from .base import DEFAULT_DETECTOR, DET_SCORE, MAX_PEOPLE

DETECTORS = ("rtmdet-nano", "yolox-nano")


@dataclass(frozen=True)
class DetectorConfig:
    model: str = DEFAULT_DETECTOR
    score_threshold: float = DET_SCORE
    #: boxes whose shorter side is below this many pixels are dropped: a 16-pixel person is
    #: scaled up 12–16× into the heads' 192–256-pixel crops, too blurred for joints
    min_box_size: float = 16.0
    max_people: int = MAX_PEOPLE
    #: which people to keep when there are more than `max_people`: "score" or "area"
    order: str = "score"
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)

    def __post_init__(self):
        if self.model not in DETECTORS:
            raise ValueError(f"detector must be one of {DETECTORS}, not {self.model!r}")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], not {self.score_threshold}")
        if self.min_box_size < 0:
            raise ValueError(f"min_box_size must be >= 0, not {self.min_box_size}")
        if self.max_people < 1:
            raise ValueError(f"max_people must be >= 1, not {self.max_people}")
        if self.order not in ("score", "area"):
            raise ValueError(f"order must be 'score' or 'area', not {self.order!r}")


def filter_boxes(dets: np.ndarray, labels: np.ndarray, scale: float, offset: tuple,
                 image_size: tuple[int, int], config: DetectorConfig):
    """Raw detector rows → (boxes [M,4] in image pixels clipped to it, scores [M]), best first."""
    w, h = image_size
    keep = (labels == 0) & (dets[:, 4] >= config.score_threshold)
    boxes = (dets[keep, :4] - np.array(offset * 2, np.float32)) / scale
    scores = dets[keep, 4].astype(np.float32)
    boxes = np.clip(boxes, 0, [w - 1, h - 1, w - 1, h - 1]).astype(np.float32)
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    big = sides >= config.min_box_size
    boxes, scores = boxes[big], scores[big]
    if config.order == "area":
        key = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    else:
        key = scores
    order = np.argsort(-key, kind="stable")[:config.max_people]
    return boxes[order], scores[order]


class PersonDetector:
    def __init__(self, config: DetectorConfig | None = None, pool: ModelPool | None = None):
        self.config = config or DetectorConfig()
        self.model = open_model(self.config.model, self.config.runtime, pool)
        self.best_score = 0.0

    def __call__(self, bgr: np.ndarray, timer: StageTimer) -> tuple[np.ndarray, np.ndarray]:
        spec = self.model.spec
        h, w = bgr.shape[:2]
        with timer.stage("preprocess"):
            canvas, scale, offset = letterbox(bgr, *spec.input_size, spec.pad_value)
            x = to_input(canvas[None], spec)
        out = self.model.run(x)
        dets, labels = out["dets"][0].reshape(-1, 5), out["labels"][0].reshape(-1)
        timer.add(f"model:{spec.id}", self.model.last_ms)
        with timer.stage("postprocess"):
            scores = dets[labels == 0, 4]
            #: the best person score of the last image, kept or not (`run`'s det_score hint)
            self.best_score = float(scores.max()) if len(scores) else 0.0
            return filter_boxes(dets, labels, scale, offset, (w, h), self.config)
