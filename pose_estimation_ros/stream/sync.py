"""Colour–depth synchronisation by stamp: one rule, live (the node) and offline (`bag`).

**Which depth frame.** A colour frame takes the depth frame whose header stamp is nearest its
own, within `tolerance` (aligned streams, realsense `align_depth`, ZED, OAK, give depth the
colour frame's stamp). A colour frame without one is still processed and published, its
positions invalid, and counted with the reason. Unlike `message_filters`' ApproximateTime
policy, which drops messages it cannot put in a set, every colour frame comes out, in the
order it came, paired or not; and a depth frame may serve two colour frames (depth at half the
rate: then `tolerance` must be at least one colour interval for every frame to be paired).

**When it is known.** A colour frame's partner is decided once a depth stamp at or after its
own has arrived (depth stamps increase, so every later one is farther away), or once `wait`
seconds have passed on the caller's clock since the frame was added (live: the monotonic clock,
so late or lost depth holds a result back by at most `wait`; offline: the bag's log time), or
at once while a depth stream that had started has been silent for `silence` seconds, or at the
end of the stream (`flush`). When the colour stamps step back (a bag looped) while the depth
held is still from before, that depth is forgotten, so the frame waits for the depth stream's
own step back instead of being decided by stamps of the old loop. Frames come out in the order
they were added: the first one still undecided (or still being computed: a payload is attached
later) holds back those after it.

**Memory.** Depth frames older than the oldest colour frame still to pair, minus the tolerance,
can pair with nothing and are dropped; at most `max_depth_frames` are kept. A depth stamp going
backwards (a bag looped, a camera restarted) clears them (counted in `restarts`).
"""
from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .depth import NoDepth, NoDepthReason


@dataclass
class _Colour:
    key: Any
    stamp_ns: int
    frame_id: str
    added: float
    payload: Any = None
    attached: bool = False


_UNSET = object()


@dataclass
class DepthSync:
    tolerance_s: float  # StepConfig.depth_tolerance
    wait_s: float = 0.1
    silence_s: float = 1.0
    max_depth_frames: int = 64
    restarts: int = 0
    received: int = 0  # depth frames added
    _stamps: list = field(default_factory=list)  # depth stamps, increasing
    _depth: list = field(default_factory=list)  # (frame_id, depth) per stamp
    _colour: deque = field(default_factory=deque)
    _last_arrival: float | None = None
    _latest: int | None = None  # the newest depth stamp since the last restart
    _released: int | None = None  # the stamp of the last colour frame that came out

    @property
    def tolerance_ns(self) -> int:
        return int(round(self.tolerance_s * 1e9))

    # ---- input ----------------------------------------------------------------------------
    def add_depth(self, stamp_ns: int, frame_id: str, depth: Any, now: float) -> None:
        self.received += 1
        if self._latest is not None and stamp_ns < self._latest:
            self._stamps.clear()
            self._depth.clear()
            self._released = None  # colour frames from before the restart say nothing now
            self.restarts += 1
        self._stamps.append(stamp_ns)
        self._depth.append((frame_id, depth))
        self._latest = stamp_ns
        self._last_arrival = now
        excess = len(self._stamps) - self.max_depth_frames
        if excess > 0:
            del self._stamps[:excess], self._depth[:excess]

    def add_colour(self, key: Any, stamp_ns: int, frame_id: str, now: float,
                   payload: Any = _UNSET) -> None:
        """A colour frame to pair; its payload now, or later with `attach`."""
        if self._released is not None and stamp_ns < self._released:
            self._released = None  # the colour stream restarted (a bag looped)
            if self._latest is not None and self._latest > stamp_ns + self.tolerance_ns:
                # the depth held is from before the restart: its stamps say nothing about
                # this frame's partner, which comes with the depth stream's own restart
                self._stamps.clear()
                self._depth.clear()
                self._latest = None
        entry = _Colour(key, stamp_ns, frame_id, now)
        if payload is not _UNSET:
            entry.payload, entry.attached = payload, True
        self._colour.append(entry)

    def attach(self, key: Any, payload: Any) -> None:
        for entry in self._colour:
            if entry.key == key:
                entry.payload, entry.attached = payload, True
                return
        raise KeyError(f"no colour frame {key!r} is waiting")

    def cancel(self, key: Any) -> bool:
        """Forget a colour frame (its processing failed); False when it is not waiting."""
        for entry in self._colour:
            if entry.key == key:
                self._colour.remove(entry)
                return True
        return False

    # ---- output ---------------------------------------------------------------------------
    def ready(self, now: float, flush: bool = False) -> list[tuple[Any, Any, Any]]:
        """(key, payload, partner) of the frames decided now, in the order they were added:
        the partner is what `add_depth` was given, or the `NoDepth` saying why there is
        none."""
        out = []
        while self._colour and self._colour[0].attached and self._decided(self._colour[0],
                                                                          now, flush):
            entry = self._colour.popleft()
            out.append((entry.key, entry.payload, self.pair(entry.stamp_ns, entry.frame_id)))
            self._released = entry.stamp_ns
        # later colour frames have later stamps: depth before this one's window serves none
        self._prune(self._colour[0].stamp_ns if self._colour else self._released)
        return out

    def drain(self) -> list[tuple[Any, Any]]:
        """Everything still waiting (key, payload), forgotten: the stream stops."""
        out = [(e.key, e.payload) for e in self._colour]
        self._colour.clear()
        return out

    def deadline(self) -> float | None:
        """The clock time at which the first waiting frame is decided by `wait` at the latest."""
        return self._colour[0].added + self.wait if self._colour else None

    @property
    def wait(self) -> float:
        """`wait_s`, or three depth frame intervals where that is longer (a slow depth
        stream), at most max(wait_s, 1 s)."""
        if len(self._stamps) < 4:
            return self.wait_s
        interval = float(np.median(np.diff(self._stamps[-10:]))) * 1e-9
        return min(max(self.wait_s, 3 * interval), max(self.wait_s, 1.0))

    def pair(self, stamp_ns: int, frame_id: str) -> Any:
        """The rule, on the depth frames held now: the depth given to `add_depth`, or
        `NoDepth`."""
        if self._latest is None:
            return NoDepth.of(NoDepthReason.NO_DEPTH_YET)
        i = bisect.bisect_left(self._stamps, stamp_ns)
        near = min((j for j in (i - 1, i) if 0 <= j < len(self._stamps)),
                   key=lambda j: abs(self._stamps[j] - stamp_ns), default=None)
        gap = abs(self._stamps[near] - stamp_ns) if near is not None else \
            abs(self._latest - stamp_ns)  # the held ones were too old for any frame to come
        if near is None or gap > self.tolerance_ns:
            return NoDepth.of(NoDepthReason.NO_PARTNER, tolerance_ms=self.tolerance_ns / 1e6,
                              nearest_ms=gap / 1e6)
        depth_frame, depth = self._depth[near]
        if depth_frame != frame_id:
            return NoDepth.of(NoDepthReason.UNREGISTERED, depth_frame=depth_frame,
                              colour_frame=frame_id)
        return depth

    def _decided(self, entry: _Colour, now: float, flush: bool) -> bool:
        if flush or (self._latest is not None and self._latest >= entry.stamp_ns):
            return True
        if now - entry.added >= self.wait:
            return True
        return self._last_arrival is not None and now - self._last_arrival >= self.silence_s

    def _prune(self, oldest_needed: int | None) -> None:
        if oldest_needed is None:
            return
        cut = bisect.bisect_left(self._stamps, oldest_needed - self.tolerance_ns)
        if cut:
            del self._stamps[:cut], self._depth[:cut]
