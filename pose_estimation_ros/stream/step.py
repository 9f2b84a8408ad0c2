"""The frame step every path shares (the node, `bag`, `run`), after MMDeploy's PoseTracker:
the models are created once, a small per-stream state (the tracker, the follow target, the
counts) is kept here, and one frame goes through

    colour image → pipeline (+ tracker) → hands → depth partner → 3D → re-identification →
    gestures → follow target → `StepOutput`

Transports only turn messages and files into its input and its output into messages, files and
tables. `step` does a whole frame; the live node splits it into `infer` (the models, in its
worker) and `finish` (3D and target, once the depth partner is known: `stream.sync`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..core.camera import CameraError, Intrinsics, depth_intrinsics
from ..core.results import FrameResult, Person
from ..following.depth import (
    DepthConfig,
    DepthError,
    add_hand_positions,
    add_positions,
    check_depth,
)
from ..following.targets import Target, TargetConfig, TargetSelector, TargetState
from ..gestures.detector import GestureConfig, Gestures
from ..gestures.events import Gesture
from ..gestures.raised import RaisedHand
from ..hands.stage import HandConfig, HandStage
from ..tracking.reid import Identities, Reacquired, ReidConfig
from ..tracking.tracker import TrackerConfig
from .depth import DepthFrame, NoDepth, NoDepthReason


@dataclass(frozen=True)
class StepConfig:
    """Everything a stream's step does besides the models (`PipelineOptions`)."""

    tracking: bool = True
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    #: depth input configured: every frame is then counted with 3D or without, by reason
    use_depth: bool = False
    depth: DepthConfig = field(default_factory=DepthConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    depth_tolerance: float = 0.02
    reid: ReidConfig = field(default_factory=ReidConfig)
    gestures: GestureConfig = field(default_factory=GestureConfig)
    #: hands of every person (models: `create_step` opens them)
    hands: HandConfig = field(default_factory=HandConfig)


@dataclass
class StepOutput:
    """One frame's answer, for every output: messages, markers, TF, tables, the annotated
    image."""

    stamp_ns: int
    frame_id: str
    result: FrameResult  # people with ids and, where depth was paired, 3D positions
    target: Target
    #: None with 3D (or without depth input), else why the frame has none
    no_depth: NoDepth | None = None
    #: the colour camera's matrix for this frame's image size, None where unknown
    colour_k: np.ndarray | None = None
    image: np.ndarray | None = None  # the BGR input, for the annotated image
    #: people given their id back in this frame (re-identification)
    reacquired: list[Reacquired] = field(default_factory=list)
    raised: list[RaisedHand] = field(default_factory=list)  # hands held up
    gestures: list[Gesture] = field(default_factory=list)
    #: the tracker's predicted box of the target while it is occluded (drawn dashed)
    target_box: np.ndarray | None = None

    @property
    def target_person(self) -> Person | None:
        """The target as seen in this frame (None while occluded, lost or none)."""
        if self.target.state not in (TargetState.TRACKING, TargetState.REACQUIRED):
            return None
        return next((p for p in self.result.people if p.track_id == self.target.track_id),
                    None)


class FrameStep:
    """A stream's step over a pipeline (a `VideoPipeline` with tracking, else the bare one)."""

    def __init__(self, pipeline, config: StepConfig = StepConfig(),
                 hands: HandStage | None = None):
        self.pipeline = pipeline
        self.config = config
        self.hands = hands
        self.selector = TargetSelector(config.target)
        self.identities = Identities(config.reid, pipeline.topology) if config.tracking \
            else None
        self.gestures = Gestures(pipeline.topology, config.gestures)
        #: frames with 3D ("with_3d") and without, by `NoDepthReason`
        self.counts: Counter = Counter()

    @property
    def topology(self):
        return self.pipeline.topology

    @property
    def models(self) -> list:
        """Every model this step runs: the pipeline's, then the hands'."""
        return list(self.pipeline.models) + (self.hands.models if self.hands else [])

    def reset(self) -> None:
        self.pipeline.reset()
        self.selector.reset()
        self.gestures.reset()
        if self.hands is not None:
            self.hands.reset()
        if self.identities is not None:
            self.identities.reset()
        self.counts.clear()

    def apply(self, options, config: StepConfig) -> None:
        """New runtime settings (ROS parameters): thresholds of the pipeline, the tracker's,
        the depth range and the target policy; models, tracks and the target stay."""
        self.pipeline.apply(options, config.tracker)
        self.selector.set_config(config.target)
        self.gestures.set_config(config.gestures)
        if self.hands is not None:
            self.hands.config = config.hands
            self.hands.smoothing = config.tracker.one_euro if config.tracking and \
                config.tracker.smoothing else None
        if self.identities is not None:
            self.identities.config = config.reid
        self.config = config

    def step(self, image: np.ndarray, stamp_ns: int, frame_id: str = "",
             depth: DepthFrame | NoDepth | None = None, colour: Intrinsics | None = None,
             clock_s: float | None = None) -> StepOutput:
        """A whole frame: `depth` is its partner, or why it has none (None: no depth input);
        `colour` the colour camera's intrinsics where known; `clock_s` the tracker's clock
        where it is not the stamp (`stream.stamps`: a stamp of 0)."""
        clock = stamp_ns / 1e9 if clock_s is None else clock_s
        return self.finish(self.infer(image, clock), stamp_ns, frame_id, depth, colour, image)

    def infer(self, image: np.ndarray, stamp_s: float) -> FrameResult:
        """The models, the tracker and the hands on one BGR image, `stamp_s` the tracker's
        clock."""
        if self.identities is None:
            result = self.pipeline.process(image, stamp_s)
        else:  # the budget serves the follow target first
            target = self.identities.tracker_id(self.selector.track_id)
            result = self.pipeline.process(image, stamp_s, target=target)
        if self.hands is not None:
            self.hands.process(image, result)
        return result

    def finish(self, result: FrameResult, stamp_ns: int, frame_id: str,
               depth: DepthFrame | NoDepth | None, colour: Intrinsics | None,
               image: np.ndarray | None = None) -> StepOutput:
        """3D positions from the depth partner, re-identification, gestures, the follow
        target, the counts."""
        colour_k, missing = self._colour_k(colour, result.image_size)
        if self.config.use_depth or depth is not None:
            missing = missing or self._positions(result, depth, colour, colour_k)
            self.counts["with_3d" if missing is None else missing.reason] += 1
        else:
            missing = None
        back = self.identities.update(result, image) if self.identities is not None else []
        raised, gestures = self.gestures.update(result.people, result.stamp)
        first = {}
        for hand in raised:
            first[hand.track_id] = min(hand.start, first.get(hand.track_id, hand.start))
        target = self.selector.update(result, frozenset(e.track_id for e in back), first)
        return StepOutput(stamp_ns, frame_id, result, target, missing, colour_k, image, back,
                          raised, gestures, self._target_box(target))

    @property
    def confirmed_ids(self) -> int:
        """Distinct confirmed people since the reset: the tracker's confirmed tracks less
        those re-identified as someone seen before (0 without tracking)."""
        if self.identities is None:
            return 0
        return self.pipeline.tracker.confirmed_total - self.identities.reidentified

    def select_target(self, track_id: int | None) -> None:
        """Follow this track id from the next frame on (None: whom the policy picks now)."""
        self.selector.select(track_id)

    def _target_box(self, target: Target) -> np.ndarray | None:
        if target.state is not TargetState.OCCLUDED or self.identities is None:
            return None
        return self.pipeline.tracker.predicted_box(self.identities.tracker_id(target.track_id))

    @staticmethod
    def _colour_k(colour: Intrinsics | None, size) -> tuple[np.ndarray | None, NoDepth | None]:
        """The colour camera's matrix for this image size (`Intrinsics.for_size`)."""
        if colour is None:
            return None, None
        try:
            return colour.for_size(size, "colour CameraInfo"), None
        except CameraError as exc:
            return None, NoDepth.of(NoDepthReason.SIZE_MISMATCH, problem=exc)

    def _positions(self, result: FrameResult, depth, colour, colour_k) -> NoDepth | None:
        if isinstance(depth, NoDepth):
            return depth
        if depth is None:
            return NoDepth.of(NoDepthReason.NO_DEPTH_YET)
        if colour_k is None:
            return NoDepth.of(NoDepthReason.NO_CAMERA_INFO)
        try:
            h, w = check_depth(depth.depth).shape[:2]
            k = depth_intrinsics(colour, result.image_size, (w, h), depth.camera)
            add_positions(result.people, result.topology, depth.depth, k, colour_k,
                          self.config.depth)
            add_hand_positions(result.people, depth.depth, k, colour_k, self.config.depth)
        except CameraError as exc:
            return NoDepth.of(NoDepthReason.SIZE_MISMATCH, problem=exc)
        except DepthError as exc:
            return NoDepth.of(NoDepthReason.DEPTH_REJECTED, problem=exc)
        if result.people and all(p.position is None for p in result.people):
            return NoDepth.of(NoDepthReason.NO_VALID_DEPTH,
                              min_depth=self.config.depth.min_depth,
                              max_depth=self.config.depth.max_depth)
        return None

    @property
    def without_3d(self) -> dict[str, int]:
        """Frames without 3D by reason."""
        return {r.value: self.counts[r] for r in sorted(NoDepthReason, key=str)
                if self.counts[r]}


def create_step(options, config: StepConfig = StepConfig(), pool=None) -> FrameStep:
    """The step of one stream: the pipeline `options` describe (`PipelineOptions`; models from
    `pool` where given), with the tracker when `config.tracking`."""
    from ..pipelines.registry import create_pipeline
    from ..pipelines.video import VideoPipeline

    pipeline = create_pipeline(options, pool)
    hands = None
    if config.hands.enabled:
        smoothing = config.tracker.one_euro if config.tracking and config.tracker.smoothing \
            else None
        hands = HandStage(config.hands, pipeline.topology, options.runtime, pool, smoothing)
    return FrameStep(VideoPipeline(pipeline, config.tracker) if config.tracking else pipeline,
                     config, hands)
