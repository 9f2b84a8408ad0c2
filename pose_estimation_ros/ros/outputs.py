"""The node's publishers, fed by the frame step's output: `poses`, `markers`,
`annotated_image`, the latched `skeleton`, `target_pose` and TF frames on `/tf` (with
`publish_tf`: `body_<track id>`; with REP-155 its `body_<id>` and `head_<id>`, see `ros.hri`).
The messages are built by `transport.convert`, as `bag` builds its own, with the rclpy message
classes (`RclpyMessages`). TF goes out as tf2_ros's broadcaster sends it (tf2_msgs/TFMessage on
/tf, depth 100), so only tf2_msgs is needed, not tf2_ros."""
from __future__ import annotations

import array
import importlib
from functools import lru_cache

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from visualization_msgs.msg import MarkerArray

from pose_estimation_ros.msg import PersonPoseArray, Skeleton

from ..stream.step import StepOutput
from ..transport import convert


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

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class Outputs:
    def __init__(self, node, publish_tf: bool, tf_needed: bool = False):
        """`publish_tf`: this node's body_<track id> frames; `tf_needed`: another output
        (REP-155) sends frames through `send_tf`."""
        self.node = node
        pub = node.create_lifecycle_publisher
        self.poses = pub(PersonPoseArray, "poses", 10)
        self.markers = pub(MarkerArray, "markers", 10)
        self.annotated = pub(Image, "annotated_image", 1)
        self.skeleton = pub(Skeleton, "skeleton", LATCHED)
        self.target = pub(message_class("geometry_msgs/msg/PoseStamped"), "target_pose", 10)
        self.tf = None
        self.publish_tf = publish_tf
        self.warned_no_camera_info = False
        if publish_tf or tf_needed:
            try:
                self.tf = node.create_publisher(message_class("tf2_msgs/msg/TFMessage"), "/tf",
                                                100)
            except (ImportError, AttributeError):
                node.get_logger().warning("tf2_msgs is not installed (apt install "
                                          "ros-$ROS_DISTRO-tf2-msgs), so no TF frames; "
                                          "everything else runs")

    def publish(self, out: StepOutput, header, latency_s: float, marker_depth: float) -> None:
        result, target = out.result, out.target
        self.poses.publish(convert.pose_array(MESSAGES, result, header, latency_s,
                                              target.track_id))
        person = out.target_person
        if person is not None and person.position is not None:
            self.target.publish(convert.target_pose(MESSAGES, header, person.position))
        if self.markers.get_subscription_count() > 0:
            if out.colour_k is None:
                if not self.warned_no_camera_info:
                    self.node.get_logger().warning("no CameraInfo on 'camera_info': markers "
                                                   "are off until one arrives")
                    self.warned_no_camera_info = True
            else:
                self.markers.publish(convert.marker_array(MESSAGES, header, result,
                                                          out.colour_k, marker_depth))
        if self.annotated.get_subscription_count() > 0 and out.image is not None:
            self.annotated.publish(convert.annotated_image(MESSAGES, header, out.image, result,
                                                           target.track_id))
        if self.publish_tf and self.tf is not None:
            self.send_tf(convert.body_transforms(MESSAGES, header, result))

    def send_tf(self, frames: list) -> None:
        if frames and self.tf is not None:
            self.tf.publish(MESSAGES.new("tf2_msgs/msg/TFMessage", transforms=frames))

    def publish_skeleton(self, topology) -> None:
        self.skeleton.publish(convert.skeleton(MESSAGES, topology))

    def destroy(self) -> None:
        for pub in (self.poses, self.markers, self.annotated, self.skeleton, self.target):
            self.node.destroy_lifecycle_publisher(pub)
        if self.tf is not None:
            self.node.destroy_publisher(self.tf)
