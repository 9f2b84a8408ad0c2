"""One frame's crop boxes as the tracker plans them (`Tracker.plan`, `with_detections`)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass
class BoxPlan:
    """One frame's crop boxes in priority order: [M,4] x1 y1 x2 y2, [M] scores, [M] the track
    each belongs to (-1: a new detection) and where it came from ("pose": the track's
    keypoints, "detection"); `predicted` holds the missing tracks' Kalman boxes and ids, which
    only a detection can turn into a crop."""

    boxes: np.ndarray
    scores: np.ndarray
    track_ids: np.ndarray
    sources: tuple[str, ...]
    detect: bool = False
    reason: str = ""
    predicted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: tracks the pose budget left out of this frame (`Tracker.spend`): reported predicted
    skipped: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.boxes)


def take(plan: BoxPlan, limit: int | None) -> BoxPlan:
    """The first `limit` boxes (all where None)."""
    if limit is None or len(plan) <= limit:
        return plan
    return replace(plan, boxes=plan.boxes[:limit], scores=plan.scores[:limit],
                   track_ids=plan.track_ids[:limit], sources=plan.sources[:limit])
