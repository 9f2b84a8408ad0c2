"""FrameResult → ROS message objects, with the message classes passed in.

The same function builds rclpy messages in the node and rosbags messages in the tests (both
have the same field names and types), so the conversion is tested here without ROS. Every
field is passed by keyword with plain Python types (rclpy rejects numpy scalars; rosbags
needs every field).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.results import CONFIDENT, FrameResult, Person, TrackState
from ..core.topology import Topology


@dataclass
class MessageTypes:
    """The classes to build: from `pose_estimation_ros.msg`, geometry_msgs and
    builtin_interfaces under rclpy, or from a rosbags typestore."""

    PersonPoseArray: Any
    PersonPose: Any
    Keypoint: Any
    Skeleton: Any
    Point: Any
    Duration: Any
    #: builds a uint16[] field: array.array("H", …) for rclpy, a numpy array for rosbags
    uint16_array: Callable = field(default=lambda values: list(values))


def duration(types: MessageTypes, seconds: float):
    ns = max(0, int(round(seconds * 1e9)))
    return types.Duration(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _keypoints(types: MessageTypes, person: Person, positions: np.ndarray | None) -> list:
    vis = person.visibility
    out = []
    for k, (x, y) in enumerate(person.keypoints):
        position, valid = _point(types, positions[k] if positions is not None else None)
        out.append(types.Keypoint(
            x=float(x), y=float(y), score=float(person.keypoint_scores[k]),
            visibility=float(vis[k]) if vis is not None else math.nan,
            position=position, position_valid=valid))
    return out


def _point(types: MessageTypes, p: np.ndarray | None):
    if p is None or not np.all(np.isfinite(p)):
        return types.Point(x=math.nan, y=math.nan, z=math.nan), False
    return types.Point(x=float(p[0]), y=float(p[1]), z=float(p[2])), True


def to_pose_array(types: MessageTypes, result: FrameResult, header, topology: Topology,
                  latency_s: float, target_track_id: int = -1):
    """A PersonPoseArray for one frame. 3D positions come from each person's `positions` and
    `position` (filled from depth); without them every position is invalid."""
    people = []
    for person in result.people:
        x1, y1, x2, y2 = (float(v) for v in person.bbox)
        centre, valid = _point(types, person.position)
        people.append(types.PersonPose(
            track_id=int(person.track_id), track_state=TrackState(person.track_state).msg_value,
            score=float(person.score), x_min=x1, y_min=y1, x_max=x2, y_max=y2,
            keypoints=_keypoints(types, person, person.positions), position=centre,
            position_valid=valid))
    return types.PersonPoseArray(
        header=header, topology=topology.name, keypoint_names=list(topology.keypoints),
        image_width=int(result.image_size[0]), image_height=int(result.image_size[1]),
        people=people, target_track_id=int(target_track_id), latency=duration(types, latency_s))


def to_skeleton(types: MessageTypes, topology: Topology):
    return types.Skeleton(
        topology=topology.name, keypoint_names=list(topology.keypoints),
        edge_start=types.uint16_array(int(a) for a, _ in topology.edges),
        edge_end=types.uint16_array(int(b) for _, b in topology.edges))


@dataclass
class MarkerSpec:
    """What one visualization_msgs/Marker holds; the node copies it into a Marker."""

    ns: str
    id: int
    kind: str  # "LINE_LIST" or "SPHERE_LIST"
    points: list[tuple[float, float, float]]
    color: tuple[float, float, float, float]  # RGBA in 0–1
    scale: float  # line width or sphere diameter, metres


def unproject(points_px: np.ndarray, k: np.ndarray, depth: float | np.ndarray) -> np.ndarray:
    """[N,2] pixels → [N,3] camera-frame metres at `depth` (pinhole camera matrix K)."""
    k = np.asarray(k, np.float64).reshape(3, 3)
    z = np.broadcast_to(np.asarray(depth, np.float64), (len(points_px),))
    x = (points_px[:, 0] - k[0, 2]) / k[0, 0] * z
    y = (points_px[:, 1] - k[1, 2]) / k[1, 1] * z
    return np.stack([x, y, z], axis=1)


def marker_specs(result: FrameResult, topology: Topology, k: np.ndarray, depth: float,
                 colour_of: Callable[[int], tuple],
                 min_score: float = CONFIDENT) -> list[MarkerSpec]:
    """Per person a LINE_LIST skeleton and a SPHERE_LIST of joints, placed at the 3D positions
    from depth where valid, else on a plane `depth` metres in front of the camera."""
    specs = []
    for i, person in enumerate(result.people):
        xyz = unproject(person.keypoints.astype(np.float64), k, depth)
        if person.positions is not None:
            known = np.all(np.isfinite(person.positions), axis=1)
            xyz[known] = person.positions[known]
        seen = person.keypoint_scores >= min_score
        key = person.track_id if person.track_id >= 0 else i
        rgb = tuple(c / 255.0 for c in colour_of(key)[::-1])  # BGR 0–255 → RGB 0–1
        lines = [tuple(map(float, xyz[j])) for a, b in topology.edges if seen[a] and seen[b]
                 for j in (a, b)]
        joints = [tuple(map(float, p)) for p in xyz[seen]]
        specs.append(MarkerSpec("skeleton", 2 * i, "LINE_LIST", lines, (*rgb, 1.0), 0.02))
        specs.append(MarkerSpec("joints", 2 * i + 1, "SPHERE_LIST", joints, (*rgb, 1.0), 0.05))
    return specs
