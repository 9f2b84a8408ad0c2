"""Re-identification: a person who comes back after their track was lost gets their id back.

The tracker keeps an id through a short gap (`max_missing` frames of Kalman prediction); past
that the track is lost and whoever comes back starts a new one. This stage sits after the
tracker and the 3D positions and keeps, for `window` seconds, each lost confirmed track as
*lost*: its appearance (`tracking.appearance.Signature`, part colours) and its last 3D
position. A new track, when the tracker confirms it, is compared with them; it takes a lost id
back when

- its appearance is within `threshold` of that track's (Hellinger distance of the part
  colours; calibrated in the README),
- with depth on both, it is no farther from where that person was last seen than they could
  have walked since (`max_speed` · elapsed + `slack`),
- it started after that person was last seen (two people seen together are two people), and
- nothing else is nearly as close (`margin`): another lost track for this person, or another
  new track for that lost one. Ambiguity is never resolved by guessing: the person keeps the
  new id.

Ids published are then the tracker's, with the re-identified ones mapped back (`aliases`), so
a re-identified person keeps their id on every output (REP-155's body id included). A
signature is updated only while the person is clearly visible: confirmed, no other person's
box over `clean_overlap` of theirs, and only from parts whose keypoints are confident.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.results import FrameResult, TrackState
from ..core.topology import Topology
from .appearance import Signature, signature


@dataclass(frozen=True)
class ReidConfig:
    """The rules of the module docstring; README "The followed person stays the followed
    person" has the measurements behind `threshold` and `margin`."""

    #: seconds a lost track can be re-identified; 0 turns re-identification off
    window: float = 10.0
    #: the largest appearance distance of a match, and how much nearer than any other it is
    threshold: float = 0.45
    margin: float = 0.1
    #: metres per second a person may have walked while unseen, and metres on top
    max_speed: float = 2.5
    slack: float = 0.5
    clean_overlap: float = 0.05

    def __post_init__(self):
        if not self.window >= 0 or not 0 < self.threshold <= 1 or self.margin < 0:
            raise ValueError(f"reid_window must be >= 0 and the threshold in (0, 1], not "
                             f"window {self.window}, threshold {self.threshold}")


@dataclass
class _Seen:
    """What is known of one published id while it is tracked."""

    first: float  # stamp first seen
    last: float  # stamp last seen (measured)
    signature: Signature = field(default_factory=Signature)
    position: np.ndarray | None = None
    confirmed_at: float | None = None  # stamp the tracker confirmed it


@dataclass(frozen=True)
class Reacquired:
    track_id: int  # the id given back
    new_id: int  # the tracker's id of the new track
    distance: float
    seconds: float  # how long the person was lost


class Identities:
    """The ids a stream publishes: the tracker's, with re-identified tracks mapped back."""

    def __init__(self, config: ReidConfig, topology: Topology):
        self.config, self.topology = config, topology
        self.reset()

    def reset(self) -> None:
        self.aliases: dict[int, int] = {}  # tracker id → the published id it took back
        self.seen: dict[int, _Seen] = {}  # by tracker id, while tracked
        self.lost: dict[int, _Seen] = {}  # by published id, within the window
        self.reidentified = 0  # since the reset

    def published(self, tracker_id: int) -> int:
        return self.aliases.get(tracker_id, tracker_id)

    def tracker_id(self, published_id: int) -> int:
        return next((t for t, p in self.aliases.items() if p == published_id), published_id)

    def update(self, result: FrameResult, image: np.ndarray | None) -> list[Reacquired]:
        """Re-identify the tracks confirmed in this frame, remember the ones lost, and
        publish the ids (`result`'s people and tracked list are rewritten in place)."""
        now, start = result.stamp, time.perf_counter()
        if self.config.window <= 0:
            return []
        self._observe(result, image, now)
        events = self._reidentify(result, now)
        tracked = set(result.tracked or [])
        for gone in [t for t, e in self.seen.items() if t not in tracked and e.last < now]:
            entry = self.seen.pop(gone)  # lost by the tracker (a tentative one: never shown)
            if entry.confirmed_at is not None and entry.signature.parts:
                self.lost[self.published(gone)] = entry
            self.aliases.pop(gone, None)
        self.lost = {i: e for i, e in self.lost.items() if 0 <= now - e.last <= self.config.window}
        for p in result.people:
            p.track_id = self.published(p.track_id)
        if result.tracked is not None:
            result.tracked = [self.published(t) for t in result.tracked]
        result.timings["reid"] = (time.perf_counter() - start) * 1000.0
        return events

    def _observe(self, result: FrameResult, image, now: float) -> None:
        boxes = np.array([p.bbox for p in result.people], np.float64).reshape(-1, 4)
        for i, p in enumerate(result.people):
            if p.track_id < 0 or p.track_state not in (TrackState.TENTATIVE,
                                                       TrackState.CONFIRMED):
                continue
            entry = self.seen.setdefault(p.track_id, _Seen(now, now))
            entry.last = now
            if p.track_state is TrackState.CONFIRMED and entry.confirmed_at is None:
                entry.confirmed_at = now
            if p.position is not None:
                entry.position = np.asarray(p.position, np.float64)
            if image is not None and self._clean(boxes, i):
                observed = signature(image, p, self.topology)
                if observed.parts:
                    entry.signature.update(observed)

    def _clean(self, boxes: np.ndarray, i: int) -> bool:
        """No other person's box covers more than `clean_overlap` of this one."""
        box = boxes[i]
        area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)
        others = np.delete(boxes, i, axis=0)
        w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
        h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
        return not len(others) or float((w * h).max()) <= self.config.clean_overlap * area

    def _reidentify(self, result: FrameResult, now: float) -> list[Reacquired]:
        """The tracks the tracker confirmed in this frame, each given back a lost id when
        the match is clear (module docstring)."""
        fresh = [t for t, e in self.seen.items() if e.confirmed_at == now
                 and t not in self.aliases]
        events = []
        for tracker_id in fresh:
            match = self._match(tracker_id, now)
            if match is not None:
                lost_id, distance = match
                entry = self.lost.pop(lost_id)
                self.aliases[tracker_id] = lost_id
                self.reidentified += 1
                events.append(Reacquired(lost_id, tracker_id, distance, now - entry.last))
        return events

    def _match(self, tracker_id: int, now: float) -> tuple[int, float] | None:
        new = self.seen[tracker_id]
        scores = sorted((d, lost_id) for lost_id, entry in self.lost.items()
                        if (d := self._distance(new, entry, now)) is not None)
        if not scores or scores[0][0] > self.config.threshold:
            return None
        best, lost_id = scores[0]
        if len(scores) > 1 and scores[1][0] - best < self.config.margin:
            return None  # two lost people look alike to this one
        rivals = [d for t, other in self.seen.items() if t != tracker_id
                  and t not in self.aliases and other.first > self.lost[lost_id].last
                  and (d := self._distance(other, self.lost[lost_id], now)) is not None]
        if any(d - best < self.config.margin for d in rivals):
            return None  # another newcomer looks as much like that person
        return lost_id, best

    def _distance(self, new: _Seen, lost: _Seen, now: float) -> float | None:
        """Appearance distance, or None where the two cannot be the same person."""
        if new.first <= lost.last or not new.signature.parts:
            return None
        if new.position is not None and lost.position is not None:
            reach = self.config.max_speed * (now - lost.last) + self.config.slack
            if float(np.linalg.norm(new.position - lost.position)) > reach:
                return None
        return new.signature.distance(lost.signature)
