"""`ros2 run pose_estimation_ros pose_estimation_node`: start the lifecycle node, spin, stop.

`--cameras NS [NS ...]` (before `--ros-args`) serves several cameras from one process: one
node per namespace (`/NS/pose_estimation_node` on `/NS/image`, …), all with the same
parameters, sharing one set of loaded models; each node keeps its own tracker and worker.

Our own SIGINT/SIGTERM handling: the first signal stops the spin loop, further ones (`ros2
launch` forwards a second SIGINT on a terminal Ctrl-C) are ignored, and the worker stops before
the context goes, so nothing is published into a dead context and no traceback is printed.
The node also shuts down cleanly when the process that started it is gone (`ros2 launch`
killed by SIGTERM leaves its children running, ros2/launch#666: they are re-parented, which
the spin loop notices within 0.1 s).
The executor is shut down explicitly before the context: left to the garbage collector, its
SIGINT guard condition is destroyed after the context and rclpy prints an InvalidHandle
traceback at exit.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.utilities import remove_ros_args

from ..models.runtime import ModelPool
from .node import PoseEstimationNode


def cameras(argv: list[str]) -> list[str]:
    """The namespaces of `--cameras` among the non-ROS arguments ([""]: one node, as given)."""
    parser = argparse.ArgumentParser(prog="pose_estimation_node")
    parser.add_argument("--cameras", nargs="+", metavar="NS", default=[""],
                        help="one node per camera namespace, sharing the models")
    namespaces = parser.parse_args(remove_ros_args(argv)[1:]).cameras
    if len(set(namespaces)) != len(namespaces):
        parser.error(f"--cameras repeats a namespace: {namespaces}")
    return namespaces


def main(args=None) -> int:
    """`ros2 run pose_estimation_ros pose_estimation_node`: exit code 0 on Ctrl-C or a launch
    shutdown, 1 when the node cannot start (bad parameters, missing models)."""
    argv = list(sys.argv if args is None else args)
    namespaces = cameras(argv)
    rclpy.init(args=argv, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()  # the process that started this one (`ros2 launch`, `ros2 run`)
    nodes, code, executor = [], 0, None
    pool = ModelPool() if len(namespaces) > 1 else None
    try:
        code = _start(nodes, namespaces, pool)
        if code == 0:
            executor = SingleThreadedExecutor()
            for node in nodes:
                executor.add_node(node)
            while not stop.is_set() and rclpy.ok():
                executor.spin_once(timeout_sec=0.1)
                if os.getppid() != parent:  # it died (SIGKILLed, or SIGTERMed launch)
                    nodes[0].get_logger().warning(
                        f"the process that started this node (pid {parent}) is gone: "
                        "shutting down")
                    break
    except ExternalShutdownException:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        if executor is not None:  # its guard conditions go before the context, not in __del__
            executor.shutdown(timeout_sec=5.0)
        for node in nodes:
            node.close()
        rclpy.try_shutdown()
    return code


def _start(nodes: list, namespaces: list[str], pool) -> int:
    """Create (and with autostart, configure and activate) a node per namespace: 0, or 1
    after one FATAL line saying why one could not start."""
    for ns in namespaces:
        try:
            nodes.append(PoseEstimationNode(pool=pool, **({"namespace": ns} if ns else {})))
        except ParameterException as exc:  # rclpy's own parameters (use_sim_time: 'yes')
            rclpy.logging.get_logger("pose_estimation_node").fatal(f"invalid parameter: {exc}")
            return 1
        node = nodes[-1]
        if node.values["autostart"] is True and not node.start():
            node.get_logger().info("cannot start: exiting with code 1")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
