"""The video step: a pipeline and the tracker, frame by frame (MMDeploy PoseTracker's steps).

For a pipeline with a detector (top-down) each frame is: the tracker's boxes and whether to
detect (`Tracker.plan`) → the detector when due, its boxes given to the tracks they overlap
(`Tracker.with_detections`) → the pose head on every box → the track step (`Tracker.update`,
which knows which track each pose was cropped for). Other pipelines find their people
themselves and the tracker only associates them.
"""
from __future__ import annotations

import time

import numpy as np

from ..core.results import FrameResult
from ..core.timing import StageTimer
from ..tracking.tracker import Detect, Tracker, TrackerConfig
from .base import Pipeline


class VideoPipeline:
    """Per-stream video processing: one pipeline (its own region state, models possibly
    shared) and one tracker. `process(image, stamp, detect)` as a pipeline's `process`."""

    def __init__(self, pipeline: Pipeline, config: TrackerConfig | None = None):
        self.pipeline = pipeline
        self.tracker = Tracker(config or TrackerConfig(), pipeline.topology)
        self.frames = 0
        self.crops = 0  # pose-model crops since the reset (top-down)
        self.predicted = 0  # people reported predicted because the budget left them out

    @property
    def topology(self):
        return self.pipeline.topology

    @property
    def models(self) -> list:
        return self.pipeline.models

    @property
    def detector_runs(self) -> int:
        return self.pipeline.detector_runs

    def reset(self) -> None:
        self.pipeline.reset()
        self.tracker.reset()
        self.frames = 0
        self.crops = 0
        self.predicted = 0

    def apply(self, options, tracker_config: TrackerConfig) -> None:
        """New runtime settings (ROS parameters): the pipeline's and the tracker's."""
        self.pipeline.apply(options)
        self.tracker.set_config(tracker_config)

    def process(self, image: np.ndarray, stamp: float = 0.0, detect: Detect = Detect.AUTO,
                target: int = -1) -> FrameResult:
        """One frame; `target` the follow target's track id, whom the pose budget
        (`TrackerConfig.max_crops_per_frame`) serves first."""
        plan = None
        if self.pipeline.has_detector:
            timer = StageTimer()
            limit = self.pipeline.max_people
            plan = self.tracker.plan(detect, limit)
            if plan.detect:
                boxes, scores = self.pipeline.detect(image, timer)
                with timer.stage("postprocess"):
                    plan = self.tracker.with_detections(plan, boxes, scores, limit)
            plan = self.tracker.spend(plan, target)
            self.crops += len(plan)
            self.predicted += len(plan.skipped)
            result = self.pipeline.process_boxes(image, plan.boxes, plan.scores, stamp, timer)
        else:
            result = self.pipeline.process(image, stamp)
        self.frames += 1
        start = time.perf_counter()
        tracked = self.tracker.update(result, stamp, plan)
        tracked.timings["tracking"] = (time.perf_counter() - start) * 1000.0
        return tracked
