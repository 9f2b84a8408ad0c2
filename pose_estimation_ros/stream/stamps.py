"""Header stamps of incoming frames: the one stamp rule of the node and `bag`, which clock the
pipeline runs on, and the latency.

Cameras, bags and simulators send stamps that cannot be trusted blindly. The rule, the same
for a live node (frames in the order they arrive) and `bag` (frames in log order, slightly
out-of-order stamps put back in order by its reorder window, `bags.process`), so that a
recording gives the same frames through both paths:

- `ok` (later than the previous frame's): processed.
- `unknown` (0, a driver that never sets it): processed on the receive time (a bag's log
  time); the latency is unknown (the message carries 0).
- `future` (ahead of the clock: two machines' clocks disagree, or `use_sim_time` is set on one
  side only): processed; the latency is unknown (0 in the message); the stamp is kept.
- `backwards` (a bag looped, a camera restarted): processed on its stamp; time restarts for
  the stream: the smoothing filters restart and a follow target waiting for its person is
  chosen again, as after any step back in time.
- `duplicate` (the previous frame's stamp again: the same frame sent or recorded twice):
  rejected and counted (`duplicate_stamp`); a second message with the same stamp would say
  nothing new and doubles a table's rows.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

KINDS = ("ok", "unknown", "future", "backwards", "duplicate")


@dataclass(frozen=True)
class StampCheck:
    kind: str
    #: seconds: the clock the pipeline and the tracker run on for this frame
    pipeline_stamp: float
    #: seconds from the stamp to now; None when it cannot be known
    latency: float | None

    @property
    def process(self) -> bool:
        """False for a frame the rule rejects (a duplicate stamp)."""
        return self.kind != "duplicate"


@dataclass
class StampChecker:
    #: stamps at most this far ahead of the node's clock count as "ok" with latency 0
    future_tolerance_s: float = 0.002
    counts: Counter = field(default_factory=Counter)
    _last_ns: int | None = None

    def check(self, stamp_ns: int, now_ns: int) -> StampCheck:
        if stamp_ns <= 0:
            kind, result = "unknown", StampCheck("unknown", now_ns / 1e9, None)
        else:
            ahead = (stamp_ns - now_ns) * 1e-9
            if ahead > self.future_tolerance_s:
                kind = "future"
            elif self._last_ns is not None and stamp_ns < self._last_ns:
                kind = "backwards"
            elif stamp_ns == self._last_ns:
                kind = "duplicate"
            else:
                kind = "ok"
            latency = None if kind == "future" else max(0.0, -ahead)
            result = StampCheck(kind, stamp_ns / 1e9, latency)
            self._last_ns = stamp_ns
        self.counts[kind] += 1
        return result

    def describe(self, check: StampCheck, stamp_ns: int, now_ns: int) -> str | None:
        """A warning for a stamp that is not ok (the node throttles it per kind)."""
        if check.kind == "unknown":
            return ("image stamp is 0: latency unknown, the pipeline uses the receive time "
                    "(does the camera driver set header.stamp?)")
        if check.kind == "future":
            return (f"image stamp is {(stamp_ns - now_ns) * 1e-9:.3f} s ahead of this node's "
                    "clock: latency unknown (clocks of camera and node disagree, or "
                    "use_sim_time differs)")
        if check.kind == "backwards":
            return "image stamp went backwards (bag looped?): smoothing filters restart"
        if check.kind == "duplicate":
            return "frame rejected: its stamp repeats the previous frame's (sent twice?)"
        return None
