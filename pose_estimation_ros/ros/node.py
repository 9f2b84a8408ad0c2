"""pose_estimation_node: the rclpy wiring of the core, as a managed lifecycle node.

configure loads the models, activate subscribes `image` (or `image/compressed`) and
`camera_info` and enables the publishers (`poses`, `markers`, `annotated_image`, the latched
`skeleton`), deactivate unsubscribes (no processing, models stay loaded), cleanup frees the
models. `/diagnostics` reports in every state. With `autostart` (default) the node configures
and activates itself. A worker thread processes the latest frame only (`LatestFrameScheduler`).
Everything it calls is in the transport-free core and tested there; this file only moves data
between ROS and it.
"""
from __future__ import annotations

import array
import logging
import sys
import threading
import time

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Point
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import InvalidParameterValueException
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_estimation_ros.msg import Keypoint, PersonPose, PersonPoseArray, Skeleton

from ..models.runtime import ModelPool, hardware_id
from ..pipelines.registry import create_pipeline
from ..pipelines.video import VideoPipeline
from ..vision.draw import draw_result
from ..vision.imaging import ImageError
from .convert import MessageTypes, to_pose_array, to_skeleton
from .depth import DepthInput, TargetOutput, marker_array
from .image import message_to_bgr
from .log_throttle import ReasonThrottle
from .parameters import (
    BY_NAME,
    PARAMS,
    apply_runtime,
    check_all,
    coerce_all,
    depth_config,
    pipeline_options,
    target_config,
    tracker_config,
    unknown_parameters,
)
from .qos import SequenceGaps, choose_reliability
from .scheduler import LatestFrameScheduler
from .stamps import StampChecker
from .support import RosLogHandler, descriptor, diagnostic_status

TYPES = MessageTypes(PersonPoseArray=PersonPoseArray, PersonPose=PersonPose, Keypoint=Keypoint,
                     Skeleton=Skeleton, Point=Point, Duration=Duration,
                     uint16_array=lambda values: array.array("H", values))
