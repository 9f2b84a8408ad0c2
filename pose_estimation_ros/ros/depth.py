"""rclpy wiring of the depth path, the follow target and the markers: `depth/image` and
`depth/camera_info` in, `target_pose` (and optionally `body_<id>` TF frames) out. The work
itself is in the core: `depth_sync` pairs, `depth` computes 3D, `targets` chooses."""
from __future__ import annotations

from collections import Counter

import numpy as np
from geometry_msgs.msg import Point, PoseStamped, TransformStamped
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from ..core.results import FrameResult
from ..core.topology import get_topology
from ..following.depth import DepthConfig, DepthError, add_positions
from ..following.depth_sync import DepthPairing
from ..following.targets import TargetConfig, TargetSelector, facing_camera
from ..vision.draw import colour_for
from .convert import marker_specs
from .image import depth_to_array


class DepthInput:
    """Depth frames waiting to be paired, the depth camera's intrinsics, and counts."""

    def __init__(self, node, qos, tolerance_s: float, config: DepthConfig):
        self.config = config
        self.pairing = DepthPairing(tolerance_s)
        self.k: np.ndarray | None = None
        self.size: tuple[int, int] | None = None
        self.counts: Counter = Counter()
        self.subscriptions: list = []
        self.subscribe(node, qos)

    def subscribe(self, node, qos) -> None:
        """(Re)subscribe with the colour subscription's QoS."""
        self.destroy(node)
        self.subscriptions = [
            node.create_subscription(Image, "depth/image", self._on_depth, qos),
            node.create_subscription(CameraInfo, "depth/camera_info", self._on_info, qos)]

    def _on_depth(self, msg: Image) -> None:
        self.pairing.add(Time.from_msg(msg.header.stamp).nanoseconds, msg.header.frame_id, msg)

    def _on_info(self, msg: CameraInfo) -> None:
        k = np.asarray(msg.k, np.float64).reshape(3, 3)
        self.k = k if k[0, 0] > 0 and k[1, 1] > 0 else None
        self.size = (msg.width, msg.height)

    def add_positions(self, result: FrameResult, header, colour_k) -> str:
        """Fill the people's 3D positions; "" when done, else why not (they stay invalid)."""
        reason = self._positions(result, header, colour_k)
        self.counts["with_depth" if not reason else "without_depth"] += 1
        return reason

    def _positions(self, result: FrameResult, header, colour_k) -> str:
        if colour_k is None:
            return "no CameraInfo on camera_info: 3D needs the colour intrinsics"
        if self.k is None:
            return "no CameraInfo on depth/camera_info"
        pairing = self.pairing.match(Time.from_msg(header.stamp).nanoseconds, header.frame_id)
        if pairing.depth is None:
            return pairing.reason
        msg = pairing.depth
        if self.size and (msg.width, msg.height) != self.size:
            return (f"depth image is {msg.width}×{msg.height} but depth/camera_info says "
                    f"{self.size[0]}×{self.size[1]}")
        try:
            metres = depth_to_array(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                                    bool(msg.is_bigendian))
        except DepthError as exc:
            return f"depth rejected: {exc}"
        add_positions(result.people, result.topology, metres, self.k, colour_k, self.config)
        return ""

    def destroy(self, node) -> None:
        for sub in self.subscriptions:
            node.destroy_subscription(sub)
        self.subscriptions = []


class TargetOutput:
    """The follow target: chosen per frame, `target_pose` while it has a 3D position."""

    def __init__(self, node, config: TargetConfig, publish_tf: bool):
        self.node = node
        self.selector = TargetSelector(config)
        self.track_id, self.reason = -1, ""
        self.pub_pose = node.create_lifecycle_publisher(PoseStamped, "target_pose", 10)
        self.tf = None
        if publish_tf:
            try:
                from tf2_ros import TransformBroadcaster
                self.tf = TransformBroadcaster(node)
            except ImportError:
                node.get_logger().warning("publish_tf: tf2_ros is not installed, so no "
                                          "body_<id> frames; everything else runs")

    def update(self, result: FrameResult, header) -> int:
        target = self.selector.update(result)
        if target.changed:
            self.node.get_logger().info(f"follow target: {target.reason}")
        self.track_id, self.reason = target.track_id, target.reason
        person = next((p for p in result.people if p.track_id == target.track_id
                       and target.track_id >= 0), None)
        if person is not None and person.position is not None:
            pose = PoseStamped(header=header)
            pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = \
                (float(v) for v in person.position)
            q = pose.pose.orientation
            q.x, q.y, q.z, q.w = facing_camera(person.position)
            self.pub_pose.publish(pose)
        if self.tf is not None:
            self._broadcast(result, header)
        return target.track_id

    def _broadcast(self, result: FrameResult, header) -> None:
        """REP-155 style `body_<id>` frames: origin at the hip midpoint, parent the camera."""
        names = get_topology(result.topology).keypoints
        hips = [names.index(n) for n in ("left_hip", "right_hip") if n in names]
        frames = []
        for p in result.people:
            if p.track_id < 0 or p.positions is None or len(hips) < 2:
                continue
            origin = p.positions[hips].mean(axis=0)
            if not np.all(np.isfinite(origin)):
                continue
            t = TransformStamped(header=header, child_frame_id=f"body_{p.track_id}")
            t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = \
                (float(v) for v in origin)
            t.transform.rotation.w = 1.0
            frames.append(t)
        if frames:
            self.tf.sendTransform(frames)

    def destroy(self) -> None:
        self.node.destroy_lifecycle_publisher(self.pub_pose)


def marker_array(header, result: FrameResult, topology, k: np.ndarray,
                 marker_depth: float) -> MarkerArray:
    """DELETEALL, then per person a skeleton and its joints at their 3D positions (on the
    `marker_depth` plane where depth gives none)."""
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    for spec in marker_specs(result, topology, k, marker_depth, colour_for):
        m = Marker(header=header, ns=spec.ns, id=spec.id, action=Marker.ADD,
                   type=Marker.LINE_LIST if spec.kind == "LINE_LIST" else Marker.SPHERE_LIST,
                   frame_locked=True, color=ColorRGBA(r=spec.color[0], g=spec.color[1],
                                                      b=spec.color[2], a=spec.color[3]))
        m.pose.orientation.w = 1.0
        m.scale.x = m.scale.y = m.scale.z = spec.scale
        m.points = [Point(x=x, y=y, z=z) for x, y, z in spec.points]
        markers.append(m)
    return MarkerArray(markers=markers)
