"""The node's subscriptions: the colour image (raw or compressed), its CameraInfo and, with
`use_depth`, the aligned depth and its CameraInfo, all with the reliability the image
publishers offer (`transport.qos`; re-checked every second with `qos_reliability` auto); the
callbacks only hand messages to the stream (`stream.live`)."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from ..core.camera import CameraError
from ..transport.camera_info import intrinsics
from ..transport.image import stamp_ns
from ..transport.qos import SequenceGaps, choose_reliability
from ..vision.imaging import ImageError
from .support import type_name

#: rclpy hands subscription callbacks the DDS message info (sequence numbers) since Iron
_HAS_MESSAGE_INFO = hasattr(Subscription, "CallbackType")
_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE,
                "best_effort": ReliabilityPolicy.BEST_EFFORT}


class Inputs:
    def __init__(self, node):
        self.node = node
        self.reliability = ""
        self.image_sub = None
        self.subs: list = []
        self.loss_known = False
        self.input_loss = SequenceGaps()

    def _image_qos(self, reliability: str = "", depth: int = 1) -> QoSProfile:
        """Colour: the latest frame only. Depth keeps a few (`depth` 10): a depth frame lost
        in the subscription's queue while the executor was busy is a colour frame without
        3D, and keeping one costs nothing until a colour frame pairs with it."""
        return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                          reliability=_RELIABILITY[reliability or self.reliability
                                                   or "best_effort"],
                          durability=DurabilityPolicy.VOLATILE)

    def _image_topic(self) -> tuple[type, str]:
        return (CompressedImage, "image/compressed") if self.node.values["use_compressed"] \
            else (Image, "image")

    def _offered(self) -> list[str]:
        """The reliability each publisher of the image type on the image topic offers (a
        publisher of another type on that name matches nothing: it is named once)."""
        node = self.node
        msg_type, topic = self._image_topic()
        wanted = type_name(msg_type)
        infos = node.get_publishers_info_by_topic(node.resolve_topic_name(topic))
        for other in {i.topic_type for i in infos} - {wanted}:
            node._log(f"a publisher of {other} on {node.resolve_topic_name(topic)} is "
                      f"ignored: the node reads {wanted} there", "warning",
                      key=f"other type {other}")
        infos = [i for i in infos if i.topic_type == wanted]
        self.loss_known = _HAS_MESSAGE_INFO and len(infos) == 1
        return ["reliable" if i.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                else "best_effort" for i in infos]

    def subscribe(self) -> None:
        """The image, camera_info and, with use_depth, depth subscriptions, all with the
        reliability the image publishers offer."""
        node = self.node
        self.reliability, why = choose_reliability(self.node.values["qos_reliability"],
                                                   self._offered())
        qos = self._image_qos()
        msg_type, topic = self._image_topic()
        callback = self._on_image_info if _HAS_MESSAGE_INFO else self._on_image
        self.image_sub = node.create_subscription(msg_type, topic, callback, qos)
        self.subs = [self.image_sub, node.create_subscription(
            CameraInfo, "camera_info", self._on_camera_info, qos)]
        if self.node.values["use_depth"]:
            deep = self._image_qos(depth=10)
            self.subs += [
                node.create_subscription(Image, "depth/image", self._on_depth, deep),
                node.create_subscription(CameraInfo, "depth/camera_info", self._on_depth_info,
                                         qos)]
        self.input_loss.restart()
        node.get_logger().info(f"subscribed to {self.image_sub.topic_name} "
                               f"({self.reliability}: {why})")

    def unsubscribe(self) -> None:
        node = self.node
        for sub in self.subs:
            node.destroy_subscription(sub)
        self.subs, self.image_sub = [], None

    def check_qos(self) -> None:
        wanted, _ = choose_reliability("auto", self._offered())
        if self.image_sub is not None and wanted != self.reliability:
            self.unsubscribe()
            self.subscribe()

    def _on_image(self, msg) -> None:
        node = self.node
        node.stream.put(msg)

    def _on_image_info(self, msg, info) -> None:
        node = self.node
        if self.loss_known:
            self.input_loss.update(int(info["publication_sequence_number"]))
        node.stream.put(msg)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self.node.stream.set_colour_info(self._intrinsics(msg, "camera_info"))

    def _on_depth(self, msg: Image) -> None:
        try:
            stamp = stamp_ns(msg)
        except ImageError as exc:
            self.node.stream.refuse_depth(str(exc))
            return
        self.node.stream.put_depth(stamp, msg.header.frame_id, msg)

    def _on_depth_info(self, msg: CameraInfo) -> None:
        self.node.stream.set_depth_info(self._intrinsics(msg, "depth/camera_info"))

    def _intrinsics(self, msg, topic: str):
        try:
            return intrinsics(msg, f"CameraInfo on {topic}")
        except CameraError as exc:
            self.node._log(f"{exc}: ignored", "error", key=f"camera_info {topic}")
            return None