#: rclpy hands subscription callbacks the DDS message info (sequence numbers) since Iron
_HAS_MESSAGE_INFO = hasattr(Subscription, "CallbackType")
_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE,
                "best_effort": ReliabilityPolicy.BEST_EFFORT}
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class PoseEstimationNode(LifecycleNode):
    def __init__(self, node_name: str = "pose_estimation_node", pool: ModelPool | None = None,
                 **kwargs):
        """`pool`: models shared with the other nodes (cameras) of this process."""
        super().__init__(node_name, **kwargs)
        self.pool = pool
        overrides = getattr(self, "_parameter_overrides", {})
        out_of_range = {}  # rclpy refuses them at declaration; on_configure names them
        for p in PARAMS:
            try:
                self.declare_parameter(p.name, p.default, descriptor(p))
            except InvalidParameterValueException:
                out_of_range[p.name] = overrides[p.name].value
                self.declare_parameter(p.name, p.default, descriptor(p), ignore_override=True)
        self.values = coerce_all({p.name: self.get_parameter(p.name).value for p in PARAMS}
                                 | out_of_range)
        for warning in unknown_parameters(overrides):
            self.get_logger().warning(warning)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        # The core's log records reach ROS through one node of the process: with --cameras,
        # a warning about the shared models would otherwise be logged once per camera.
        core_log = logging.getLogger("pose_estimation_ros")
        self._log_bridge = None
        if not any(isinstance(h, RosLogHandler) for h in core_log.handlers):
            self._log_bridge = RosLogHandler(self.get_logger())
            core_log.addHandler(self._log_bridge)
        self.lock = threading.Lock()  # pipeline and values, between worker and callbacks
        self.pipeline = None
        self.active = False
        self.scheduler = LatestFrameScheduler()
        self.stamps = StampChecker()
        self.throttle = ReasonThrottle(5.0)
        self.input_loss = SequenceGaps()
        self.loss_known = False
        self.worker: threading.Thread | None = None
        self.image_sub = self.info_sub = self.qos_timer = self.depth = self.target = None
        self.reliability = ""
        self.camera_k = None
        self.warned_no_camera_info = False
        self.latencies: list[float] = []
        self.last_counts = (0, 0, time.monotonic())
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        period = self.values["diagnostics_period"]
        self.create_timer(period if BY_NAME["diagnostics_period"].check(period) is None else 1.0,
                          self._publish_diagnostics)

    # ---- lifecycle --------------------------------------------------------------------------
    def on_configure(self, state) -> TransitionCallbackReturn:
        problems = check_all(self.values)
        for reason in problems:
            self.get_logger().fatal(f"invalid parameter: {reason}")
        if problems:
            return FAILURE
        try:
            depth_config(self.values)
        except ValueError as exc:
            self.get_logger().fatal(f"invalid parameter: {exc}")
            return FAILURE
        try:
            pipeline = create_pipeline(pipeline_options(self.values), self.pool)
        except Exception as exc:  # a missing or corrupt model file, an onnxruntime error
            self.get_logger().fatal(f"cannot load the {self.values['pipeline']} pipeline: {exc}")
            return FAILURE
        with self.lock:
            self.pipeline = (VideoPipeline(pipeline, tracker_config(self.values))
                             if self.values["tracking"] else pipeline)
        self.pub_poses = self.create_lifecycle_publisher(PersonPoseArray, "poses", 10)
        self.pub_markers = self.create_lifecycle_publisher(MarkerArray, "markers", 10)
        self.pub_annotated = self.create_lifecycle_publisher(Image, "annotated_image", 1)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.pub_skeleton = self.create_lifecycle_publisher(Skeleton, "skeleton", latched)
        self.target = TargetOutput(self, target_config(self.values), self.values["publish_tf"])
        self.scheduler.open()
        self.worker = threading.Thread(target=self._work, name="pose_estimation", daemon=True)
        self.worker.start()
        models = ", ".join(f"{m.spec.id} on {m.provider}" for m in self.pipeline.models)
        self.get_logger().info(f"configured: pipeline {self.values['pipeline']}: {models}")
        return super().on_configure(state)

    def on_activate(self, state) -> TransitionCallbackReturn:
        self._subscribe()
        self.info_sub = self.create_subscription(CameraInfo, "camera_info", self._on_camera_info,
                                                 self._image_qos())
        if self.values["use_depth"]:
            self.depth = DepthInput(self, self._image_qos(), self.values["depth_tolerance"],
                                    depth_config(self.values))
        if self.values["qos_reliability"] == "auto":  # follow publishers that come and go
            self.qos_timer = self.create_timer(1.0, self._check_qos)
        result = super().on_activate(state)
        self.pub_skeleton.publish(to_skeleton(TYPES, self.pipeline.topology))
        self.active = True
        return result

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        self.active = False
        for entity, destroy in ((self.image_sub, self.destroy_subscription),
                                (self.info_sub, self.destroy_subscription),
                                (self.qos_timer, self.destroy_timer)):
            if entity is not None:
                destroy(entity)
        self.image_sub = self.info_sub = self.qos_timer = None
        if self.depth is not None:
            self.depth.destroy(self)
            self.depth = None
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        self._stop_worker()
        for pub in (self.pub_poses, self.pub_markers, self.pub_annotated, self.pub_skeleton):
            self.destroy_lifecycle_publisher(pub)
        self.target.destroy()
        with self.lock:
            self.pipeline = None  # the onnxruntime sessions go with it, unless shared
        self.get_logger().info("cleaned up: models unloaded" if self.pool is None else
                               "cleaned up: the models shared with this process's other "
                               "cameras stay loaded")
        return SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        if self.active:
            self.on_deactivate(state)
        if self.pipeline is not None:
            self.on_cleanup(state)
        return SUCCESS

    def start(self) -> bool:
        """configure then activate (autostart); False, after a fatal log line, when either
        fails."""
        if self.trigger_configure() != SUCCESS:
            self.get_logger().fatal("configure failed (see above)")
            return False
        if self.trigger_activate() != SUCCESS:
            self.get_logger().fatal("activate failed")
            return False
        return True

    def close(self) -> None:
        """Stop the worker before the context goes, then destroy the node."""
        self.active = False
        self._stop_worker()
        if self._log_bridge is not None:
            logging.getLogger("pose_estimation_ros").removeHandler(self._log_bridge)
        self.destroy_node()

    def _stop_worker(self) -> None:
        self.scheduler.close()
        if self.worker is not None:
            self.worker.join(timeout=10.0)
            self.worker = None

    # ---- parameters -------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        for p in params:
            if p.name not in BY_NAME:
                continue  # rclpy's own (use_sim_time): not ours to judge
            reason = BY_NAME[p.name].check(p.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        values = coerce_all(dict(self.values) | {p.name: p.value for p in params
                                                 if p.name in BY_NAME})
        with self.lock:
            if self.pipeline is not None:
                apply_runtime(self.pipeline, values)
            if self.target is not None:
                self.target.selector.config = target_config(values)
            if self.depth is not None:
                self.depth.config = depth_config(values)
                self.depth.pairing.tolerance_ns = int(round(values["depth_tolerance"] * 1e9))
            self.values = values
        return SetParametersResult(successful=True)

    # ---- input ------------------------------------------------------------------------------
    def _image_qos(self, reliability: str = "") -> QoSProfile:
        return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                          reliability=_RELIABILITY[reliability or self.reliability
                                                   or "best_effort"],
                          durability=DurabilityPolicy.VOLATILE)

    def _image_topic(self) -> tuple[type, str]:
        return (CompressedImage, "image/compressed") if self.values["use_compressed"] \
            else (Image, "image")

    def _offered(self) -> list[str]:
        topic = self.resolve_topic_name(self._image_topic()[1])
        infos = self.get_publishers_info_by_topic(topic)
        self.loss_known = _HAS_MESSAGE_INFO and len(infos) == 1
        return ["reliable" if i.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                else "best_effort" for i in infos]

    def _subscribe(self) -> None:
        self.reliability, why = choose_reliability(self.values["qos_reliability"],
                                                   self._offered())
        msg_type, topic = self._image_topic()
        callback = self._on_image_info if _HAS_MESSAGE_INFO else self._on_image
        self.image_sub = self.create_subscription(msg_type, topic, callback, self._image_qos())
        self.input_loss.restart()
        self.get_logger().info(f"subscribed to {self.image_sub.topic_name} "
                               f"({self.reliability}: {why})")

    def _check_qos(self) -> None:
        wanted, _ = choose_reliability("auto", self._offered())
        if self.image_sub is not None and wanted != self.reliability:
            if self.depth is not None:  # depth first: `reliability` tells the colour's is done
                self.depth.subscribe(self, self._image_qos(wanted))
            self.destroy_subscription(self.image_sub)
            self._subscribe()

    def _on_image(self, msg) -> None:
        self.scheduler.put(msg)

    def _on_image_info(self, msg, info) -> None:
        if self.loss_known:
            self.input_loss.update(int(info["publication_sequence_number"]))
        self.scheduler.put(msg)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        k = np.asarray(msg.k, np.float64).reshape(3, 3)
        self.camera_k = k if k[0, 0] > 0 and k[1, 1] > 0 else None

    # ---- processing -------------------------------------------------------------------------
    def _warn(self, message: str, key: str | None = None, error: bool = False) -> None:
        text = self.throttle(message, key)
        if text is not None:
            if error:  # two call sites: rclpy fixes a call site's severity at its first call
                self.get_logger().error(text)
            else:
                self.get_logger().warning(text)

    def _work(self) -> None:
        while (msg := self.scheduler.take()) is not None:
            try:
                bgr = message_to_bgr(msg)
            except ImageError as exc:
                self._warn(f"frame rejected: {exc}")
                self.scheduler.done(False, "rejected")
                continue
            stamp_ns = Time.from_msg(msg.header.stamp).nanoseconds
            now_ns = self.get_clock().now().nanoseconds
            check = self.stamps.check(stamp_ns, now_ns)
            if (note := self.stamps.describe(check, stamp_ns, now_ns)):
                self._warn(note, key=f"stamp {check.kind}")
            try:
                with self.lock:
                    result = self.pipeline.process(bgr, check.pipeline_stamp)
                    if self.depth is not None and (why := self.depth.add_positions(
                            result, msg.header, self.camera_k)):
                        self._warn(f"no 3D for this frame: {why}", key=why[:30],
                                   error="not registered" in why)  # a setup error
                if not (self.active and self.context.ok()):
                    self.scheduler.done(False, "discarded")  # deactivated or shutting down
                    continue
                self._publish(msg.header, bgr, result, check.latency is not None)
                self.scheduler.done(True)
            except Exception as exc:  # never let one frame stop the node
                if self.active and self.context.ok():
                    self._warn(f"frame dropped: {type(exc).__name__}: {exc}",
                               key=type(exc).__name__, error=True)
                    self.scheduler.done(False, "failed")
                else:
                    self.scheduler.done(False, "discarded")

    def _publish(self, header, bgr: np.ndarray, result, stamp_known: bool) -> None:
        latency = 0.0  # the message's "unknown"
        if stamp_known:
            latency = max(0.0, (self.get_clock().now() - Time.from_msg(header.stamp))
                          .nanoseconds * 1e-9)
            self.latencies.append(latency)
        topology = self.pipeline.topology
        target = self.target.update(result, header)
        self.pub_poses.publish(to_pose_array(TYPES, result, header, topology, latency, target))
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
        self.pub_markers.publish(marker_array(header, result, self.pipeline.topology,
                                              self.camera_k, self.values["marker_depth"]))

    # ---- diagnostics ------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        s = self.scheduler.stats
        received, published, then = self.last_counts
        now = time.monotonic()
        dt = max(now - then, 1e-6)
        self.last_counts = (s.received, s.published, now)
        latencies, self.latencies = self.latencies, []
        pipeline = self.pipeline
        providers = {m.spec.id: m.provider for m in pipeline.models} if pipeline else {}
        fallback = any(p != self.values["provider"] for p in providers.values())
        state = "active" if self.active else "inactive" if pipeline else "unconfigured"
        pairs = {
            "state": state,
            "input_rate_hz": (s.received - received) / dt,
            "output_rate_hz": (s.published - published) / dt,
            "latency_ms_mean": 1000 * float(np.mean(latencies)) if latencies else float("nan"),
            "compute_ms_median": self.scheduler.compute_ms_median,
            **{f"frames_{k}": v for k, v in vars(s).items() if k != "pending"},
            "frames_missed": self.input_loss.lost if self.loss_known else "unknown",
            "image_reliability": self.reliability or "-",
            **({f"frames_{k}": n for k, n in sorted(self.depth.counts.items())}
               if self.depth is not None else {}),
            "target_track_id": self.target.track_id if self.target else -1,
            "target_reason": self.target.reason if self.target else "-",
            **{f"stamps_{k}": n for k, n in sorted(self.stamps.counts.items())},
            "providers": ", ".join(f"{k}={v}" for k, v in providers.items()),
            "models": ", ".join(providers),
        }
        status = diagnostic_status(
            f"{self.get_fully_qualified_name()}: pose estimation",
            hardware_id(next(iter(providers.values()), self.values["provider"])),
            "running on cpu: requested provider unavailable" if fallback else state,
            fallback, pairs)
        self.pub_diagnostics.publish(DiagnosticArray(
            header=Header(stamp=self.get_clock().now().to_msg()), status=[status]))


if __name__ == "__main__":  # python -m pose_estimation_ros.ros.node [--ros-args …]
    from pose_estimation_ros.ros.main import main

    sys.exit(main())
