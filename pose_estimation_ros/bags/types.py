"""This package's messages in a rosbags typestore, so bags are written and read without ROS.

The definitions come from the `.msg` files the ROS build generates code from (`msg/` in the
source tree, `share/pose_estimation_ros/msg` in a colcon or pip install), so the definition
text and the RIHS01 type hash in a written bag are what `colcon build` produces (a test
compares both against the build's type descriptions). `BagMessages` builds rosbags messages
for `transport.convert`, every field the caller leaves out zero, empty or default (rosbags'
classes take every field; rclpy's constructors fill them).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

MSG_NAMES = ("Keypoint", "Hand", "PersonPose", "PersonPoseArray", "Skeleton", "FollowTarget",
             "Gesture", "GestureArray")
PACKAGE = "pose_estimation_ros"
_ZEROS = {"bool": False, "string": ""}
_ARRAY_DTYPES = {"uint8": np.uint8, "int8": np.int8, "uint16": np.uint16, "int16": np.int16,
                 "uint32": np.uint32, "int32": np.int32, "uint64": np.uint64,
                 "int64": np.int64, "float32": np.float32, "float64": np.float64}


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
    """A rosbags typestore of `distro` with this package's messages and the REP-155 ones of
    hri_msgs (`transport/hri_msgs`) registered."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    from ..transport.rep155 import definitions

    store = get_typestore(getattr(Stores, distro))
    folder = msg_dir()
    texts = {f"{PACKAGE}/msg/{name}": (folder / f"{name}.msg").read_text()
             for name in MSG_NAMES} | definitions()
    types = {}
    for typename, text in texts.items():
        types.update(get_types_from_msg(text, typename))
    store.register(types)
    return store


def default_message(store, typename: str, **fields):
    """A message of `typename` with `fields` set and every other field zero, empty or default
    (recursively), like an rclpy constructor."""
    from rosbags.interfaces import Nodetype

    values = {}
    for name, (kind, detail) in store.fielddefs[typename][1]:
        if name in fields:
            values[name] = fields[name]
        elif kind == Nodetype.BASE:
            values[name] = _ZEROS.get(detail[0], 0)
        elif kind == Nodetype.NAME:
            values[name] = default_message(store, detail)
        elif kind == Nodetype.ARRAY:  # fixed length
            (sub_kind, sub), length = detail
            values[name] = np.zeros(length, _ARRAY_DTYPES[sub[0]]) if sub_kind == Nodetype.BASE \
                else [default_message(store, sub) for _ in range(length)]
        else:  # sequence
            (sub_kind, sub), _ = detail
            values[name] = np.zeros(0, _ARRAY_DTYPES[sub[0]]) if sub_kind == Nodetype.BASE \
                and sub[0] in _ARRAY_DTYPES else []
    return store.types[typename](**values)


class BagMessages:
    """A `transport.convert.MessageFactory` over a rosbags typestore."""

    def __init__(self, store):
        self.store = store

    def new(self, typename: str, **fields):
        return default_message(self.store, typename, **fields)

    def uint16s(self, values):
        return np.array(list(values), np.uint16)

    def uint8s(self, data: bytes):
        return np.frombuffer(data, np.uint8)
