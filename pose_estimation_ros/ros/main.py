"""`ros2 run pose_estimation_ros pose_estimation_node`: start the lifecycle node, spin, stop.

Our own SIGINT/SIGTERM handling: the first signal stops the spin loop, further ones (`ros2
launch` forwards a second SIGINT on a terminal Ctrl-C) are ignored, and the worker stops before
the context goes, so nothing is published into a dead context and no traceback is printed.
"""
from __future__ import annotations

import signal
import sys
import threading

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

from .node import PoseEstimationNode


def main(args=None) -> int:
    """`ros2 run pose_estimation_ros pose_estimation_node`: exit code 0 on Ctrl-C or a launch
    shutdown, 1 when the node cannot start (bad parameters, missing models)."""
    rclpy.init(args=args, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node, code = None, 0
    try:
        node = PoseEstimationNode()
        if node.values["autostart"] is True and not node.start():
            node.get_logger().fatal("cannot start: exiting with code 1")
            code = 1
        else:
            executor = SingleThreadedExecutor()
            executor.add_node(node)
            while not stop.is_set() and rclpy.ok():
                executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        if node is not None:
            node.close()
        rclpy.try_shutdown()
    return code



if __name__ == "__main__":
    sys.exit(main())
