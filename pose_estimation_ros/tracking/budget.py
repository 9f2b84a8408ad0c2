"""The per-frame pose budget: which of a frame's planned crops the pose head runs on when more
people need one than `max_crops_per_frame` allows.

A top-down pipeline pays one crop per person, so its rate falls with the crowd. With a budget
every frame crops, whatever the budget,
1. the follow target (the robot needs its keypoints on every frame);
2. people the tracker does not know yet (a detection no track claims: without a crop nobody
   would ever see them);
3. people due: skipping them now would leave them unrefreshed for `max_refresh_interval`
   frames;
and spends what is left of the budget on the others by how far their Kalman prediction may
have drifted: tentative tracks and tracks back from missing first, then (frames since
refreshed + 1) × (speed + `DRIFT_FLOOR`), speed in person sizes per frame, so a fast mover and
someone long unrefreshed come first; ties go to the larger box (usually the nearer person),
then the lower track id. The budget is thus a bound on the steady state (the target plus one
person in `max_refresh_interval` are always cropped), exceeded on the frames people enter.

Everything is a function of the tracker's state, so a bag processed twice gives the same crops.
People not cropped are reported with their predicted keypoints, state `predicted`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.results import TrackState
from .box_plan import BoxPlan

#: person sizes per frame a still person's prediction is assumed to drift
DRIFT_FLOOR = 0.01


@dataclass(frozen=True)
class Candidate:
    """What the budget knows of one planned crop."""

    track_id: int  # -1: a new detection
    area: float
    target: bool = False
    due: bool = False
    new: bool = False
    skipped: int = 0  # frames since the track was last refreshed
    speed: float = 0.0  # person sizes per frame (Kalman)

    @property
    def drift(self) -> float:
        return (self.skipped + 1) * (self.speed + DRIFT_FLOOR)

    @property
    def must(self) -> bool:
        return self.target or self.due or self.track_id < 0

    def key(self) -> tuple:
        rank = 0 if self.target else 1 if self.track_id < 0 else 2 if self.due else 3
        return (rank, not self.new, -self.drift, -self.area, self.track_id)


def candidates(plan: BoxPlan, tracks: dict, target_id: int, interval: int) -> list[Candidate]:
    """What the budget knows of each planned crop; `tracks` the tracker's by id."""
    out = []
    for box, tid in zip(plan.boxes, plan.track_ids):
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        track = tracks.get(int(tid))
        if track is None:
            out.append(Candidate(-1, area, new=True))
            continue
        out.append(Candidate(track.id, area, target=track.id == target_id,
                             due=track.skipped + 1 >= interval,
                             new=track.missed > 0 or track.state is TrackState.TENTATIVE,
                             skipped=track.skipped,
                             speed=float(np.hypot(*track.kalman.v[:2])) / track.scale))
    return out


def choose(candidates: list[Candidate], budget: int) -> list[int]:
    """The indices of the crops to run, in plan order: the ones a frame must crop, then the
    best by `Candidate.key` up to `budget` (0: all)."""
    if budget <= 0 or len(candidates) <= budget:
        return list(range(len(candidates)))
    order = sorted(range(len(candidates)), key=lambda i: candidates[i].key())
    must = [i for i in order if candidates[i].must]
    rest = [i for i in order if not candidates[i].must]
    return sorted(must + rest[:max(budget - len(must), 0)])


def split(plan: BoxPlan, kept: list[int]) -> tuple[BoxPlan, BoxPlan]:
    """The plan of the kept crops and the plan of the others."""
    keep = np.zeros(len(plan), bool)
    keep[kept] = True

    def part(mask: np.ndarray) -> BoxPlan:
        return replace(plan, boxes=plan.boxes[mask], scores=plan.scores[mask],
                       track_ids=plan.track_ids[mask],
                       sources=tuple(s for s, m in zip(plan.sources, mask) if m))
    return part(keep), part(~keep)
