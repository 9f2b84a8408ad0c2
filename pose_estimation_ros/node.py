"""pose_estimation_node: the rclpy wiring of the core (Humble and Jazzy).

Subscribes `image` (or `image/compressed`) and `camera_info`; a worker thread processes the
latest frame only (`LatestFrameScheduler`) and publishes `poses`, `markers`, `annotated_image`
(only while someone listens), the latched `skeleton` and `/diagnostics`. Everything it calls is
in the transport-free core and tested there; this file only moves data between ROS and it.
"""
from __future__ import annotations

import array
import threading
import time

import numpy as np
import rclpy
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy)
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from pose_estimation_ros.msg import Keypoint, PersonPose, PersonPoseArray, Skeleton

from .draw import colour_for, draw_result
from .imaging import ImageError
from .parameters import BY_NAME, PARAMS, apply_runtime, check_all, pipeline_options, \
    tracker_config
from .pipelines import TrackedPipeline, create_pipeline
from .ros_convert import MessageTypes, marker_specs, to_pose_array, to_skeleton
from .ros_image import compressed_to_bgr, image_to_bgr
from .scheduler import LatestFrameScheduler

TYPES = MessageTypes(PersonPoseArray=PersonPoseArray, PersonPose=PersonPose, Keypoint=Keypoint,
                     Skeleton=Skeleton, Point=Point, Duration=Duration,
                     uint16_array=lambda values: array.array("H", values))


def _descriptor(p) -> ParameterDescriptor:
    d = ParameterDescriptor(description=p.description, read_only=p.read_only)
    if p.choices:
        d.additional_constraints = "one of: " + ", ".join(map(str, p.choices))
    if p.min is not None and isinstance(p.default, float):
        d.floating_point_range = [FloatingPointRange(from_value=float(p.min),
                                                     to_value=float(p.max), step=0.0)]
    elif p.min is not None:
        d.integer_range = [IntegerRange(from_value=int(p.min), to_value=int(p.max), step=1)]
    return d


