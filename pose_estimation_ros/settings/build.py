"""Settings values (a node's parameters, a command line's flags: name → value) → the objects the
core takes: `PipelineOptions`, `StepConfig` (tracker, depth, target) and the output plan's
`OutputOptions`. Every path builds them here, so a flag reaches the step the way the parameter
of the same name does; values missing from a mapping take the table's default."""
from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

from ..following.depth import DepthConfig
from ..following.targets import TargetConfig
from ..gestures.detector import GestureConfig
from ..hands.stage import HandConfig
from ..models.runtime import RuntimeOptions
from ..pipelines.registry import PipelineOptions
from ..stream.step import StepConfig
from ..tracking.reid import ReidConfig
from ..tracking.tracker import TrackerConfig
from ..transport.plan import OutputOptions
from .table import BY_NAME, PARAMS

_DEFAULTS = {p.name: p.default for p in PARAMS}


def _full(values: dict[str, Any]) -> dict[str, Any]:
    return _DEFAULTS | coerce_all(values)


def coerce_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: BY_NAME[name].coerce(v) if name in BY_NAME else v
            for name, v in values.items()}


def check_all(values: dict[str, Any], labels: dict[str, str] | None = None) -> list[str]:
    """The reasons the known settings among `values` are not acceptable: each on its own,
    then the rules between them (`min_depth` < `max_depth`), at start and at run time alike.
    `labels` names them as the user gave them (`--det-score`)."""
    labels = labels or {}
    problems = [reason for name, v in values.items()
                if name in BY_NAME and (reason := BY_NAME[name].check(v, labels.get(name, "")))]
    if not problems:
        try:
            step_config(values)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


#: parameters every rclpy node has, and prefixes rclpy itself reads
_ROS_OWN = ("use_sim_time", "start_type_description_service")
_ROS_PREFIXES = ("qos_overrides.",)


def unknown_parameters(names) -> list[str]:
    """A warning for each given name the node does not have (a misspelt YAML key), with the
    closest known name."""
    warnings = []
    for name in sorted(names):
        if name in BY_NAME or name in _ROS_OWN or name.startswith(_ROS_PREFIXES):
            continue
        close = difflib.get_close_matches(name, BY_NAME, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        warnings.append(f"unknown parameter {name!r} is ignored{hint}")
    return warnings


def pipeline_options(values: dict[str, Any], static: bool = False) -> PipelineOptions:
    v = _full(values)
    return PipelineOptions(
        pipeline=v["pipeline"], variant=v["variant"], static_image_mode=static,
        detector=v["detector"], pose=v["pose"], det_score=float(v["det_score"]),
        max_people=int(v["max_people"]),
        min_tracking_confidence=float(v["min_tracking_confidence"]),
        min_person_score=float(v["min_person_score"]),
        runtime=RuntimeOptions(provider=v["provider"], threads=int(v["threads"]),
                               spin=bool(v["spin"]), trt_cache_dir=v["trt_cache_dir"]))


def tracker_config(values: dict[str, Any]) -> TrackerConfig:
    v, base = _full(values), TrackerConfig()
    return replace(base, det_interval=v["det_interval"], smoothing=v["smoothing"],
                   max_missing=v["max_missing"], max_crops_per_frame=v["max_crops_per_frame"],
                   max_refresh_interval=v["max_refresh_interval"],
                   one_euro=replace(base.one_euro, min_cutoff=float(v["one_euro_min_cutoff"]),
                                    beta=float(v["one_euro_beta"])))


def depth_config(values: dict[str, Any]) -> DepthConfig:
    v = _full(values)
    return replace(DepthConfig(), min_depth=float(v["min_depth"]),
                   max_depth=float(v["max_depth"]))


def target_config(values: dict[str, Any]) -> TargetConfig:
    v = _full(values)
    return TargetConfig(policy=v["target_policy"], track_id=int(v["target_track_id"]),
                        timeout=float(v["target_timeout"]), on_lost=v["on_target_lost"])


def step_config(values: dict[str, Any]) -> StepConfig:
    v = _full(values)
    return StepConfig(tracking=bool(v["tracking"]), tracker=tracker_config(v),
                      use_depth=bool(v["use_depth"]), depth=depth_config(v),
                      target=target_config(v), depth_tolerance=float(v["depth_tolerance"]),
                      reid=replace(ReidConfig(), window=float(v["reid_window"]),
                                   threshold=float(v["reid_threshold"])),
                      gestures=GestureConfig(hold=float(v["gesture_hold"]),
                                             pointing_hold=float(v["pointing_hold"]),
                                             floor=floor_plane(v["floor_plane"])),
                      hands=hand_config(v))


def hand_config(values: dict[str, Any]) -> HandConfig:
    v = _full(values)
    return HandConfig(enabled=bool(v["hands"]), variant=v["hand_model"],
                      recrop=bool(v["hand_recrop"]), min_size=float(v["hand_min_size"]),
                      min_presence=float(v["hand_min_presence"]))


def floor_plane(text: str) -> tuple[float, float, float, float] | None:
    """'a,b,c,d' → the plane with a unit normal; '' → None (unknown)."""
    if not text.strip():
        return None
    try:
        a, b, c, d = (float(x) for x in text.replace(" ", ",").split(",") if x)
    except ValueError:
        raise ValueError(f"floor_plane must be four numbers 'a,b,c,d', not {text!r}") from None
    norm = (a * a + b * b + c * c) ** 0.5
    if not 0 < norm < float("inf") or d != d or abs(d) == float("inf"):
        raise ValueError(f"floor_plane {text!r}: (a, b, c) must be a finite, non-zero normal "
                         "and d finite")
    return a / norm, b / norm, c / norm, d / norm


def output_options(values: dict[str, Any], markers: bool = True,
                   annotated: bool = True) -> OutputOptions:
    """What the output plan builds: the node offers markers and the annotated image (built
    while someone subscribes), `bag` writes them when asked (`--markers`, `--annotated`)."""
    v = _full(values)
    return OutputOptions(target_pose=bool(v["use_depth"]),
                         target_pose_predicted=bool(v["target_pose_predicted"]), markers=markers,
                         annotated=annotated, body_tf=bool(v["publish_tf"]),
                         rep155=bool(v["hri.enable"]), marker_depth=float(v["marker_depth"]),
                         hands=bool(v["hands"]))


def defaults() -> dict[str, Any]:
    """Every node parameter at its default."""
    return dict(_DEFAULTS)
