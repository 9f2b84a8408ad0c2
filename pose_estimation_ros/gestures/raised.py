"""`hand_raised`: a wrist raised to the head or above, held.

A hand is up on a frame when a wrist is confident and above (in the image: a smaller y than)
the nose, also confident (MPII's topology, which has no nose: its upper neck). Above the nose
rather than the eyes: a hand raised to be seen, or raised to point up, holds the wrist at eye
level while the hand is above the head (the RealSense recording's seated person: wrist at
197–205 px, eyes 199–204, nose 205–211). It is a gesture once it has stayed up for `hold`
seconds; a dip of at most `gap` seconds (a keypoint that flickers for a frame) does not
restart the count. The same rule serves the follow target's `gesture` policy and the
`hand_raised` gesture of `~/gestures`.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.results import CONFIDENT, Person
from ..core.topology import Topology
from .hold import Hold

#: the head point a raised wrist is above: the first the topology has
HEAD = ("nose", "upper_neck")
SIDES = ("left", "right")


@dataclass(frozen=True)
class RaisedHand:
    track_id: int
    side: str  # "left" or "right": the person's own
    start: float  # stamp the hand went up
    confidence: float  # the wrist's score


def hand_up(person: Person, topology: Topology, side: str,
            min_score: float = CONFIDENT) -> float | None:
    """The wrist's score when that wrist is above the head in this frame, else None."""
    names = {n: i for i, n in enumerate(topology.keypoints)}
    wrist = names.get(f"{side}_wrist")
    head = next((names[n] for n in HEAD if n in names), None)
    if wrist is None or head is None:
        return None
    scores, points = person.keypoint_scores, person.keypoints
    if scores[wrist] < min_score or scores[head] < min_score:
        return None
    return float(scores[wrist]) if points[wrist, 1] < points[head, 1] else None


class RaisedHands:
    """Per track and side: since when the hand is up."""

    def __init__(self, topology: Topology, hold: float = 1.0, gap: float = 0.2):
        self.topology = topology
        self.held = Hold(hold, gap)

    @property
    def hold(self) -> float:
        return self.held.hold

    @hold.setter
    def hold(self, seconds: float) -> None:
        self.held.hold = seconds

    def reset(self) -> None:
        self.held.reset()

    def update(self, people: list[Person], now: float) -> list[RaisedHand]:
        """The hands held up for `hold` seconds in this frame."""
        out = []
        for p in people:
            if p.track_id < 0:
                continue
            for side in SIDES:
                score = hand_up(p, self.topology, side)
                start = self.held.update((p.track_id, side), score is not None, now)
                if start is not None:
                    out.append(RaisedHand(p.track_id, side, start, score))
        self.held.prune(now)
        return out
