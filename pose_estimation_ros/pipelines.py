"""Pipeline registry: a name on the command line (or a ROS parameter) → a configured pipeline.

Every pipeline offers `process(bgr_image, stamp) -> FrameResult`, `reset()`, `models` (the
runtime models it holds, for timing and provider reports) and, for evaluation on given
person boxes, `process_boxes(bgr_image, boxes, stamp) -> FrameResult`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blazepose import BlazePoseConfig, BlazePosePipeline
from .crop import RotatedRect
from .imaging import to_bgr8
from .results import FrameResult
from .runtime import RuntimeOptions
from .timing import StageTimer

PIPELINES = ("blazepose",)
DEFAULT_PIPELINE = "blazepose"


@dataclass(frozen=True)
class PipelineOptions:
    pipeline: str = DEFAULT_PIPELINE
    #: BlazePose landmark variant: lite, full or heavy
    variant: str = "full"
    static_image_mode: bool = False
    runtime: RuntimeOptions = RuntimeOptions()

    def __post_init__(self):
        if self.pipeline not in PIPELINES:
            raise ValueError(f"unknown pipeline {self.pipeline!r}; choose from {PIPELINES}")


class BlazePoseBoxes:
    """BlazePose's landmark model on given person boxes (for `eval --gt-boxes`)."""

    def __init__(self, pipeline: BlazePosePipeline):
        self.pipeline = pipeline

    def __call__(self, image: np.ndarray, boxes: np.ndarray, stamp: float = 0.0) -> FrameResult:
        timer = StageTimer()
        image = to_bgr8(image)
        h, w = image.shape[:2]
        result = FrameResult(stamp, (w, h), self.pipeline.topology.name, timings=timer.ms)
        for box in boxes:
            x1, y1, x2, y2 = (float(v) for v in box)
            # A square of the box's long side, enlarged like MediaPipe's regions (1.25).
            side = max(x2 - x1, y2 - y1) * 1.25
            rect = RotatedRect((x1 + x2) / 2, (y1 + y2) / 2, side, side, 0.0)
            lm, seg = self.pipeline.landmarks(image, rect, timer)
            result.people.append(self.pipeline.to_person(lm, seg, rect, w, h))
        return result


def create_pipeline(options: PipelineOptions):
    if options.pipeline == "blazepose":
        return BlazePosePipeline(BlazePoseConfig(
            variant=options.variant, static_image_mode=options.static_image_mode,
            runtime=options.runtime))
    raise ValueError(f"unknown pipeline {options.pipeline!r}")


def box_runner(pipeline):
    """A callable (image, boxes) → FrameResult running the pose model on given boxes."""
    if isinstance(pipeline, BlazePosePipeline):
        return BlazePoseBoxes(pipeline)
    raise ValueError(f"{type(pipeline).__name__} cannot run on given boxes")