class PoseEstimationNode(Node):
    def __init__(self):
        super().__init__("pose_estimation_node")
        for p in PARAMS:
            self.declare_parameter(p.name, p.default, _descriptor(p))
        self.values = {p.name: self.get_parameter(p.name).value for p in PARAMS}
        problems = check_all(self.values)
        if problems:
            raise ValueError("invalid parameters: " + "; ".join(problems))
        self.lock = threading.Lock()
        pipeline = create_pipeline(pipeline_options(self.values))
        self.pipeline = (TrackedPipeline(pipeline, tracker_config(self.values))
                         if self.values["tracking"] else pipeline)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        models = ", ".join(f"{m.spec.id} on {m.provider}" for m in self.pipeline.models)
        self.get_logger().info(f"pipeline {self.values['pipeline']}: {models}")

        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE if self.values["reliable"]
                         else ReliabilityPolicy.BEST_EFFORT,
                         durability=DurabilityPolicy.VOLATILE)
        self.scheduler = LatestFrameScheduler()
        if self.values["use_compressed"]:
            self.create_subscription(CompressedImage, "image/compressed", self.scheduler.put, qos)
        else:
            self.create_subscription(Image, "image", self.scheduler.put, qos)
        self.camera_k = None
        self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, qos)
        self.pub_poses = self.create_publisher(PersonPoseArray, "poses", 10)
        self.pub_markers = self.create_publisher(MarkerArray, "markers", 10)
        self.pub_annotated = self.create_publisher(Image, "annotated_image", 1)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.pub_skeleton = self.create_publisher(Skeleton, "skeleton", latched)
        self.pub_skeleton.publish(to_skeleton(TYPES, self.pipeline.topology))

        self.latencies: list[float] = []
        self.last_counts = (0, 0, time.monotonic())
        self.warned_no_camera_info = False
        self.create_timer(self.values["diagnostics_period"], self._publish_diagnostics)
        self.running = True
        self.worker = threading.Thread(target=self._work, name="pose_estimation", daemon=True)
        self.worker.start()

    # ---- parameters -------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        for p in params:
            if p.name not in BY_NAME:
                return SetParametersResult(successful=False, reason=f"unknown parameter {p.name}")
            reason = BY_NAME[p.name].check(p.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        values = dict(self.values) | {p.name: p.value for p in params}
        with self.lock:
            apply_runtime(self.pipeline, values)
            self.values = values
        return SetParametersResult(successful=True)

    # ---- input ------------------------------------------------------------------------------
    def _on_camera_info(self, msg: CameraInfo) -> None:
        k = np.asarray(msg.k, np.float64).reshape(3, 3)
        self.camera_k = k if k[0, 0] > 0 and k[1, 1] > 0 else None

    def _to_bgr(self, msg) -> np.ndarray:
        if isinstance(msg, CompressedImage):
            return compressed_to_bgr(msg.format, msg.data)
        return image_to_bgr(msg.encoding, msg.width, msg.height, msg.step, msg.data,
                            bool(msg.is_bigendian))

    # ---- processing -------------------------------------------------------------------------
    def _work(self) -> None:
        while self.running and rclpy.ok():
            msg = self.scheduler.take(timeout=0.1)
            if msg is None:
                continue
            try:
                bgr = self._to_bgr(msg)
                stamp = Time.from_msg(msg.header.stamp).nanoseconds * 1e-9
                with self.lock:
                    result = self.pipeline.process(bgr, stamp)
                self._publish(msg.header, bgr, result)
                self.scheduler.done(True)
            except ImageError as exc:
                self.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
                self.scheduler.done(False)
            except Exception as exc:  # never let one frame stop the node
                self.get_logger().error(f"frame dropped: {type(exc).__name__}: {exc}",
                                        throttle_duration_sec=5.0)
                self.scheduler.done(False)

    def _publish(self, header, bgr: np.ndarray, result) -> None:
        latency = max(0.0, (self.get_clock().now() - Time.from_msg(header.stamp)).nanoseconds
                      * 1e-9)
        self.latencies.append(latency)
        topology = self.pipeline.topology
        self.pub_poses.publish(to_pose_array(TYPES, result, header, topology, latency))
        self._publish_markers(header, result)
        if self.pub_annotated.get_subscription_count() > 0:
            annotated = draw_result(bgr, result)
            h, w = annotated.shape[:2]
            self.pub_annotated.publish(Image(
                header=header, height=h, width=w, encoding="bgr8", is_bigendian=0, step=w * 3,
                data=array.array("B", annotated.tobytes())))

    def _publish_markers(self, header, result) -> None:
        if self.pub_markers.get_subscription_count() == 0:
            return
        if self.camera_k is None:
            if not self.warned_no_camera_info:
                self.get_logger().warning("no CameraInfo on 'camera_info': markers are off until "
                                       "one arrives")
                self.warned_no_camera_info = True
            return
        markers = [Marker(header=header, action=Marker.DELETEALL)]
        for spec in marker_specs(result, self.pipeline.topology, self.camera_k,
                                 self.values["marker_depth"], colour_for):
            m = Marker(header=header, ns=spec.ns, id=spec.id, action=Marker.ADD,
                       type=Marker.LINE_LIST if spec.kind == "LINE_LIST" else Marker.SPHERE_LIST,
                       frame_locked=True, color=ColorRGBA(r=spec.color[0], g=spec.color[1],
                                                          b=spec.color[2], a=spec.color[3]))
            m.pose.orientation.w = 1.0
            m.scale.x = m.scale.y = m.scale.z = spec.scale
            m.points = [Point(x=x, y=y, z=z) for x, y, z in spec.points]
            markers.append(m)
        self.pub_markers.publish(MarkerArray(markers=markers))

    # ---- diagnostics ------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        s = self.scheduler.stats
        received, processed, then = self.last_counts
        now = time.monotonic()
        dt = max(now - then, 1e-6)
        self.last_counts = (s.received, s.processed, now)
        latencies, self.latencies = self.latencies, []
        providers = {m.spec.id: m.provider for m in self.pipeline.models}
        fallback = any(p != self.values["provider"] for p in providers.values())
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if fallback else DiagnosticStatus.OK,
            name=f"{self.get_name()}: pose estimation", hardware_id=self.values["provider"],
            message="running on cpu: requested provider unavailable" if fallback else "ok")
        pairs = {
            "input_rate_hz": (s.received - received) / dt,
            "output_rate_hz": (s.processed - processed) / dt,
            "latency_ms_mean": 1000 * float(np.mean(latencies)) if latencies else float("nan"),
            "frames_received": s.received, "frames_published": s.processed,
            "frames_dropped": s.dropped, "frames_failed": s.failed,
            "providers": ", ".join(f"{k}={v}" for k, v in providers.items()),
            "models": ", ".join(providers),
        }
        status.values = [KeyValue(key=k, value=f"{v:.2f}" if isinstance(v, float) else str(v))
                         for k, v in pairs.items()]
        self.pub_diagnostics.publish(DiagnosticArray(header=self._stamp_header(),
                                                     status=[status]))

    def _stamp_header(self) -> Header:
        return Header(stamp=self.get_clock().now().to_msg())

    def destroy_node(self) -> None:
        self.running = False
        self.scheduler.close()
        self.worker.join(timeout=2.0)
        super().destroy_node()


def main(args=None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = PoseEstimationNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):  # Ctrl-C, or `ros2 launch` stopping
        pass
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
