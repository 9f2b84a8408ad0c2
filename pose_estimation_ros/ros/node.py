"""pose_estimation_node: the rclpy wiring of the core, as a managed lifecycle node.

configure loads the models and creates the publishers, activate subscribes (`ros.inputs`),
deactivate unsubscribes (no processing, models stay loaded), cleanup frees the models.
`/diagnostics` reports in every state. With `autostart` (default) the node configures and
activates itself. The processing is `stream.live.LiveStream` (threads, scheduling, depth
synchronisation, the frame step), the messages `ros.outputs` (the output plan); this file only
moves parameters, messages and lifecycle events between ROS and them.
"""
from __future__ import annotations

import logging

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import InvalidParameterValueException
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.time import Time
from std_msgs.msg import Header

from pose_estimation_ros.srv import SelectTarget

from ..models.runtime import ModelPool, hardware_id
from ..settings.build import (
    check_all,
    coerce_all,
    output_options,
    pipeline_options,
    step_config,
    unknown_parameters,
)
from ..settings.table import BY_NAME, PARAMS
from ..stream.figures import StreamFigures
from ..stream.live import Colour, LiveStream
from ..stream.step import create_step
from ..transport.image import depth_message_to_array, message_to_bgr, stamp_ns
from .inputs import Inputs
from .outputs import Outputs
from .support import (
    RosLogHandler,
    descriptor,
    diagnostic_status,
    floats_stay_floats,
    logged_transition,
    refuse_invalid_transitions,
)

