"""The node's parameters as data: name, default, range, meaning, and whether a change needs a
restart. The node declares them from this table, the YAML files in config/ and the README table
are generated from it (`python -m pose_estimation_ros.transport.parameters`), and tests compare
them.
"""
from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass, replace
from typing import Any

from ..following.depth import DepthConfig
from ..following.targets import POLICIES as TARGET_POLICIES
from ..following.targets import TargetConfig
from ..models.runtime import PROVIDERS, RuntimeOptions
from ..pipelines.blazepose import VARIANTS
from ..pipelines.detection import DETECTORS
from ..pipelines.heads import HEADS
from ..pipelines.registry import PIPELINES, PipelineOptions
from ..stream.step import StepConfig
from ..tracking.tracker import TrackerConfig
from ..vision.headers import MAX_PIXELS
from .qos import MODES as QOS_MODES


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    read_only: bool = False  # loading models or topics: change needs a restart

    def coerce(self, value: Any) -> Any:
        """An integer given for a float parameter (`det_score: 1` in YAML, `ros2 param set …
        det_score 1`) is that float; everything else is returned as it is."""
        if isinstance(self.default, float) and isinstance(value, int) \
                and not isinstance(value, bool):
            return float(value)
        return value

    def check(self, value: Any) -> str | None:
        """None when `value` is acceptable, else the reason it is not, naming the parameter,
        the value and what is allowed."""
        kind = type(self.default)
        value = self.coerce(value)
        if type(value) is not kind:
            name = _KIND_NAMES[kind]
            return (f"{self.name} must be {'an' if name[0] in 'aeiou' else 'a'} {name}, not "
                    f"{value!r} "
                    f"({_KIND_NAMES.get(type(value), type(value).__name__)})")
        if kind is float and not math.isfinite(value):
            return f"{self.name} must be a finite number, not {value!r}"
        if self.choices is not None and value not in self.choices:
            return (f"{self.name} must be one of {', '.join(map(str, self.choices))}, "
                    f"not {value!r}")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            return f"{self.name} must be in [{self.min}, {self.max}], not {value!r}"
        return None


_KIND_NAMES = {bool: "boolean", int: "integer", float: "float", str: "string"}


