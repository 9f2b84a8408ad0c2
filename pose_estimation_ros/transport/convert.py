"""The frame step's output → ROS messages of any implementation: the node builds rclpy
messages, `bag` rosbags messages, through the same functions, with a `MessageFactory` that
knows how to make each type. Every field is passed by keyword with plain Python types (rclpy
rejects numpy scalars); a factory fills the fields a function leaves out (rosbags needs all).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from ..core.camera import deproject
from ..core.results import CONFIDENT, FrameResult, Person, TrackState
from ..core.topology import HAND21, Topology
from ..following.targets import Target, facing_camera
from ..gestures.events import Gesture
from ..stream.step import StepOutput
from ..vision.draw import colour_for, draw_gestures, draw_result


class MessageFactory(Protocol):
    def new(self, typename: str, **fields) -> Any:
        """A message of `typename` (e.g. "geometry_msgs/msg/Point") with `fields` set."""

    def uint16s(self, values) -> Any:
        """A uint16[] field."""

    def uint8s(self, data: bytes) -> Any:
        """A uint8[] field (image data)."""


def duration(f: MessageFactory, seconds: float):
    ns = max(0, int(round(seconds * 1e9)))
    return f.new("builtin_interfaces/msg/Duration", sec=ns // 1_000_000_000,
                 nanosec=ns % 1_000_000_000)


def point(f: MessageFactory, p) -> tuple[Any, bool]:
    """A geometry_msgs/Point and whether it is valid: NaN (never a fake 0) where unknown."""
    if p is None or not np.all(np.isfinite(p)):
        return f.new("geometry_msgs/msg/Point", x=math.nan, y=math.nan, z=math.nan), False
    return f.new("geometry_msgs/msg/Point", x=float(p[0]), y=float(p[1]), z=float(p[2])), True


def _keypoints(f: MessageFactory, points: np.ndarray, scores, visibility=None,
               positions=None) -> list:
    out = []
    for k, (x, y) in enumerate(points):
        position, valid = point(f, positions[k] if positions is not None else None)
        out.append(f.new(
            "pose_estimation_ros/msg/Keypoint", x=float(x), y=float(y),
            score=float(scores[k]),
            visibility=float(visibility[k]) if visibility is not None else math.nan,
            position=position, position_valid=valid))
    return out


def _hands(f: MessageFactory, person: Person) -> list:
    """Hand messages, every keypoint scored with the hand's presence (the model gives none
    per keypoint)."""
    return [f.new("pose_estimation_ros/msg/Hand", side=h.side, presence=float(h.presence),
                  keypoints=_keypoints(f, h.keypoints, [h.presence] * len(h.keypoints),
                                       positions=h.positions))
            for h in person.hands]


def pose_array(f: MessageFactory, result: FrameResult, header, latency_s: float,
               target_track_id: int = -1, hands_on: bool = False):
    """A PersonPoseArray for one frame. 3D positions come from each person's `positions` and
    `position` (filled from depth); without them every position is invalid. `hands_on`: the
    hand topology is named on every frame (else only when a hand is there)."""
    topology = result.topology
    people = []
    for person in result.people:
        x1, y1, x2, y2 = (float(v) for v in person.bbox)
        centre, valid = point(f, person.position)
        people.append(f.new(
            "pose_estimation_ros/msg/PersonPose", track_id=int(person.track_id),
            track_state=TrackState(person.track_state).msg_value, score=float(person.score),
            x_min=x1, y_min=y1, x_max=x2, y_max=y2,
            keypoints=_keypoints(f, person.keypoints, person.keypoint_scores,
                                 person.visibility, person.positions),
            position=centre, position_valid=valid, hands=_hands(f, person)))
    hands = hands_on or any(p.hands for p in result.people)
    return f.new(
        "pose_estimation_ros/msg/PersonPoseArray", header=header, topology=topology.name,
        keypoint_names=list(topology.keypoints),
        hand_topology=HAND21.name if hands else "",
        hand_keypoint_names=list(HAND21.keypoints) if hands else [],
        image_width=int(result.image_size[0]),
        image_height=int(result.image_size[1]), people=people,
        target_track_id=int(target_track_id), latency=duration(f, latency_s))


def gesture_array(f: MessageFactory, header, gestures: list[Gesture]):
    """A GestureArray: every gesture of the frame (empty: none)."""
    out = []
    for g in gestures:
        start_ns = max(0, int(round(g.start * 1e9)))
        fields = {}
        if g.ray is not None:
            r = g.ray
            fields["image_origin"] = point(f, [*r.image_origin, 0.0])[0]
            fields["image_direction"] = _vector(f, [*r.image_direction, 0.0])
            fields["ray_origin"], fields["ray_valid"] = point(f, r.origin)
            fields["ray_direction"] = _vector(f, r.direction)
            fields["floor_point"], fields["floor_valid"] = point(f, r.floor)
        else:
            nan = point(f, None)[0]
            fields |= {"image_origin": nan, "ray_origin": nan, "floor_point": nan,
                       "image_direction": _vector(f, None), "ray_direction": _vector(f, None),
                       "ray_valid": False, "floor_valid": False}
        out.append(f.new(
            "pose_estimation_ros/msg/Gesture", track_id=int(g.track_id), kind=g.kind,
            side=g.side, confidence=float(g.confidence),
            start=f.new("builtin_interfaces/msg/Time", sec=start_ns // 1_000_000_000,
                        nanosec=start_ns % 1_000_000_000), **fields))
    return f.new("pose_estimation_ros/msg/GestureArray", header=header, gestures=out)


def _vector(f: MessageFactory, v):
    if v is None or not np.all(np.isfinite(v)):
        return f.new("geometry_msgs/msg/Vector3", x=math.nan, y=math.nan, z=math.nan)
    return f.new("geometry_msgs/msg/Vector3", x=float(v[0]), y=float(v[1]), z=float(v[2]))


def skeleton(f: MessageFactory, topology: Topology):
    return f.new("pose_estimation_ros/msg/Skeleton", topology=topology.name,
                 keypoint_names=list(topology.keypoints),
                 edge_start=f.uint16s(int(a) for a, _ in topology.edges),
                 edge_end=f.uint16s(int(b) for _, b in topology.edges))


@dataclass
class MarkerSpec:
    """What one visualization_msgs/Marker holds."""

    ns: str
    id: int
    kind: str  # "LINE_LIST" or "SPHERE_LIST"
    points: list[tuple[float, float, float]]
    color: tuple[float, float, float, float]  # RGBA in 0–1
    scale: float  # line width or sphere diameter, metres


def marker_specs(result: FrameResult, k: np.ndarray, plane_depth: float,
                 colour_of: Callable[[int], tuple] = colour_for,
                 min_score: float = CONFIDENT) -> list[MarkerSpec]:
    """Per person a LINE_LIST skeleton and a SPHERE_LIST of joints, placed at the 3D positions
    from depth where valid, else on a plane `plane_depth` metres in front of the camera."""
    topology = result.topology
    specs = []
    for i, person in enumerate(result.people):
        xyz = deproject(person.keypoints, plane_depth, k)
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


def marker_array(f: MessageFactory, header, result: FrameResult, k: np.ndarray,
                 plane_depth: float):
    """DELETEALL, then the markers of `marker_specs`, frame-locked to the image's frame."""
    t = "visualization_msgs/msg/Marker"
    delete_all, add, line_list, sphere_list = 3, 0, 5, 7  # visualization_msgs/Marker constants
    # every pose with its unit quaternion spelt out: geometry_msgs/Quaternion's default w is
    # 1 (rclpy fills it), a rosbags message's field default is 0
    def identity():
        return f.new("geometry_msgs/msg/Pose", orientation=f.new(
            "geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0))
    markers = [f.new(t, header=header, action=delete_all, pose=identity())]
    for spec in marker_specs(result, k, plane_depth):
        markers.append(f.new(
            t, header=header, ns=spec.ns, id=spec.id, action=add,
            type=line_list if spec.kind == "LINE_LIST" else sphere_list, frame_locked=True,
            pose=identity(),
            scale=f.new("geometry_msgs/msg/Vector3", x=spec.scale, y=spec.scale, z=spec.scale),
            color=f.new("std_msgs/msg/ColorRGBA", r=spec.color[0], g=spec.color[1],
                        b=spec.color[2], a=spec.color[3]),
            points=[f.new("geometry_msgs/msg/Point", x=x, y=y, z=z) for x, y, z in spec.points]))
    return f.new("visualization_msgs/msg/MarkerArray", markers=markers)


def annotate(out: StepOutput) -> np.ndarray:
    """The frame with everyone drawn, the follow target with its state (`vision.draw`)."""
    seen = out.target_person is not None
    drawn = draw_result(out.image, out.result, out.target.track_id if seen or
                        out.target_box is not None else -1, target_state=out.target.state.value,
                        predicted_box=out.target_box)
    draw_gestures(drawn, out.result, [
        (g.track_id, g.kind, *((g.ray.image_origin, g.ray.image_direction) if g.ray else
                               (None, None))) for g in out.gestures])
    return drawn


def annotated_image(f: MessageFactory, header, out: StepOutput):
    """The annotated image (`annotate`) as a bgr8 sensor_msgs/Image."""
    drawn = annotate(out)
    h, w = drawn.shape[:2]
    return f.new("sensor_msgs/msg/Image", header=header, height=h, width=w, encoding="bgr8",
                 is_bigendian=0, step=w * 3, data=f.uint8s(drawn.tobytes()))


def follow_target(f: MessageFactory, header, target: Target):
    """The follow target's state (FollowTarget)."""
    position, valid = point(f, target.position)
    return f.new("pose_estimation_ros/msg/FollowTarget", header=header,
                 state=target.state.msg_value, track_id=int(target.track_id),
                 seconds_since_seen=float(target.since_seen), reason=target.reason,
                 position=position, position_valid=valid,
                 position_predicted=bool(target.predicted and valid))


def target_pose(f: MessageFactory, header, position: np.ndarray):
    """The follow target for Nav2: its 3D centre, level, x pointing back to the camera."""
    x, y, z, w = facing_camera(position)
    return f.new("geometry_msgs/msg/PoseStamped", header=header, pose=f.new(
        "geometry_msgs/msg/Pose", position=point(f, position)[0],
        orientation=f.new("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)))


def hip_origins(result: FrameResult) -> dict[int, np.ndarray]:
    """Per tracked person with 3D hips: the hips' midpoint (the origin of a body frame)."""
    names = result.topology.keypoints
    hips = [names.index(n) for n in ("left_hip", "right_hip") if n in names]
    out = {}
    for p in result.people:
        if p.track_id < 0 or p.positions is None or len(hips) < 2:
            continue
        origin = p.positions[hips].mean(axis=0)
        if np.all(np.isfinite(origin)):
            out[p.track_id] = origin
    return out


def transform(f: MessageFactory, header, child: str, origin, rotation=(0.0, 0.0, 0.0, 1.0)):
    x, y, z, w = rotation
    return f.new("geometry_msgs/msg/TransformStamped", header=header, child_frame_id=child,
                 transform=f.new("geometry_msgs/msg/Transform", translation=f.new(
                     "geometry_msgs/msg/Vector3", x=float(origin[0]), y=float(origin[1]),
                     z=float(origin[2])),
                     rotation=f.new("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w)))


def body_transforms(f: MessageFactory, header, result: FrameResult) -> list:
    """A `body_<track id>` TransformStamped per tracked person with 3D hips: origin at the
    hip midpoint, no rotation, parent the image's frame."""
    return [transform(f, header, f"body_{track_id}", origin)
            for track_id, origin in hip_origins(result).items()]
