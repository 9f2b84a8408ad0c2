"""Every gesture of a frame's tracked people (`~/gestures`): `hand_raised` (`raised.py`),
`pointing` (`pointing.py`) and `waving` (`waving.py`), each per person and arm. The raised
hands are also what the follow target's `gesture` policy uses: one rule."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.results import Person
from ..core.topology import Topology
from .events import Gesture
from .hold import Hold
from .pointing import arm_points, ray
from .raised import SIDES, RaisedHand, RaisedHands
from .waving import Waving

#: a pointing arm may dip for this long (a bending elbow for a frame or two)
POINTING_GAP = 0.4


@dataclass(frozen=True)
class GestureConfig:
    #: seconds a raised hand is held before it counts (`gesture_hold`)
    hold: float = 1.0
    #: seconds an arm points before it counts (`pointing_hold`)
    pointing_hold: float = 0.5
    #: the floor plane a, b, c, d (a·x + b·y + c·z + d = 0, camera optical frame, metres;
    #: (a, b, c) a unit normal), None where unknown
    floor: tuple[float, float, float, float] | None = None


class Gestures:
    """The per-stream state of the gesture rules."""

    def __init__(self, topology: Topology, config: GestureConfig = GestureConfig()):
        self.topology = topology
        self.raised = RaisedHands(topology, config.hold)
        self.pointing = Hold(config.pointing_hold, POINTING_GAP)
        self.waving = Waving()
        self.config = config

    def set_config(self, config: GestureConfig) -> None:
        self.config = config
        self.raised.hold = config.hold
        self.pointing.hold = config.pointing_hold

    def reset(self) -> None:
        self.raised.reset()
        self.pointing.reset()
        self.waving.reset()

    def update(self, people: list[Person], now: float) -> tuple[list[RaisedHand],
                                                                list[Gesture]]:
        """The raised hands and every gesture of this frame's tracked people."""
        raised = self.raised.update(people, now)
        out = [Gesture(r.track_id, "hand_raised", r.side, r.confidence, r.start)
               for r in raised]
        seen = set()
        for p in people:
            if p.track_id < 0:
                continue
            for side in SIDES:
                seen.add((p.track_id, side))
                score = arm_points(p, self.topology, side)
                start = self.pointing.update((p.track_id, side), score is not None, now)
                if start is not None:
                    out.append(Gesture(p.track_id, "pointing", side, score, start,
                                       ray(p, self.topology, side, self.config.floor)))
                waving = self.waving.update(p, self.topology, side, now)
                if waving is not None:
                    out.append(Gesture(p.track_id, "waving", side, *waving))
        self.pointing.prune(now)
        self.waving.forget(seen)
        return raised, sorted(out, key=lambda g: (g.track_id, g.kind, g.side))
