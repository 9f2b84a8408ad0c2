"""Pairing colour frames with aligned depth frames by stamp, without message_filters.

Aligned streams (realsense `align_depth.enable:=true`, ZED, OAK) give depth the colour frame's
stamp, so the default tolerance is small. The newest depth frames are kept; a colour frame takes
the one nearest in time within the tolerance. What cannot be paired says why, and the frame is
still published, with its positions invalid.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pairing:
    depth: Any  # whatever was added (the depth message), None when unpaired
    reason: str  # "" when paired, else why not


class DepthPairing:
    def __init__(self, tolerance_s: float = 0.02, keep: int = 8):
        self.tolerance_ns = int(round(tolerance_s * 1e9))
        self._frames: deque = deque(maxlen=keep)
        self.restarts = 0

    def add(self, stamp_ns: int, frame_id: str, depth: Any) -> None:
        if self._frames and stamp_ns < self._frames[-1][0]:  # a bag looped, a camera restarted
            self._frames.clear()
            self.restarts += 1
        self._frames.append((stamp_ns, frame_id, depth))

    def match(self, stamp_ns: int, frame_id: str) -> Pairing:
        if not self._frames:
            return Pairing(None, "no depth image received yet")
        stamp, depth_frame, depth = min(self._frames, key=lambda f: abs(f[0] - stamp_ns))
        if abs(stamp - stamp_ns) > self.tolerance_ns:
            return Pairing(None, f"no depth image within {self.tolerance_ns / 1e6:g} ms of the "
                                 f"colour stamp (nearest {abs(stamp - stamp_ns) / 1e6:.0f} ms): "
                                 "stale or missing depth")
        if depth_frame != frame_id:
            return Pairing(None, f"depth is not registered to the colour image (depth frame "
                                 f"{depth_frame!r}, colour {frame_id!r}): enable alignment in "
                                 "the camera driver, e.g. realsense align_depth.enable:=true, "
                                 "and use its aligned_depth_to_color topic")
        return Pairing(depth, "")