#: rclpy's pre-set parameter callbacks (Iron and newer) may change the values being set
_PRE_SET = hasattr(LifecycleNode, "add_pre_set_parameters_callback")
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
        if _PRE_SET:  # an integer for a float parameter is stored as that float
            self.add_pre_set_parameters_callback(floats_stay_floats)
        self._keep_float_types()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        refuse_invalid_transitions(self)
        # The core's log records reach ROS through one node of the process: with --cameras,
        # a warning about the shared models would otherwise be logged once per camera.
        core_log = logging.getLogger("pose_estimation_ros")
        self._log_bridge = None
        if not any(isinstance(h, RosLogHandler) for h in core_log.handlers):
            self._log_bridge = RosLogHandler(self.get_logger())
            core_log.addHandler(self._log_bridge)
        self.stream: LiveStream | None = None
        self.scheduler = None  # the last stream's counts, kept after cleanup
        self.outputs: Outputs | None = None
        self.active = self.finalized = False
        self.fault: str | None = None  # what stopped processing, until configured again
        self.figures = StreamFigures()
        self.inputs = Inputs(self)
        self.qos_timer = None
        self.create_service(SelectTarget, "~/select_target", self._on_select_target)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        period = self.values["diagnostics_period"]
        # housekeeping on the steady clock: with use_sim_time and no /clock (a bag not
        # playing yet, or ended) the ROS clock stands still, and so would these timers
        self.steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(period if BY_NAME["diagnostics_period"].check(period) is None else 1.0,
                          self._publish_diagnostics, clock=self.steady)

    def _keep_float_types(self) -> None:
        """A parameter file's `det_score: 1` is declared as an integer: store the float it
        means, so `ros2 param describe` says double."""
        floats = [Parameter(p.name, value=float(v)) for p in PARAMS
                  if isinstance(p.default, float)
                  and type(v := self.get_parameter(p.name).value) is int]
        if floats:
            self.set_parameters(floats)

    @property
    def pipeline(self):
        """The stream's pipeline (None while unconfigured)."""
        return self.stream.step.pipeline if self.stream is not None else None

    # ---- lifecycle --------------------------------------------------------------------------
    @logged_transition
    def on_configure(self, state) -> TransitionCallbackReturn:
        problems = check_all(self.values)  # each value, then the rules between them
        for reason in problems:
            self.get_logger().fatal(f"invalid parameter: {reason}")
        if problems:
            return FAILURE
        config = step_config(self.values)
        try:
            step = create_step(pipeline_options(self.values), config, self.pool)
        except Exception as exc:  # a missing or corrupt model file, an onnxruntime error
            self.get_logger().fatal(f"cannot load the {self.values['pipeline']} pipeline: {exc}")
            return FAILURE
        self.fault = None
        try:
            self.outputs = Outputs(self, output_options(self.values), config.tracking)
            self.stream = LiveStream(
                step, decode=lambda msg: _decode(msg, self.values["max_image_pixels"]),
                publish=self._publish, log=self._log,
                now_ns=lambda: self.get_clock().now().nanoseconds,
                decode_depth=depth_message_to_array if config.use_depth else None)
            self.scheduler = self.stream.scheduler
            self.stream.start()
        except Exception:  # nothing half-made stays (`logged_transition` says why)
            self._stop_stream()
            if self.outputs is not None:
                self.outputs.destroy()
                self.outputs = None
            raise
        models = ", ".join(f"{m.spec.id} on {m.provider}" for m in self.stream.step.models)
        self.get_logger().info(f"configured: pipeline {self.values['pipeline']}: {models}")
        return super().on_configure(state)

    @logged_transition
    def on_activate(self, state) -> TransitionCallbackReturn:
        self.inputs.subscribe()
        if self.values["qos_reliability"] == "auto":  # follow publishers that come and go
            self.qos_timer = self.create_timer(1.0, self.inputs.check_qos, clock=self.steady)
        result = super().on_activate(state)
        self.outputs.publish_start(self.pipeline.topology)
        self.active = True
        return result

    @logged_transition
    def on_deactivate(self, state) -> TransitionCallbackReturn:
        self.active = False
        if self.stream is not None and self.stream.error:  # to on_error: see _publish_diagnostics
            self.inputs.unsubscribe()
            return TransitionCallbackReturn.ERROR
        self.inputs.unsubscribe()
        if self.qos_timer is not None:
            self.destroy_timer(self.qos_timer)
            self.qos_timer = None
        return super().on_deactivate(state)

    @logged_transition
    def on_cleanup(self, state) -> TransitionCallbackReturn:
        self._stop_stream()
        self.outputs.destroy()
        self.outputs = None
        self.get_logger().info("cleaned up: models unloaded" if self.pool is None else
                               "cleaned up: the models shared with this process's other "
                               "cameras stay loaded")
        return SUCCESS

    def on_error(self, state) -> TransitionCallbackReturn:
        """After a fault of the processing threads: free everything, back to unconfigured (a
        lifecycle manager can configure again)."""
        self.active = False
        self.inputs.unsubscribe()
        if self.stream is not None:
            self.on_cleanup(state)
        self.get_logger().error(f"processing stopped by a fault ({self.fault or 'above'}): "
                                "the node is unconfigured; configure and activate it again")
        return SUCCESS

    @logged_transition
    def on_shutdown(self, state) -> TransitionCallbackReturn:
        if self.active:
            self.on_deactivate(state)
        if self.stream is not None:
            self.on_cleanup(state)
        self.finalized = True
        return SUCCESS

    def start(self) -> bool:
        """configure then activate (autostart); False, after a fatal log line, when either
        fails."""
        if self.trigger_configure() != SUCCESS:  # its FATAL line said why
            self.get_logger().info("configure failed")
            return False
        if self.trigger_activate() != SUCCESS:
            self.get_logger().fatal("activate failed")
            return False
        return True

    def close(self) -> None:
        """Stop the threads before the context goes, then destroy the node."""
        self.active = False
        self._stop_stream()
        if self._log_bridge is not None:
            logging.getLogger("pose_estimation_ros").removeHandler(self._log_bridge)
        self.destroy_node()

    def _stop_stream(self) -> None:
        """The threads stop and the models go (unless shared); `scheduler` keeps the counts."""
        if self.stream is not None:
            self.stream.stop()
            self.stream = None

    # ---- parameters -------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        for p in params:
            if p.name not in BY_NAME:
                continue  # rclpy's own (use_sim_time): not ours to judge
            reason = BY_NAME[p.name].check(p.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            if not _PRE_SET and isinstance(BY_NAME[p.name].default, float) \
                    and p.type_ == Parameter.Type.INTEGER:  # it would be stored as an integer
                return SetParametersResult(successful=False, reason=(
                    f"{p.name} is a float: give {p.value}.0 (this rclpy cannot keep an integer "
                    "given at run time a float)"))
        values = coerce_all(dict(self.values) | {p.name: p.value for p in params
                                                 if p.name in BY_NAME})
        problems = check_all(values)
        if problems:
            return SetParametersResult(successful=False, reason="; ".join(problems))
        if self.stream is not None:
            self.stream.apply(pipeline_options(values), step_config(values))
        self.values = values
        return SetParametersResult(successful=True)

    def _on_select_target(self, request, response):
        """~/select_target: follow a track id, or (-1) whom the policy picks now."""
        wanted = None if request.track_id < 0 else int(request.track_id)
        stream = self.stream
        problem = "the node is not active" if stream is None or not self.active else \
            stream.select_target(wanted)
        response.success = problem is None
        response.track_id = -1 if problem is not None or wanted is None else wanted
        response.message = problem or (
            f"following track {wanted} from the next frame" if wanted is not None else
            f"the {self.values['target_policy']} policy picks from the next frame")
        self._log(f"select_target {request.track_id}: {response.message}",
                  "info" if problem is None else "warning")
        return response

    @property
    def reliability(self) -> str:
        return self.inputs.reliability

    @property
    def image_sub(self):
        return self.inputs.image_sub

    # ---- output -----------------------------------------------------------------------------
    def _log(self, text: str, level: str, key: str | None = None) -> None:
        if key is not None:
            text = self.stream.throttle(text, key) if self.stream else text
            if text is None:
                return
        # one call site per severity: rclpy fixes a call site's severity at its first call
        if level == "error":
            self.get_logger().error(text)
        elif level == "warning":
            self.get_logger().warning(text)
        else:
            self.get_logger().info(text)

    def _publish(self, out, colour: Colour, check) -> bool:
        if not (self.active and self.context.ok()):
            return False  # deactivated or shutting down: counted as discarded
        latency = 0.0  # the message's "unknown"
        if check.latency is not None:
            latency = max(0.0, (self.get_clock().now() - Time.from_msg(colour.header.stamp))
                          .nanoseconds * 1e-9)
            self.figures.add_latency(latency)
        self.outputs.publish(out, latency)
        return True

    # ---- diagnostics ------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        stream = self.stream
        if stream is not None and stream.error and self.active:
            self.fault = stream.error
            self.trigger_deactivate()  # on_deactivate answers ERROR: rclpy calls on_error
            stream = self.stream
        models = self.stream.step.models if self.stream is not None else []
        providers = {m.spec.id: m.provider for m in models}
        fallback = any(p != self.values["provider"] for p in providers.values())
        state = "finalized" if self.finalized else "active" if self.active else \
            "inactive" if stream else "unconfigured"
        pairs = self.figures.pairs(
            state, stream, missed=self.inputs.input_loss.lost if self.inputs.loss_known
            else "unknown",
            reliability=self.inputs.reliability or "-", providers=providers)
        pairs["hri"] = self.outputs.rep155_state if self.outputs else \
            "off: not configured" if self.values["hri.enable"] else "off: hri.enable is false"
        status = diagnostic_status(
            f"{self.get_fully_qualified_name()}: pose estimation",
            hardware_id(next(iter(providers.values()), self.values["provider"])),
            f"error: {self.fault}" if self.fault else
            "running on cpu: requested provider unavailable" if fallback else state,
            fallback, pairs, error=bool(self.fault))
        self.pub_diagnostics.publish(DiagnosticArray(
            header=Header(stamp=self.get_clock().now().to_msg()), status=[status]))


def _decode(msg, max_pixels: int) -> Colour:
    return Colour(message_to_bgr(msg, max_pixels), stamp_ns(msg), msg.header.frame_id,
                  msg.header)


