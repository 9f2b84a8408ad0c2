"""The node's optional REP-155 output (`hri.enable`): the ROS4HRI topics of `transport.rep155`
on rclpy. Imported only when enabled; hri_msgs is imported here, so a node without it runs
without this output (`start` says why once)."""
from __future__ import annotations

from rclpy.qos import QoSProfile, ReliabilityPolicy

from ..stream.step import StepOutput
from ..transport import rep155
from .outputs import MESSAGES, Outputs, message_class

#: libhri subscribes reliably
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
_TYPES = {"roi": "hri_msgs/msg/NormalizedRegionOfInterest2D", "cropped": "sensor_msgs/msg/Image",
          "skeleton2d": "hri_msgs/msg/Skeleton2D", "position": "geometry_msgs/msg/PointStamped",
          "velocity": "geometry_msgs/msg/TwistStamped"}


class HriOutput:
    def __init__(self, node, outputs: Outputs):
        self.node, self.outputs = node, outputs
        self.bodies = rep155.Bodies(rep155.session_prefix())
        self.tracked = node.create_publisher(message_class("hri_msgs/msg/IdsList"),
                                             "/humans/bodies/tracked", RELIABLE)
        self.per_body: dict[str, dict[str, object]] = {}
        self.announced: set[str] = set()

    def publish(self, out: StepOutput, header) -> None:
        ids, per_body, transforms = rep155.frame_messages(MESSAGES, header, out, self.bodies)
        current = set(ids.ids)
        for body in set(self.per_body) - current:  # lost: its topics go with it
            for pub in self.per_body.pop(body).values():
                self.node.destroy_publisher(pub)
        self.announced &= current
        for body, msgs in per_body.items():
            pubs = self.per_body.setdefault(body, {})
            for suffix, msg in msgs.items():
                if suffix not in pubs:
                    pubs[suffix] = self.node.create_publisher(
                        message_class(_TYPES[suffix]), f"/humans/bodies/{body}/{suffix}",
                        RELIABLE)
                pubs[suffix].publish(msg)
        for body in current - self.announced:
            track = next(t for t in out.result.tracked if self.bodies.body_id(t) == body)
            self.node.get_logger().info(f"REP-155 body {body} is track {track}")
            self.announced.add(body)
        self.tracked.publish(ids)
        self.outputs.send_tf(transforms)

    def destroy(self) -> None:
        for pubs in self.per_body.values():
            for pub in pubs.values():
                self.node.destroy_publisher(pub)
        self.per_body = {}
        self.node.destroy_publisher(self.tracked)


def start(node, outputs: Outputs, enabled: bool, tracking: bool) -> tuple[HriOutput | None, str]:
    """The REP-155 output, or None and why it is off."""
    if not enabled:
        return None, "off: hri.enable is false"
    if not tracking:
        return None, "off: tracking is false, so there are no body ids"
    try:
        message_class("hri_msgs/msg/IdsList")
    except (ImportError, AttributeError):
        return None, ("off: hri_msgs is not installed (apt install ros-$ROS_DISTRO-hri-msgs); "
                      "everything else runs")
    output = HriOutput(node, outputs)
    return output, f"on: body ids {output.bodies.prefix}<track id in base 36>"
