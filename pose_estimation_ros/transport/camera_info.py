"""sensor_msgs/CameraInfo of ROS 1 and ROS 2 alike, through one accessor.

ROS 1 spells the matrices in upper case (`K`, `D`, `R`, `P`), ROS 2 in lower case (`k`, `d`,
`r`, `p`); the size and `distortion_model` are the same. rosbags and rclpy both keep the
spelling of the message definition, so a ROS 1 bag's CameraInfo has `K`.
"""
from __future__ import annotations

from typing import Any

from ..core.camera import CameraError, Intrinsics, check_camera_matrix

#: the fields whose spelling differs between ROS 1 and ROS 2 CameraInfo
_SPELLINGS = {"k": ("k", "K"), "d": ("d", "D"), "r": ("r", "R"), "p": ("p", "P")}


def info_field(msg: Any, name: str) -> Any:
    """A CameraInfo field by its ROS 2 name, whichever spelling the message has."""
    for spelling in _SPELLINGS.get(name, (name,)):
        if hasattr(msg, spelling):
            return getattr(msg, spelling)
    raise AttributeError(f"{type(msg).__name__} has no field {name!r} (nor its ROS 1 "
                         "spelling): is it a sensor_msgs/CameraInfo?")


def intrinsics(msg: Any, what: str = "CameraInfo") -> Intrinsics:
    """The camera matrix and image size of a CameraInfo, or CameraError with the reason
    (uncalibrated, non-finite or implausible focal lengths, no size)."""
    k = check_camera_matrix(info_field(msg, "k"), f"{what} K")
    size = (int(msg.width), int(msg.height))
    if size[0] <= 0 or size[1] <= 0:
        raise CameraError(f"{what} gives no image size ({size[0]}×{size[1]})")
    return Intrinsics(k, size, str(msg.header.frame_id))
