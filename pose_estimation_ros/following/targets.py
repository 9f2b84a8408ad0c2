"""Whom a following robot follows, as a small state machine with a reason.

States (`TargetState`, the FollowTarget message's constants):
- `none`: nobody is followed (no candidate yet, policy `none`, or nobody chosen after a loss).
- `tracking`: the target is seen in this frame (measured 3D where depth gives it).
- `occluded`: the target is not seen, for at most `timeout` seconds since it last was; its 3D
  position is predicted (the last measured one moved on at its last velocity, for at most
  `PREDICT_FOR` s).
- `reacquired`: the target is seen again, given back its id by re-identification
  (`tracking.reid`), on the frame that happens; `tracking` from the next one.
- `lost`: not seen for over `timeout`. With `on_lost` "wait" (default) nobody is followed
  until that person is re-identified (`reacquired`) or a target is chosen explicitly
  (`select`); with "reselect" the policy picks again at once, and the reason says it is a new
  person.

Policies pick a confirmed track: `closest` (smallest distance of the 3D centre; people without
one are not candidates), `largest` (box area), `centre` (box centre nearest the image centre),
`track_id` (exactly this id), `gesture` (the first person to hold a hand raised above their
head for `gesture_hold` s: `gestures.Gestures`, the RoboCup@Home "follow me" start), `none`.
A chosen target stays until it is lost, whatever the policy would say now. Times are the
frames' stamps, so bags replay the same way; a stamp going back restarts the timers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from ..core.results import FrameResult, Person, TrackState

POLICIES = ("closest", "largest", "centre", "track_id", "gesture", "none")
ON_LOST = ("wait", "reselect")
#: seconds a lost target's 3D position is extrapolated at its last velocity, at most
PREDICT_FOR = 1.0


class TargetState(str, Enum):
    NONE = "none"
    TRACKING = "tracking"
    OCCLUDED = "occluded"
    REACQUIRED = "reacquired"
    LOST = "lost"

    @property
    def msg_value(self) -> int:
        """The FollowTarget.STATE_* constant."""
        return list(TargetState).index(self)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TargetConfig:
    policy: str = "closest"
    track_id: int = -1  # for policy track_id
    timeout: float = 2.0  # seconds unseen before the target is lost
    on_lost: str = "wait"

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"target_policy must be one of {', '.join(POLICIES)}, not "
                             f"{self.policy!r}")
        if self.on_lost not in ON_LOST:
            raise ValueError(f"on_target_lost must be one of {', '.join(ON_LOST)}, not "
                             f"{self.on_lost!r}")
        if not self.timeout >= 0:
            raise ValueError(f"target_timeout must be >= 0, not {self.timeout}")


@dataclass(frozen=True)
class Target:
    track_id: int  # the person followed or waited for; -1: nobody
    reason: str
    changed: bool  # another track id or state than on the previous frame
    state: TargetState = TargetState.NONE
    since_seen: float = 0.0  # seconds since the target was last seen (0 while tracking)
    position: np.ndarray | None = None  # 3D centre, camera frame: measured or predicted
    predicted: bool = False

    @property
    def followed(self) -> int:
        """The track id a follower should follow now (-1 while lost or none)."""
        return self.track_id if self.state in (TargetState.TRACKING, TargetState.OCCLUDED,
                                               TargetState.REACQUIRED) else -1


@dataclass
class _Memory:
    """The target's last measurements."""

    last_seen: float = 0.0
    position: np.ndarray | None = None
    at: float | None = None  # stamp of `position`
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))


