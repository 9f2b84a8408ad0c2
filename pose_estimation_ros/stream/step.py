"""The frame step every path shares (the node, `bag`, `run`), after MMDeploy's PoseTracker:
the models are created once, a small per-stream state (the tracker, the follow target, the
counts) is kept here, and one frame goes through

    colour image → pipeline (+ tracker) → depth partner → 3D → follow target → `StepOutput`

Transports only turn messages and files into its input and its output into messages, files and
tables. `step` does a whole frame; the live node splits it into `infer` (the models, in its
worker) and `finish` (3D and target, once the depth partner is known: `stream.sync`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..core.camera import CameraError, depth_intrinsics
from ..core.results import FrameResult, Person
from ..following.depth import DepthConfig, DepthError, add_positions
from ..following.targets import Target, TargetConfig, TargetSelector
from ..tracking.tracker import TrackerConfig
from .sync import NoDepth, Pairing


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


@dataclass(frozen=True)
class DepthFrame:
    """An aligned depth image as the camera sends it (uint16 mm or float32 m) and what its
    own CameraInfo says (None: the colour camera's matrix scaled to its size)."""

    depth: np.ndarray
    k: np.ndarray | None = None
    info_size: tuple[int, int] | None = None


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
    colour_k: np.ndarray | None = None
    image: np.ndarray | None = None  # the BGR input, for the annotated image

    @property
    def target_person(self) -> Person | None:
        if self.target.track_id < 0:
            return None
        return next((p for p in self.result.people if p.track_id == self.target.track_id),
                    None)


class FrameStep:
    """A stream's step over a pipeline (a `VideoPipeline` with tracking, else the bare one)."""

    def __init__(self, pipeline, config: StepConfig = StepConfig()):
        self.pipeline = pipeline
        self.config = config
        self.selector = TargetSelector(config.target)
        self.counts: Counter = Counter()  # with_3d, and without_3d by reason

    @property
    def topology(self):
        return self.pipeline.topology

    def reset(self) -> None:
        self.pipeline.reset()
        self.selector.reset()
        self.counts.clear()

    def apply(self, options, config: StepConfig) -> None:
        """New runtime settings (ROS parameters): thresholds of the pipeline, the tracker's,
        the depth range and the target policy; models, tracks and the target stay."""
        self.pipeline.apply(options, config.tracker)
        self.selector.config = config.target
        self.config = config

    def step(self, image: np.ndarray, stamp_ns: int, frame_id: str = "",
             depth: DepthFrame | NoDepth | None = None,
             colour_k: np.ndarray | None = None) -> StepOutput:
        """A whole frame: `depth` is its partner, or why it has none (None: no depth input)."""
        return self.finish(self.infer(image, stamp_ns / 1e9), stamp_ns, frame_id, depth,
                           colour_k, image)

    def infer(self, image: np.ndarray, stamp_s: float) -> FrameResult:
        """The models and the tracker on one BGR image, `stamp_s` the tracker's clock."""
        return self.pipeline.process(image, stamp_s)

    def finish(self, result: FrameResult, stamp_ns: int, frame_id: str,
               depth: DepthFrame | NoDepth | Pairing | None, colour_k: np.ndarray | None,
               image: np.ndarray | None = None) -> StepOutput:
        """3D positions from the depth partner, the follow target, the counts."""
        if isinstance(depth, Pairing):
            depth = depth.missing if depth.missing is not None else depth.depth
        missing = None
        if self.config.use_depth or depth is not None:
            missing = self._positions(result, depth, colour_k)
            self.counts["with_3d" if missing is None else f"without_3d:{missing.key}"] += 1
        target = self.selector.update(result)
        return StepOutput(stamp_ns, frame_id, result, target, missing, colour_k, image)

    def _positions(self, result: FrameResult, depth, colour_k) -> NoDepth | None:
        if isinstance(depth, NoDepth):
            return depth
        if depth is None:
            return NoDepth("no_depth_yet", "no depth image received yet")
        if colour_k is None:
            return NoDepth("no_camera_info", "no valid CameraInfo of the colour camera: 3D "
                                             "needs its intrinsics")
        try:
            h, w = depth.depth.shape[:2]
            k = depth_intrinsics(colour_k, result.image_size, (w, h), depth.k, depth.info_size)
            add_positions(result.people, result.topology, depth.depth, k, colour_k,
                          self.config.depth)
        except CameraError as exc:
            return NoDepth("size_mismatch", str(exc), setup=True)
        except DepthError as exc:
            return NoDepth("depth_rejected", f"depth rejected: {exc}")
        return None

    @property
    def without_3d(self) -> dict[str, int]:
        """Frames without 3D by reason."""
        return {k.split(":", 1)[1]: n for k, n in sorted(self.counts.items())
                if k.startswith("without_3d:")}


def create_step(options, config: StepConfig = StepConfig(), pool=None) -> FrameStep:
    """The step of one stream: the pipeline `options` describe (`PipelineOptions`; models from
    `pool` where given), with the tracker when `config.tracking`."""
    from ..pipelines.registry import create_pipeline
    from ..pipelines.video import VideoPipeline

    pipeline = create_pipeline(options, pool)
    return FrameStep(VideoPipeline(pipeline, config.tracker) if config.tracking else pipeline,
                     config)
