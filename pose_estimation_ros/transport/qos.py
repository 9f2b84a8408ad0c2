"""How the node subscribes to images, and what it can know about frames lost on the way.

Camera drivers publish images *reliable* (usb_cam, realsense2_camera, `ros2 bag play`) or *best
effort* (many Gazebo bridges, some drivers' sensor-data profile). A best-effort subscription
matches both, but then even a reliable publisher delivers best effort: large frames that need
many UDP fragments are lost silently (raw 1080p at 15 Hz arrived 36–54 % of the time). A
reliable subscription receives every fragment but does not match a best-effort publisher.
`auto` therefore matches what the publishers offer, as `ros2 topic echo` does.
"""
from __future__ import annotations

from dataclasses import dataclass

MODES = ("auto", "reliable", "best_effort")


def choose_reliability(mode: str, offered: list[str]) -> tuple[str, str]:
    """(reliability to subscribe with, why) for `mode` and the publishers' reliabilities."""
    if mode not in MODES:
        raise ValueError(f"qos_reliability must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "auto":
        return mode, "set by the qos_reliability parameter"
    if not offered:
        return "best_effort", "no publisher yet: best effort matches any (re-checked when one " \
                              "appears)"
    if all(r == "reliable" for r in offered):
        return "reliable", f"matching {len(offered)} reliable publisher(s)"
    return "best_effort", "a publisher offers only best effort"


@dataclass
class SequenceGaps:
    """Frames lost between one publisher and this subscription, from the publication sequence
    numbers DDS gives each message (rclpy's message info, Iron and newer). A step back means a
    new publisher (or several interleaving): the count starts again from there."""

    lost: int = 0
    _last: int | None = None

    def update(self, sequence_number: int) -> int:
        """Count one received message; returns how many were lost just before it."""
        gap = 0
        if self._last is not None and sequence_number > self._last:
            gap = sequence_number - self._last - 1
        self._last = sequence_number
        self.lost += gap
        return gap

    def restart(self) -> None:
        self._last = None
