"""Pipeline registry: a name on the command line (or a ROS parameter) → a configured pipeline.

`PipelineOptions` is the one flat settings struct of every pipeline (as MMDeploy's
PoseTracker params): each field's default comes from `pipelines.base`, and the CLI and the ROS
parameters take theirs from here. Pipelines built with the same `ModelPool` share their
loaded models (one set of sessions for several cameras); each keeps its own stream state.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models.runtime import ModelPool, RuntimeOptions
from .base import (
    DEFAULT_DETECTOR,
    DEFAULT_PIPELINE,
    DEFAULT_POSE,
    DEFAULT_VARIANT,
    DET_SCORE,
    MAX_PEOPLE,
    MIN_PERSON_SCORE,
    MIN_TRACKING_CONFIDENCE,
    Pipeline,
)
from .blazepose import VARIANTS, BlazePoseConfig, BlazePosePipeline
from .detection import DETECTORS, DetectorConfig
from .heads import HEADS
from .movenet import MoveNetConfig, MoveNetMultiPose, MoveNetSinglePose, MultiPoseConfig
from .topdown import TopDownConfig, TopDownPipeline

PIPELINES = ("blazepose", "topdown", "rtmpose", "movenet", "movenet-multipose")
#: `--pipeline rtmpose` is the shorthand for this detector and head
RTMPOSE_DEFAULT = ("rtmdet-nano", "rtmpose-s")


@dataclass(frozen=True)
class Family:
    """What a pipeline is, for the code that must not decide it by the pipeline's name."""

    #: a person detector, then a pose head on every box (the RTMPose paper's top-down)
    topdown: bool
    #: the setting its people's scores are held to: det_score or min_person_score
    score: str
    #: the model and threshold settings it takes (the others do not apply to it)
    takes: tuple[str, ...]


FAMILIES = {
    "blazepose": Family(False, "det_score", ("variant", "det_score", "min_tracking_confidence")),
    "topdown": Family(True, "det_score", ("detector", "pose", "det_score", "max_people")),
    "rtmpose": Family(True, "det_score", ("det_score", "max_people")),
    "movenet": Family(False, "min_person_score", ("pose", "min_person_score")),
    "movenet-multipose": Family(False, "min_person_score", ("min_person_score",)),
}


def pipeline_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown pipeline {name!r}; choose from {PIPELINES}") from None


@dataclass(frozen=True)
class PipelineOptions:
    pipeline: str = DEFAULT_PIPELINE
    #: BlazePose landmark variant: lite, full or heavy
    variant: str = DEFAULT_VARIANT
    static_image_mode: bool = False
    #: top-down: person detector and pose head ids (`pose` is also the model of the
    #: single-person MoveNet pipeline: movenet-thunder or movenet-lightning)
    detector: str = DEFAULT_DETECTOR
    pose: str = DEFAULT_POSE
    #: minimum person detector score (top-down; BlazePose's min_detection_confidence)
    det_score: float = DET_SCORE
    #: top-down: people kept per frame
    max_people: int = MAX_PEOPLE
    #: BlazePose: a pose flag below this drops the person and re-runs the detector
    min_tracking_confidence: float = MIN_TRACKING_CONFIDENCE
    #: MoveNet (both modes): minimum person score
    min_person_score: float = MIN_PERSON_SCORE
    runtime: RuntimeOptions = RuntimeOptions()

    def __post_init__(self):
        if self.pipeline not in PIPELINES:
            raise ValueError(f"unknown pipeline {self.pipeline!r}; choose from {PIPELINES}")
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose from {VARIANTS}")
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; choose from {DETECTORS}")
        if self.pose not in HEADS:
            raise ValueError(f"unknown pose head {self.pose!r}; choose from {sorted(HEADS)}")

    def model_ids(self) -> list[str]:
        """The model files this pipeline opens (for `demo`'s prepare step and reports)."""
        if self.pipeline == "blazepose":
            return ["blazepose-detector", f"blazepose-landmark-{self.variant}"]
        if self.pipeline in ("topdown", "rtmpose"):
            det, pose = self.topdown_models()
            return [det, HEADS[pose].model]
        if self.pipeline == "movenet":
            return [self.pose]
        return ["movenet-multipose"]

    def topdown_models(self) -> tuple[str, str]:
        return RTMPOSE_DEFAULT if self.pipeline == "rtmpose" else (self.detector, self.pose)


def create_pipeline(options: PipelineOptions, pool: ModelPool | None = None) -> Pipeline:
    """The pipeline `options` describe; its models come from `pool` where given (shared
    with the other pipelines of that pool), else are loaded for it alone."""
    o = options
    if o.pipeline == "blazepose":
        return BlazePosePipeline(BlazePoseConfig(
            variant=o.variant, static_image_mode=o.static_image_mode,
            min_detection_confidence=o.det_score,
            min_tracking_confidence=o.min_tracking_confidence, runtime=o.runtime), pool)
    if o.pipeline in ("topdown", "rtmpose"):
        det, pose = o.topdown_models()
        return TopDownPipeline(TopDownConfig(
            pose=pose, detector=DetectorConfig(model=det, score_threshold=o.det_score,
                                               max_people=o.max_people),
            runtime=o.runtime), pool)
    if o.pipeline == "movenet":
        return MoveNetSinglePose(MoveNetConfig(
            model=o.pose, min_person_score=o.min_person_score,
            static_image_mode=o.static_image_mode, runtime=o.runtime), pool)
    return MoveNetMultiPose(MultiPoseConfig(min_person_score=o.min_person_score,
                                            runtime=o.runtime), pool)