_T = TrackerConfig()
_D = DepthConfig()
_O = PipelineOptions()  # the pipelines' defaults: one source for config classes, CLI and here
PARAMS: tuple[Param, ...] = (
    Param("pipeline", _O.pipeline, "pose pipeline", choices=PIPELINES, read_only=True),
    Param("variant", _O.variant, "BlazePose landmark model (pipeline blazepose)",
          choices=VARIANTS, read_only=True),
    Param("detector", _O.detector, "person detector (pipeline topdown)", choices=DETECTORS,
          read_only=True),
    Param("pose", _O.pose, "pose head (topdown) or MoveNet model (movenet)",
          choices=tuple(sorted(HEADS)), read_only=True),
    Param("provider", _O.runtime.provider, "onnxruntime execution provider; falls back to cpu "
          "with a warning", choices=tuple(sorted(PROVIDERS)), read_only=True),
    Param("threads", _O.runtime.threads, "onnxruntime intra-op threads (0: one per physical "
          "core)", 0, 64, read_only=True),
    Param("spin", _O.runtime.spin, "onnxruntime threads spin between operators: faster on an "
          "idle machine, slower when other processes need the cores", read_only=True),
    Param("trt_cache_dir", _O.runtime.trt_cache_dir, "TensorRT engine cache, kept across "
          "restarts (empty: tensorrt/ beside the model cache)", read_only=True),
    Param("use_compressed", False, "subscribe image/compressed instead of image",
          read_only=True),
    Param("qos_reliability", "auto", "image subscription reliability: auto matches the "
          "publishers (reliable if all are), else reliable or best_effort", choices=QOS_MODES,
          read_only=True),
    Param("max_image_pixels", MAX_PIXELS, "images (raw or compressed) with more pixels are "
          "refused from their header, before decoding", 1, 1_000_000_000),
    Param("autostart", True, "configure and activate at start; false waits for lifecycle "
          "transitions (launch file or lifecycle manager)", read_only=True),
    Param("det_score", _O.det_score, "minimum person detector score (BlazePose and top-down)",
          0.0, 1.0),
    Param("min_tracking_confidence", _O.min_tracking_confidence, "BlazePose: pose flag below "
          "this re-runs the detector", 0.0, 1.0),
    Param("min_person_score", _O.min_person_score, "MoveNet modes: minimum person score",
          0.0, 1.0),
    Param("max_people", _O.max_people, "top-down: people per frame, most confident first",
          1, 50),
    Param("tracking", True, "track ids, Kalman prediction and smoothing", read_only=True),
    Param("det_interval", _T.det_interval, "top-down with tracking: run the detector every N "
          "frames", 1, 100),
    Param("smoothing", True, "One-Euro smoothing of tracked keypoints"),
    Param("one_euro_min_cutoff", _T.one_euro.min_cutoff, "One-Euro minimum cutoff (Hz)",
          0.001, 100.0),
    Param("one_euro_beta", _T.one_euro.beta, "One-Euro speed coefficient (per person height "
          "per second)", 0.0, 1000.0),
    Param("max_missing", _T.max_missing, "frames a missing track is predicted before it is lost",
          1, 300),
    Param("use_depth", False, "subscribe depth/image and depth/camera_info (aligned to the "
          "colour image) for 3D keypoints and target_pose", read_only=True),
    Param("depth_tolerance", 0.02, "seconds colour and depth stamps may differ to pair "
          "(aligned streams share the stamp)", 0.0, 1.0),
    Param("min_depth", _D.min_depth, "metres; nearer depth is no data (below max_depth)",
          0.0, 100.0),
    Param("max_depth", _D.max_depth, "metres; farther depth is no data (above min_depth)",
          0.01, 100.0),
    Param("target_policy", "closest", "whom to follow: closest, largest, centre, track_id, none",
          choices=TARGET_POLICIES),
    Param("target_track_id", -1, "the track id to follow with target_policy track_id", -1,
          2_000_000_000),
    Param("target_timeout", 2.0, "seconds a lost target is waited for before another is chosen",
          0.0, 600.0),
    Param("publish_tf", False, "send a body_<track id> TF frame per person with 3D (needs "
          "tf2_msgs)", read_only=True),
    Param("hri.enable", False, "publish people the ROS4HRI way (REP-155: /humans/bodies/...; "
          "needs hri_msgs and tracking)", read_only=True),
    Param("marker_depth", 2.0, "metres in front of the camera where markers are drawn without "
          "depth", 0.1, 100.0),
    Param("diagnostics_period", 1.0, "seconds between /diagnostics messages", 0.1, 60.0,
          read_only=True),
)
BY_NAME = {p.name: p for p in PARAMS}


def check_all(values: dict[str, Any]) -> list[str]:
    """The reasons the known parameters among `values` are not acceptable: each on its own,
    then the rules between them (`min_depth` < `max_depth`), at start and at run time alike."""
    problems = [reason for name, v in values.items()
                if name in BY_NAME and (reason := BY_NAME[name].check(v))]
    if not problems:
        try:
            step_config(values)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def coerce_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: BY_NAME[name].coerce(v) if name in BY_NAME else v
            for name, v in values.items()}


#: parameters every rclpy node has, and prefixes rclpy itself reads
_ROS_OWN = ("use_sim_time", "start_type_description_service")
_ROS_PREFIXES = ("qos_overrides.",)


