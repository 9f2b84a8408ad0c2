"""This package's messages in a rosbags typestore, so bags are written and read without ROS.

The definitions come from the `.msg` files the ROS build generates code from (`msg/` in the
source tree, `share/pose_estimation_ros/msg` in a colcon or pip install), so the definition
text and the RIHS01 type hash in a written bag are what `colcon build` produces (a test
compares both against the build's type descriptions).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..ros.convert import MessageTypes

MSG_NAMES = ("Keypoint", "PersonPose", "PersonPoseArray", "Skeleton")
PACKAGE = "pose_estimation_ros"


def msg_dir() -> Path:
    """Where the .msg files are: the source tree, else an install's share folder."""
    candidates = [Path(__file__).resolve().parents[2] / "msg",
                  Path(sys.prefix) / "share" / PACKAGE / "msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE / "msg")
    for path in candidates:
        if all((path / f"{n}.msg").is_file() for n in MSG_NAMES):
            return path
    raise FileNotFoundError(f"the {PACKAGE} .msg files are not in any of "
                            f"{', '.join(map(str, candidates))}")


def typestore(distro: str = "ROS2_JAZZY"):
    """A rosbags typestore of `distro` with this package's messages registered."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(getattr(Stores, distro))
    folder = msg_dir()
    types = {}
    for name in MSG_NAMES:
        types.update(get_types_from_msg((folder / f"{name}.msg").read_text(),
                                        f"{PACKAGE}/msg/{name}"))
    store.register(types)
    return store


def message_types(store) -> MessageTypes:
    """The classes `ros_convert` builds messages from, out of a rosbags typestore."""
    t = store.types
    return MessageTypes(
        PersonPoseArray=t[f"{PACKAGE}/msg/PersonPoseArray"],
        PersonPose=t[f"{PACKAGE}/msg/PersonPose"], Keypoint=t[f"{PACKAGE}/msg/Keypoint"],
        Skeleton=t[f"{PACKAGE}/msg/Skeleton"], Point=t["geometry_msgs/msg/Point"],
        Duration=t["builtin_interfaces/msg/Duration"],
        uint16_array=lambda values: np.array(list(values), np.uint16))
