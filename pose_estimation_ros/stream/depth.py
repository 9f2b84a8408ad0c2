"""A colour frame's depth partner, built in one place for every path (the node, `bag`, `run`):
the aligned depth image with its own camera where known (`DepthFrame`), or why the frame has no
3D (`NoDepth`, with a `NoDepthReason` that every count is keyed by)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

import numpy as np

from ..core.camera import Intrinsics
from ..vision.errors import ImageError


class NoDepthReason(str, Enum):
    """Why a frame has no 3D (README "Human following"): the key every count uses, and the
    text a person reads (`TEXTS`, filled by `NoDepth.of`)."""

    NO_DEPTH_YET = "no_depth_yet"
    NO_PARTNER = "no_partner"
    UNREGISTERED = "unregistered"
    DEPTH_REJECTED = "depth_rejected"
    SIZE_MISMATCH = "size_mismatch"
    NO_CAMERA_INFO = "no_camera_info"
    DEPTH_ENDED = "depth_ended"
    NO_VALID_DEPTH = "no_valid_depth"

    @property
    def setup(self) -> bool:
        """A configuration error (logged as an error, not a warning)."""
        return self in (NoDepthReason.UNREGISTERED, NoDepthReason.SIZE_MISMATCH)

    def __str__(self) -> str:
        return self.value


TEXTS = {
    NoDepthReason.NO_DEPTH_YET: "no depth image received yet",
    NoDepthReason.NO_PARTNER: "no depth image within {tolerance_ms:g} ms of the colour stamp "
                              "(nearest {nearest_ms:.0f} ms): stale, late or missing depth",
    NoDepthReason.UNREGISTERED: "depth is not registered to the colour image (depth frame "
                                "{depth_frame!r}, colour {colour_frame!r}): enable alignment "
                                "in the camera driver, e.g. realsense align_depth.enable:=true, "
                                "and use its aligned_depth_to_color topic",
    NoDepthReason.DEPTH_REJECTED: "depth rejected: {problem}",
    NoDepthReason.SIZE_MISMATCH: "{problem}",
    NoDepthReason.NO_CAMERA_INFO: "no valid CameraInfo of the colour camera: 3D needs its "
                                  "intrinsics",
    NoDepthReason.DEPTH_ENDED: "the depth input ended before the colour input",
    NoDepthReason.NO_VALID_DEPTH: "depth paired, but no person has depth within "
                                  "[{min_depth:g}, {max_depth:g}] m at their keypoints (out of "
                                  "range, or no data there)",
}


@dataclass(frozen=True)
class NoDepth:
    """Why one frame has no 3D: `reason` is counted (diagnostics, sidecar, CSV, `run`),
    `detail` is what a person reads."""

    reason: NoDepthReason
    detail: str

    @classmethod
    def of(cls, reason: NoDepthReason, **values) -> NoDepth:
        """The reason with its text filled in (`TEXTS` names the values each needs)."""
        return cls(reason, TEXTS[reason].format(**values))

    @property
    def key(self) -> str:
        return self.reason.value


@dataclass(frozen=True)
class DepthFrame:
    """An aligned depth image as the camera sends it (uint16 mm or float32 m) and its own
    camera (None: the colour camera's matrix scaled to its size)."""

    depth: np.ndarray
    camera: Intrinsics | None = None


def partner(source: Any, decode: Callable[[Any], np.ndarray],
            camera: Intrinsics | None = None) -> DepthFrame | NoDepth:
    """The depth partner from what pairing chose: `source` a depth message, file or array
    (`decode` makes the uint16/float32 image of it, ImageError for one it cannot), or the
    `NoDepth` pairing gave; `camera` the depth camera's own intrinsics where known."""
    if isinstance(source, NoDepth):
        return source
    try:
        return DepthFrame(decode(source), camera)
    except ImageError as exc:
        return NoDepth.of(NoDepthReason.DEPTH_REJECTED, problem=exc)
