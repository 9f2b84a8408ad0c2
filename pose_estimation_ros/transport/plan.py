"""One output plan for the node and `bag`: per frame, the frame step's output becomes a list of
(topic, message), built once here with any `MessageFactory`; the node publishes the list,
`bag` writes it. Adding an output is one entry here (and its message definition): neither
path can write what the other does not.

Topics without a leading slash are the package's own, under the node's namespace (`bag
--namespace`), those starting `~/` under the node's own name (`bag` writes them under
`<namespace>/pose_estimation_node/`); the others (`/tf`, REP-155's `/humans/bodies/...`) are
absolute. Each topic
names the QoS it is offered with (`qos`): `default` (keep last 10, reliable), `latched`
(transient local, depth 1: the skeleton), `image` (depth 1), `reliable` (REP-155, as libhri
subscribes), `tf` (depth 100, as tf2_ros's broadcaster).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..core.topology import Topology
from ..stream.step import StepOutput
from . import convert, rep155

#: the node's default name (its private topics are under it)
NODE_NAME = "pose_estimation_node"


@dataclass(frozen=True)
class Topic:
    name: str
    type: str  # "package/msg/Name"
    qos: str = "default"

    @property
    def absolute(self) -> bool:
        return self.name.startswith("/")

    def resolved(self, namespace: str, node: str = NODE_NAME) -> str:
        """The full name where a node named `node` under `namespace` publishes it."""
        if self.absolute:
            return self.name
        if self.name.startswith("~/"):
            return f"{namespace}/{node}/{self.name[2:]}"
        return f"{namespace}/{self.name}"


POSES = Topic("poses", "pose_estimation_ros/msg/PersonPoseArray")
SKELETON = Topic("skeleton", "pose_estimation_ros/msg/Skeleton", "latched")
TARGET_POSE = Topic("target_pose", "geometry_msgs/msg/PoseStamped")
#: the node's private topic (`~/`): under its own name
TARGET_STATE = Topic("~/target_state", "pose_estimation_ros/msg/FollowTarget")
GESTURES = Topic("~/gestures", "pose_estimation_ros/msg/GestureArray")
MARKERS = Topic("markers", "visualization_msgs/msg/MarkerArray")
ANNOTATED = Topic("annotated_image", "sensor_msgs/msg/Image", "image")
TF = Topic("/tf", "tf2_msgs/msg/TFMessage", "tf")
TRACKED = Topic("/humans/bodies/tracked", "hri_msgs/msg/IdsList", "reliable")
#: REP-155's per-body topics by suffix
BODY_TYPES = {"roi": "hri_msgs/msg/NormalizedRegionOfInterest2D",
              "cropped": "sensor_msgs/msg/Image", "skeleton2d": "hri_msgs/msg/Skeleton2D",
              "position": "geometry_msgs/msg/PointStamped",
              "velocity": "geometry_msgs/msg/TwistStamped"}


@dataclass(frozen=True)
class OutputOptions:
    """Which outputs a stream has (`settings.build.output_options`)."""

    target_pose: bool = False  # with depth input: the follow target's 3D pose
    #: target_pose also while the target is occluded, at its predicted position
    target_pose_predicted: bool = False
    markers: bool = True
    annotated: bool = True
    body_tf: bool = False  # publish_tf: body_<track id> frames
    rep155: bool = False  # hri.enable / bag --rep155
    marker_depth: float = 2.0  # metres, where markers without depth are drawn
    hands: bool = False  # hands on: the poses name the hand topology on every frame


@dataclass(frozen=True)
class Outgoing:
    topic: Topic
    msg: Any


@dataclass
class OutputPlan:
    """The outputs of one stream. `session`: the seed of REP-155's body ids (a bag's name,
    so its output is the same on every run), None for a random prefix (a live node)."""

    options: OutputOptions
    factory: convert.MessageFactory
    session: str | None = None
    #: REP-155 bodies first seen in the last frame (body id → track id), and the per-body
    #: topics of bodies that left it (a node destroys their publishers)
    new_bodies: dict[str, int] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.bodies = rep155.Bodies(rep155.session_prefix(self.session)) \
            if self.options.rep155 else None
        self._body_topics: dict[str, list[str]] = {}

    def topics(self) -> list[Topic]:
        """The topics every frame may use, in a fixed order (REP-155's per-body topics come
        and go with their bodies)."""
        o = self.options
        wanted = [(POSES, True), (SKELETON, True), (TARGET_STATE, True), (GESTURES, True),
                  (TARGET_POSE, o.target_pose),
                  (MARKERS, o.markers), (ANNOTATED, o.annotated), (TRACKED, o.rep155),
                  (TF, o.body_tf or o.rep155)]
        return [topic for topic, on in wanted if on]

    def start(self, topology: Topology) -> list[Outgoing]:
        """What is sent once, before the first frame: the latched skeleton."""
        return [Outgoing(SKELETON, convert.skeleton(self.factory, topology))]

    def frame(self, out: StepOutput, latency_s: float = 0.0,
              wanted: Callable[[Topic], bool] | None = None) -> list[Outgoing]:
        """One frame's messages in the order they are sent. `wanted(topic)` False leaves out
        an optional output nobody reads (the node's markers and annotated image)."""
        f, o, result = self.factory, self.options, out.result
        header = f.new("std_msgs/msg/Header", frame_id=out.frame_id, stamp=f.new(
            "builtin_interfaces/msg/Time", sec=out.stamp_ns // 1_000_000_000,
            nanosec=out.stamp_ns % 1_000_000_000))
        target = out.target
        msgs = [Outgoing(POSES, convert.pose_array(f, result, header, latency_s,
                                                   target.followed, o.hands)),
                Outgoing(TARGET_STATE, convert.follow_target(f, header, target)),
                Outgoing(GESTURES, convert.gesture_array(f, header, out.gestures))]
        measured = target.position is not None and not target.predicted
        if o.target_pose and (measured or (target.predicted and o.target_pose_predicted)):
            msgs.append(Outgoing(TARGET_POSE, convert.target_pose(f, header, target.position)))
        if o.markers and out.colour_k is not None and (wanted is None or wanted(MARKERS)):
            msgs.append(Outgoing(MARKERS, convert.marker_array(f, header, result, out.colour_k,
                                                               o.marker_depth)))
        if o.annotated and out.image is not None and (wanted is None or wanted(ANNOTATED)):
            msgs.append(Outgoing(ANNOTATED, convert.annotated_image(f, header, out)))
        if o.body_tf and (frames := convert.body_transforms(f, header, result)):
            msgs.append(Outgoing(TF, f.new(TF.type, transforms=frames)))
        if self.bodies is not None:
            msgs += self._rep155(header, out)
        return msgs

    def _rep155(self, header, out: StepOutput) -> list[Outgoing]:
        f = self.factory
        ids, per_body, transforms = rep155.frame_messages(f, header, out, self.bodies)
        msgs = [Outgoing(TRACKED, ids)]
        for body, by_suffix in per_body.items():
            for suffix, msg in by_suffix.items():
                msgs.append(Outgoing(Topic(f"/humans/bodies/{body}/{suffix}",
                                           BODY_TYPES[suffix], "reliable"), msg))
        if transforms:
            msgs.append(Outgoing(TF, f.new(TF.type, transforms=transforms)))
        current = set(ids.ids)
        self.new_bodies = {self.bodies.body_id(t): t for t in out.result.tracked or []
                           if self.bodies.body_id(t) not in self._body_topics}
        self.retired = [t for body in set(self._body_topics) - current
                        for t in self._body_topics.pop(body)]
        for body in current:
            self._body_topics.setdefault(body, [])
        for m in msgs:
            if m.topic.name.startswith("/humans/bodies/") and m.topic is not TRACKED:
                topics = self._body_topics[m.topic.name.split("/")[3]]
                if m.topic.name not in topics:
                    topics.append(m.topic.name)
        return msgs
