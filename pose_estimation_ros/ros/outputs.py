"""The node's publishers: the output plan's topics (`transport.plan`, the messages `bag` writes
too) on rclpy. The package's own topics are lifecycle publishers made at configure; `/tf` and
REP-155's topics are plain publishers, the per-body ones made with their body and destroyed
when it leaves `/humans/bodies/tracked`. Markers and the annotated image are built only while
someone subscribes. TF goes out as tf2_ros's broadcaster sends it (tf2_msgs/TFMessage on /tf,
depth 100), so only tf2_msgs is needed, not tf2_ros."""
from __future__ import annotations

import array
import importlib
from dataclasses import replace
from functools import lru_cache

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from ..stream.step import StepOutput
from ..transport.plan import ANNOTATED, MARKERS, TF, TRACKED, OutputOptions, OutputPlan, Topic


@lru_cache(maxsize=None)
def message_class(typename: str):
    """"pkg/msg/Name" → the rclpy message class."""
    package, kind, name = typename.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


class RclpyMessages:
    """A `transport.convert.MessageFactory` of rclpy messages."""

    def new(self, typename: str, **fields):
        return message_class(typename)(**fields)

    def uint16s(self, values):
        return array.array("H", values)

    def uint8s(self, data: bytes):
        return array.array("B", data)


MESSAGES = RclpyMessages()
#: the plan's QoS names → rclpy profiles (libhri subscribes REP-155 topics reliably)
QOS = {"default": QoSProfile(depth=10), "image": QoSProfile(depth=1),
       "latched": QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL),
       "reliable": QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
       "tf": QoSProfile(depth=100)}


class Outputs:
    def __init__(self, node, options: OutputOptions, tracking: bool = True):
        self.node = node
        self.rep155_state = "off: hri.enable is false"
        self.publishers: dict[str, object] = {}
        options = self._available(options, tracking)
        self.plan = OutputPlan(options, MESSAGES)
        self.warned_no_camera_info = False
        for topic in self.plan.topics():
            self._publisher(topic)

    def _available(self, options: OutputOptions, tracking: bool) -> OutputOptions:
        """The options this ROS install can serve: REP-155 needs tracking and hri_msgs, TF
        needs tf2_msgs; what cannot run is turned off with the reason (logged once)."""
        log = self.node.get_logger()
        if options.rep155:
            why = "" if tracking else "tracking is false, so there are no body ids"
            why = why or _missing(TRACKED.type, "hri_msgs") or self._try(TRACKED, "hri_msgs")
            self.rep155_state = f"off: {why}" if why else "on"
            if why:
                log.warning(f"REP-155 output {self.rep155_state}; everything else runs")
                options = replace(options, rep155=False)
        if (options.body_tf or options.rep155) and (why := _missing(TF.type, "tf2_msgs")):
            log.warning(f"no TF frames: {why}; everything else runs")
            options = replace(options, body_tf=False)
        return options

    def _try(self, topic: Topic, package: str) -> str:
        """"" when the topic's publisher can be made, else why not (type support that
        cannot be loaded fails only here, not at import)."""
        try:
            self._publisher(topic)
        except Exception as exc:  # rclpy raises its own types for a type support failure
            return f"{package}'s type support cannot be loaded ({type(exc).__name__}: {exc})"
        return ""

    def _publisher(self, topic: Topic):
        pub = self.publishers.get(topic.name)
        if pub is None:
            cls, qos = message_class(topic.type), QOS[topic.qos]
            pub = self.node.create_publisher(cls, topic.name, qos) if topic.absolute else \
                self.node.create_lifecycle_publisher(cls, topic.name, qos)
            self.publishers[topic.name] = pub
        return pub

    def _wanted(self, topic: Topic) -> bool:
        """Markers and the annotated image only while someone reads them."""
        return topic not in (MARKERS, ANNOTATED) or \
            self.publishers[topic.name].get_subscription_count() > 0

    def publish(self, out: StepOutput, latency_s: float) -> None:
        if self._wanted(MARKERS) and out.colour_k is None and not self.warned_no_camera_info:
            self.node.get_logger().warning("no usable CameraInfo on 'camera_info' (none yet, or "
                                           "for another image shape): markers are off until "
                                           "one arrives")
            self.warned_no_camera_info = True
        for item in self.plan.frame(out, latency_s, self._wanted):
            self._publisher(item.topic).publish(item.msg)
        for body, track in self.plan.new_bodies.items():
            self.node.get_logger().info(f"REP-155 body {body} is track {track}")
        for name in self.plan.retired:  # a body left: its topics go with it
            if (pub := self.publishers.pop(name, None)) is not None:
                self.node.destroy_publisher(pub)

    def publish_start(self, topology) -> None:
        for item in self.plan.start(topology):
            self._publisher(item.topic).publish(item.msg)

    def destroy(self) -> None:
        for name, pub in self.publishers.items():
            if name.startswith("/"):
                self.node.destroy_publisher(pub)
            else:
                self.node.destroy_lifecycle_publisher(pub)
        self.publishers = {}


def _missing(typename: str, package: str) -> str:
    """"" when the message type loads, else why not (a package not installed, or type
    support that cannot be loaded)."""
    try:
        message_class(typename)
    except (ImportError, AttributeError) as exc:
        return (f"{package} is not installed or cannot be loaded ({type(exc).__name__}: "
                f"{exc}; apt install ros-$ROS_DISTRO-{package.replace('_', '-')})")
    return ""