class TargetSelector:
    def __init__(self, config: TargetConfig = TargetConfig()):
        self.config = config
        self.reset()

    def set_config(self, config: TargetConfig) -> None:
        """New settings while running: another policy or track id chooses again."""
        if (config.policy, config.track_id) != (self.config.policy, self.config.track_id):
            self._id, self._state = -1, TargetState.NONE
        self.config = config

    def reset(self) -> None:
        self._id, self._state, self._mem = -1, TargetState.NONE, _Memory()
        self._chosen: int | None = None  # an explicit choice waiting for its frame
        self._note = ""

    @property
    def track_id(self) -> int:
        """The followed person's track id (-1: nobody)."""
        return self._id

    def select(self, track_id: int | None) -> None:
        """Follow this track id from the next frame on (None: the person the policy picks
        now), whatever happened before (`select_target`)."""
        self._chosen = -1 if track_id is None else int(track_id)

    def update(self, result: FrameResult, reacquired: frozenset[int] = frozenset(),
               raised: dict[int, float] | None = None) -> Target:
        """This frame's target. `reacquired`: ids given back by re-identification in this
        frame; `raised`: people holding a hand up, by track id, with the stamp it began."""
        c = self.config
        seen = {p.track_id: p for p in result.people if p.track_state == TrackState.CONFIRMED}
        if self._chosen is not None:
            return self._explicit(result, seen, raised)
        if c.policy == "track_id" and self._id < 0:
            self._id, self._state = c.track_id, TargetState.NONE
        if self._id < 0:
            return self._choose(result, seen, raised)
        return self._follow(result, seen, reacquired, raised)

    def _follow(self, result, seen, reacquired, raised) -> Target:
        c, now, tid = self.config, result.stamp, self._id
        if tid in seen:
            back = tid in reacquired and self._state in (TargetState.OCCLUDED, TargetState.LOST)
            self._measure(seen[tid], now)
            return self._set(tid, TargetState.REACQUIRED if back else TargetState.TRACKING,
                             f"track {tid} re-identified" if back else f"keeping track {tid}")
        if self._state is TargetState.NONE:  # track_id policy: not seen yet
            return self._set(tid, TargetState.NONE, f"track {tid} not tracked")
        elapsed = now - self._mem.last_seen
        if elapsed < 0:  # time went back (a bag looped): the timer restarts
            self._mem.last_seen, elapsed = now, 0.0
        if elapsed <= c.timeout:
            return self._set(tid, TargetState.OCCLUDED, f"track {tid} not seen for "
                             f"{elapsed:.1f} s, predicted; lost after {c.timeout:g} s", elapsed)
        if c.on_lost == "reselect" and c.policy != "track_id":
            self._state = TargetState.LOST
            return self._choose(result, seen, raised)
        return self._set(tid, TargetState.LOST, f"track {tid} not seen for {elapsed:.1f} s "
                         "(over target_timeout): following nobody until that person is "
                         "re-identified or a target is selected (on_target_lost wait)", elapsed)

    def _choose(self, result, seen, raised) -> Target:
        lost = self._id if self._state is TargetState.LOST else -1
        if self.config.policy == "none":
            return self._set(-1, TargetState.NONE, "policy none")
        chosen = self._pick(list(seen.values()), result.image_size, raised)
        if chosen is None:
            why = {"closest": " with a 3D position", "gesture": " holding a hand up"}
            return self._set(-1, TargetState.NONE, "no confirmed person"
                             + why.get(self.config.policy, ""))
        self._mem = _Memory()
        self._measure(chosen, result.stamp)
        new = f"track {lost} lost; a new person: " if lost >= 0 else ""
        return self._set(chosen.track_id, TargetState.TRACKING,
                         f"{new}{self.config.policy}: track {chosen.track_id}")

    def _explicit(self, result, seen, raised) -> Target:
        chosen, self._chosen = self._chosen, None
        self._id, self._state = -1, TargetState.NONE
        if chosen < 0:
            target = self._choose(result, seen, raised)
            return _reason(target, f"selected: {target.reason}")
        if chosen not in seen:
            return self._set(-1, TargetState.NONE, f"selected track {chosen} is not tracked")
        self._mem = _Memory()
        self._measure(seen[chosen], result.stamp)
        return self._set(chosen, TargetState.TRACKING, f"selected: track {chosen}")

    def _pick(self, people: list[Person], image_size, raised) -> Person | None:
        policy = self.config.policy
        if policy == "track_id":
            people = [p for p in people if p.track_id == self.config.track_id]
            key = [0.0] * len(people)
        elif policy == "closest":
            people = [p for p in people if p.position is not None]
            key = [float(np.linalg.norm(p.position)) for p in people]
        elif policy == "gesture":
            people = [p for p in people if p.track_id in (raised or {})]
            key = [raised[p.track_id] for p in people]  # the first to raise a hand
        elif policy == "largest":
            key = [-float((p.bbox[2] - p.bbox[0]) * (p.bbox[3] - p.bbox[1])) for p in people]
        else:  # centre
            cx, cy = image_size[0] / 2, image_size[1] / 2
            key = [float(np.hypot((p.bbox[0] + p.bbox[2]) / 2 - cx,
                                  (p.bbox[1] + p.bbox[3]) / 2 - cy)) for p in people]
        return people[int(np.argmin(key))] if people else None

    def _measure(self, person: Person, now: float) -> None:
        mem = self._mem
        mem.last_seen = now
        if person.position is None:
            return
        position = np.asarray(person.position, np.float64)
        if mem.position is not None and mem.at is not None and now > mem.at:
            mem.velocity = (position - mem.position) / (now - mem.at)
        mem.position, mem.at = position, now

    def _predicted(self, now: float) -> np.ndarray | None:
        mem = self._mem
        if mem.position is None or mem.at is None:
            return None
        return mem.position + mem.velocity * min(max(now - mem.at, 0.0), PREDICT_FOR)

    def _set(self, track_id: int, state: TargetState, reason: str,
             elapsed: float = 0.0) -> Target:
        changed = track_id != self._id or state is not self._state
        if state is TargetState.NONE and track_id < 0:
            self._mem = _Memory()
        self._id, self._state = track_id, state
        position, predicted = None, False
        if state in (TargetState.TRACKING, TargetState.REACQUIRED):
            position = self._mem.position if self._mem.at == self._mem.last_seen else None
        elif state is TargetState.OCCLUDED:
            position, predicted = self._predicted(self._mem.last_seen + elapsed), True
        return Target(track_id, reason, changed, state, elapsed, position,
                      predicted and position is not None)


def _reason(target: Target, reason: str) -> Target:
    return Target(target.track_id, reason, target.changed, target.state, target.since_seen,
                  target.position, target.predicted)


def facing_camera(position: np.ndarray) -> tuple[float, float, float, float]:
    """Quaternion (x, y, z, w) in the camera's optical frame (z forward, y down) whose x axis
    points from the person back towards the camera, level (a rotation about the optical y
    axis): the direction a follower approaches from."""
    dx, dz = -float(position[0]), -float(position[2])
    theta = float(np.arctan2(-dz, dx))
    return 0.0, float(np.sin(theta / 2)), 0.0, float(np.cos(theta / 2))
