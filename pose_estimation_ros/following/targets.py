"""Which tracked person a following robot should follow, kept while they stay tracked.

Policies: `closest` (smallest distance of the person's 3D centre; people without one are not
candidates), `largest` (box area), `centre` (box centre nearest the image centre), `track_id`
(exactly this id, nobody otherwise), `none`. Only confirmed tracks are chosen. The target is
sticky: it stays the same track id while that track is reported, whatever the policy would say
now, and is re-chosen by the policy only after it has been missing for `target_timeout`
seconds (stamps of the frames, so bags replay the same way).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.results import FrameResult, Person, TrackState

POLICIES = ("closest", "largest", "centre", "track_id", "none")


@dataclass(frozen=True)
class TargetConfig:
    policy: str = "closest"
    track_id: int = -1  # for policy track_id
    timeout: float = 2.0  # seconds a lost target is waited for

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"target_policy must be one of {', '.join(POLICIES)}, not "
                             f"{self.policy!r}")
        if self.timeout < 0:
            raise ValueError(f"target_timeout must be >= 0, not {self.timeout}")


@dataclass(frozen=True)
class Target:
    track_id: int  # -1: nobody
    reason: str
    changed: bool  # a different track id than on the previous frame


class TargetSelector:
    def __init__(self, config: TargetConfig = TargetConfig()):
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._id = -1
        self._last_seen: float | None = None

    def update(self, result: FrameResult) -> Target:
        c = self.config
        candidates = [p for p in result.people if p.track_state == TrackState.CONFIRMED]
        ids = {p.track_id for p in result.people if p.track_id >= 0}
        stamp = result.stamp
        if c.policy == "none":
            return self._set(-1, "policy none")
        if c.policy == "track_id":
            here = c.track_id in {p.track_id for p in candidates}
            return self._set(c.track_id if here else -1,
                             f"track {c.track_id} (target_track_id)" if here
                             else f"track {c.track_id} not tracked")
        if self._id >= 0:
            if self._id in ids:
                self._last_seen = stamp
                return self._set(self._id, f"keeping track {self._id}")
            if self._last_seen is not None and 0 <= stamp - self._last_seen <= c.timeout:
                return self._set(self._id, f"track {self._id} missing, waiting up to "
                                           f"{c.timeout:g} s")
        chosen = self._choose(candidates, result.image_size)
        if chosen is None:
            return self._set(-1, "no confirmed person" + (" with a 3D position"
                                                          if c.policy == "closest" else ""))
        self._last_seen = stamp
        lost = f"track {self._id} lost for over {c.timeout:g} s; " if self._id >= 0 else ""
        return self._set(chosen.track_id, f"{lost}{c.policy}: track {chosen.track_id}")

    def _choose(self, people: list[Person], image_size) -> Person | None:
        policy = self.config.policy
        if policy == "closest":
            people = [p for p in people if p.position is not None]
            key = [float(np.linalg.norm(p.position)) for p in people]
        elif policy == "largest":
            key = [-float((p.bbox[2] - p.bbox[0]) * (p.bbox[3] - p.bbox[1])) for p in people]
        else:  # centre
            cx, cy = image_size[0] / 2, image_size[1] / 2
            key = [float(np.hypot((p.bbox[0] + p.bbox[2]) / 2 - cx,
                                  (p.bbox[1] + p.bbox[3]) / 2 - cy)) for p in people]
        return people[int(np.argmin(key))] if people else None

    def _set(self, track_id: int, reason: str) -> Target:
        changed = track_id != self._id
        self._id = track_id
        if track_id < 0:
            self._last_seen = None
        return Target(track_id, reason, changed)


def facing_camera(position: np.ndarray) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) in the camera's optical frame (z forward, y down) whose x axis
    points from the person back towards the camera, level (a rotation about the optical y
    axis): the direction a follower approaches from."""
    dx, dz = -float(position[0]), -float(position[2])
    theta = float(np.arctan2(-dz, dx))  # rotation about y maps x to (cos θ, 0, −sin θ)
    return 0.0, float(np.sin(theta / 2)), 0.0, float(np.cos(theta / 2))
