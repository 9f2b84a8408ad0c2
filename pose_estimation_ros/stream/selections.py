"""`--select-target T:ID` of `run` and `bag`: the node's `~/select_target` service at a time of
the recording. `T` is seconds after the first frame's stamp, `ID` a track id or `policy` (the
person the target policy picks then); each is applied to the first frame at or after its time.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Selection:
    seconds: float
    track_id: int | None  # None: the policy picks

    @classmethod
    def parse(cls, text: str) -> Selection:
        when, _, who = text.partition(":")
        try:
            seconds = float(when)
            track_id = None if who.strip() == "policy" else int(who)
        except ValueError:
            seconds = track_id = float("nan")
        if not seconds >= 0 or (track_id is not None and not track_id >= 0):
            raise ValueError(f"--select-target must be SECONDS:TRACK_ID or SECONDS:policy "
                             f"(seconds after the first frame, a track id >= 0), not {text!r}")
        return cls(seconds, track_id)


@dataclass
class Selections:
    """The selections still to apply, in time order."""

    pending: list[Selection] = field(default_factory=list)
    start_ns: int | None = None

    @classmethod
    def parse(cls, texts: list[str] | None) -> Selections:
        return cls(sorted((Selection.parse(t) for t in texts or []), key=lambda s: s.seconds))

    def due(self, stamp_ns: int) -> list[int | None]:
        """The selections due at a frame of this stamp (the first frame sets time 0)."""
        if self.start_ns is None:
            self.start_ns = stamp_ns
        elapsed = (stamp_ns - self.start_ns) * 1e-9
        due = [s for s in self.pending if s.seconds <= elapsed]
        self.pending = self.pending[len(due):]
        return [s.track_id for s in due]
