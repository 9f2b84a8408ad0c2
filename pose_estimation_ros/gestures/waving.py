"""`waving`: a raised hand swinging sideways, at least `CYCLES` cycles within `WINDOW` seconds.

While a wrist is raised (above its shoulder in the image), its sideways offset from its elbow
is kept for `WINDOW` seconds, in torso lengths (shoulders' midpoint to hips' midpoint; twice
the shoulder width where the hips are not seen): a forearm pointing at the camera is short in
the image, the torso is not. Each offset is the median of itself and its neighbours, so a
keypoint that jumps for one frame is not a swing. A swing is a reversal of that offset by at
least `AMPLITUDE` from the last extreme, taking at least `MIN_SWING` seconds (hysteresis:
jitter smaller than that never counts, and people wave at up to about 3 cycles a second), and
two swings are a cycle. The hand waves once `CYCLES` cycles fall within the window. Relative
to the elbow, a person walking or turning moves the wrist and the elbow together and does not
wave. The thresholds: people wave at about 2–6 swings a second with the hand travelling 20–40
cm (0.4–0.8 torso lengths); `AMPLITUDE` 0.3 is below all of that and above the sideways
jitter of a raised wrist in the basketball clip (swings of 0.2–0.3 at 5 a second while the
arm goes up for a catch), and a swing rate of 1 per second (`CYCLES` 2 in `WINDOW` 2 s) is
slower than any wave. A raised hand held still, or moved once (pointing, a shot at a basket,
scratching the head), reverses at most once.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..core.results import CONFIDENT, Person
from ..core.topology import Topology

WINDOW = 2.0
CYCLES = 2
AMPLITUDE = 0.3
MIN_SWING = 0.15
#: a raised hand not seen for longer than this starts a new history
GAP = 0.3


def _scale(person: Person, n: dict[str, int]) -> float | None:
    """The person's torso length in pixels (see the module docstring), None where unknown."""
    def seen(name: str) -> bool:
        return name in n and person.keypoint_scores[n[name]] >= CONFIDENT

    def at(name: str) -> np.ndarray:
        return person.keypoints[n[name]].astype(np.float64)

    if not (seen("left_shoulder") and seen("right_shoulder")):
        return None
    shoulders = (at("left_shoulder") + at("right_shoulder")) / 2
    if seen("left_hip") and seen("right_hip"):
        length = np.linalg.norm((at("left_hip") + at("right_hip")) / 2 - shoulders)
    else:
        length = 2.0 * np.linalg.norm(at("left_shoulder") - at("right_shoulder"))
    return float(length) if length >= 1.0 else None


def swing_position(person: Person, topology: Topology, side: str) -> float | None:
    """The wrist's sideways offset from the elbow in torso lengths while the hand is raised
    (wrist above the shoulder), else None."""
    n = {k: i for i, k in enumerate(topology.keypoints)}
    joints = [n.get(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist")]
    if None in joints or min(person.keypoint_scores[joints]) < CONFIDENT:
        return None
    s, e, w = (person.keypoints[j].astype(np.float64) for j in joints)
    scale = _scale(person, n)
    if w[1] >= s[1] or scale is None:
        return None
    return float(w[0] - e[0]) / scale


def _median3(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
    xs = [x for _, x in samples]
    return [(t, float(np.median(xs[max(0, i - 1):i + 2]))) for i, (t, _) in enumerate(samples)]


def swings(samples) -> tuple[int, float | None]:
    """(swings of at least AMPLITUDE over at least MIN_SWING, stamp of the first one's start)
    of (t, x) samples."""
    count, first, direction = 0, None, 0
    extreme_t = extreme_x = None
    for t, x in _median3(list(samples)):
        if extreme_x is None:
            extreme_t, extreme_x = t, x
            continue
        moved = x - extreme_x
        if direction != 0 and moved * direction > 0:  # further the same way: a new extreme
            extreme_t, extreme_x = t, x
        elif abs(moved) >= AMPLITUDE and t - extreme_t >= MIN_SWING:  # a swing
            if direction == 0:
                first = extreme_t
            count += 1
            direction = 1 if moved > 0 else -1
            extreme_t, extreme_x = t, x
    return count, first


class Waving:
    """Per track and side: the raised wrist's recent sideways offsets."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[tuple[int, str], deque] = {}

    def update(self, person: Person, topology: Topology, side: str,
               now: float) -> tuple[float, float] | None:
        """(confidence, start) when this hand waves on this frame, else None. The
        confidence grows with the swings: 4 give 0.67, 6 or more 1."""
        key = (person.track_id, side)
        x = swing_position(person, topology, side)
        history = self._tracks.setdefault(key, deque())
        if history and not 0 <= now - history[-1][0] <= GAP:
            history.clear()  # a break, or time going back
        if x is None:
            return None
        history.append((now, x))
        while now - history[0][0] > WINDOW:
            history.popleft()
        count, first = swings(history)
        if count < 2 * CYCLES or first is None:
            return None
        return min(1.0, count / (2 * CYCLES + 2)), first

    def forget(self, keep: set) -> None:
        """Drop the histories of hands not in `keep` ((track id, side))."""
        self._tracks = {k: v for k, v in self._tracks.items() if k in keep}
