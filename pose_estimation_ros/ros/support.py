"""rclpy pieces of the node's parameters, lifecycle, logging and diagnostics: parameter
descriptors from the settings table (`settings/table.py`) and the pre-set callback that keeps
floats floats, the guard of the change_state service, the bridge from the core's Python
logging to the ROS logger, and the DiagnosticStatus of the node's figures."""
from __future__ import annotations

import functools
import logging

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.parameter import Parameter

from ..settings.table import BY_NAME


def descriptor(p) -> ParameterDescriptor:
    # dynamic_typing: the node checks types itself, so that `det_score: 1` is accepted as 1.0
    # and a wrong type is one clear error instead of rclpy's InvalidParameterTypeException.
    d = ParameterDescriptor(description=p.help, read_only=p.read_only,
                            dynamic_typing=True)
    if p.choices:
        d.additional_constraints = "one of: " + ", ".join(map(str, p.choices))
    if p.min is not None and isinstance(p.default, float):
        d.floating_point_range = [FloatingPointRange(from_value=float(p.min),
                                                     to_value=float(p.max), step=0.0)]
    elif p.min is not None:
        d.integer_range = [IntegerRange(from_value=int(p.min), to_value=int(p.max), step=1)]
    return d


class RosLogHandler(logging.Handler):
    """The core logs through Python `logging` (e.g. the CPU-fallback warning); this sends it
    to the node's ROS logger, so it reaches the console and /rosout."""

    def __init__(self, logger):
        super().__init__(logging.INFO)
        self.ros_logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        log = self.ros_logger.error if record.levelno >= logging.ERROR else \
            self.ros_logger.warning if record.levelno >= logging.WARNING else self.ros_logger.info
        log(record.getMessage())


def diagnostic_status(name: str, hardware: str, message: str, warn: bool,
                      values: dict, error: bool = False) -> DiagnosticStatus:
    """One status; floats with two decimals, everything else as text."""
    level = DiagnosticStatus.ERROR if error else \
        DiagnosticStatus.WARN if warn else DiagnosticStatus.OK
    return DiagnosticStatus(
        level=level, name=name,
        hardware_id=hardware, message=message,
        values=[KeyValue(key=k, value=f"{v:.2f}" if isinstance(v, float) else str(v))
                for k, v in values.items()])


def type_name(msg_type) -> str:
    module = msg_type.__module__.split(".")  # e.g. sensor_msgs.msg._image
    return f"{module[0]}/msg/{msg_type.__name__}"


def floats_stay_floats(params: list) -> list:
    """Pre-set: an integer given for a float parameter (`ros2 param set … det_score 1`) is
    set as that float, so the parameter's type stays double."""
    return [Parameter(p.name, value=float(p.value))
            if p.name in BY_NAME and isinstance(BY_NAME[p.name].default, float)
            and p.type_ == Parameter.Type.INTEGER else p for p in params]


def refuse_invalid_transitions(node) -> None:
    """A transition that is not valid in the current state (`activate` while unconfigured)
    makes rclpy's change_state service raise out of the executor (fixed upstream in rclpy
    PR 1319, after Jazzy's 7.1.6 and Humble's builds): answer it with success false and a
    warning instead."""
    service = node._service_change_state
    handle = service.callback

    def change_state(request, response):
        try:
            return handle(request, response)
        except Exception as exc:  # rclpy's RCLError: not a transition of this state
            node.get_logger().warning(
                f"lifecycle transition {request.transition.label or request.transition.id} "
                f"refused in state {node._state_machine.current_state[1]}: {exc}")
            response.success = False
            return response
    service.callback = change_state


def logged_transition(callback):
    """A lifecycle callback that raises is logged with its cause (one FATAL line) and fails
    the transition, instead of rclpy turning it into an error with nothing said."""
    from rclpy.lifecycle import TransitionCallbackReturn

    @functools.wraps(callback)
    def transition(node, state):
        try:
            return callback(node, state)
        except Exception as exc:  # anything: the transition fails, saying why
            node.get_logger().fatal(f"{callback.__name__.removeprefix('on_')} failed: "
                                    f"{type(exc).__name__}: {exc}")
            return TransitionCallbackReturn.FAILURE
    return transition