def unknown_parameters(names) -> list[str]:
    """A warning for each given name this node does not have (a misspelt YAML key), with the
    closest known name."""
    warnings = []
    for name in sorted(names):
        if name in BY_NAME or name in _ROS_OWN or name.startswith(_ROS_PREFIXES):
            continue
        close = difflib.get_close_matches(name, BY_NAME, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        warnings.append(f"unknown parameter {name!r} is ignored{hint}")
    return warnings


def pipeline_options(values: dict[str, Any]) -> PipelineOptions:
    v = {p.name: values.get(p.name, p.default) for p in PARAMS}
    return PipelineOptions(
        pipeline=v["pipeline"], variant=v["variant"], detector=v["detector"], pose=v["pose"],
        det_score=float(v["det_score"]), max_people=v["max_people"],
        min_tracking_confidence=float(v["min_tracking_confidence"]),
        min_person_score=float(v["min_person_score"]),
        runtime=RuntimeOptions(provider=v["provider"], threads=v["threads"], spin=v["spin"],
                               trt_cache_dir=v["trt_cache_dir"]))


def tracker_config(values: dict[str, Any]) -> TrackerConfig:
    v = {p.name: values.get(p.name, p.default) for p in PARAMS}
    return replace(_T, det_interval=v["det_interval"], smoothing=v["smoothing"],
                   max_missing=v["max_missing"],
                   one_euro=replace(_T.one_euro, min_cutoff=float(v["one_euro_min_cutoff"]),
                                    beta=float(v["one_euro_beta"])))


def depth_config(values: dict[str, Any]) -> DepthConfig:
    v = {p.name: values.get(p.name, p.default) for p in PARAMS}
    return replace(_D, min_depth=float(v["min_depth"]), max_depth=float(v["max_depth"]))


def target_config(values: dict[str, Any]) -> TargetConfig:
    v = {p.name: values.get(p.name, p.default) for p in PARAMS}
    return TargetConfig(policy=v["target_policy"], track_id=int(v["target_track_id"]),
                        timeout=float(v["target_timeout"]))


def step_config(values: dict[str, Any]) -> StepConfig:
    v = {p.name: values.get(p.name, p.default) for p in PARAMS}
    return StepConfig(tracking=bool(v["tracking"]), tracker=tracker_config(values),
                      use_depth=bool(v["use_depth"]), depth=depth_config(values),
                      target=target_config(values), depth_tolerance=float(v["depth_tolerance"]))


def _yaml_value(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, str) else str(v)


def config_yaml(pipeline: str, overrides: dict[str, Any] | None = None) -> str:
    """The documented parameter file for one pipeline (config/<name>.yaml)."""
    values = {p.name: p.default for p in PARAMS} | {"pipeline": pipeline} | (overrides or {})
    lines = [f"# Parameters of pose_estimation_node for the {pipeline} pipeline.",
             "# Generated by `python -m pose_estimation_ros.transport.parameters`; every parameter",
             "# is listed with its range. (ro) = read-only: a change needs a restart.",
             "/**:", "  ros__parameters:"]
    for p in PARAMS:
        rng = (f" [{p.min}, {p.max}]" if p.min is not None else
               f" ({' | '.join(map(str, p.choices))})" if p.choices else "")
        lines.append(f"    # {p.description}{rng}{' (ro)' if p.read_only else ''}")
        lines.append(f"    {p.name}: {_yaml_value(values[p.name])}")
    return "\n".join(lines) + "\n"


#: the shipped parameter files and their differences from the defaults
CONFIGS = {
    "blazepose": {},
    "rtmpose": {"pose": "rtmpose-s"},
    "movenet": {"pose": "movenet-thunder"},
}


def readme_table() -> str:
    rows = ["| name | default | range | meaning |", "|---|---|---|---|"]
    for p in PARAMS:
        rng = (f"{p.min} – {p.max}" if p.min is not None else
               ", ".join(map(str, p.choices)) if p.choices else
               "true, false" if isinstance(p.default, bool) else "a path or text")
        ro = " (read-only: restart)" if p.read_only else ""
        rows.append(f"| `{p.name}` | `{_yaml_value(p.default)}` | {rng} | {p.description}{ro} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # regenerate config/*.yaml; print the README table
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "config"
    for name, overrides in CONFIGS.items():
        (root / f"{name}.yaml").write_text(config_yaml(name, overrides))
    sys.stdout.write(readme_table())
