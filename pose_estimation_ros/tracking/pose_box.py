"""The next frame's crop box of a tracked person, from their keypoints.

A box from the confident keypoints alone shrinks when the legs stop being confident: the
next crop cuts them off, the pose loses them for good and the box shrinks again until the
pose is unsure and the detector has to step in. MoveNet's own cropping (the TF Hub tutorial's
crop region: 1.9 × the torso's reach from the hips, 1.2 × the body's) sizes the crop from the
torso instead, which stays put. Here that floor applies only while neither ankle is confident:
a whole visible body keeps its tight box, so two people side by side (the hug clip) are not
cropped wider than their keypoints. README "Tracking layer" has the figures.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.results import bbox_of_keypoints
from ..core.topology import Topology


@dataclass(frozen=True)
class BodyParts:
    """Where a topology keeps the joints the box rule looks at."""

    shoulders: np.ndarray
    hips: np.ndarray
    ankles: np.ndarray

    @classmethod
    def of(cls, topology: Topology) -> BodyParts | None:
        """Through the topology's COCO-17 map; None where it lacks one of these joints."""
        if topology.to_coco17 is None:
            return None
        parts = [np.array([topology.to_coco17[i] for i in pair])
                 for pair in ((5, 6), (11, 12), (15, 16))]
        if any((p < 0).any() for p in parts):
            return None
        return cls(*parts)


def pose_box(points: np.ndarray, good: np.ndarray, scale: float, torso_reach: float,
             parts: BodyParts | None) -> np.ndarray:
    """x1 y1 x2 y2 around the `good` [K] keypoints of [K,2] `points`, scaled by `scale`; while no
    ankle is good, widened to reach `torso_reach` × the torso's extent (per axis, from the hip
    centre to the good shoulders and hips) on each side of the hips (0 = never)."""
    box = bbox_of_keypoints(points, good.astype(np.float32), 0.5, scale)
    if torso_reach <= 0 or parts is None or good[parts.ankles].any():
        return box
    shoulders, hips = parts.shoulders[good[parts.shoulders]], parts.hips[good[parts.hips]]
    if not len(shoulders) or not len(hips):
        return box
    centre = points[hips].mean(axis=0)
    reach = np.abs(points[np.concatenate([shoulders, hips])] - centre).max(axis=0) * torso_reach
    return np.concatenate([np.minimum(box[:2], centre - reach),
                           np.maximum(box[2:], centre + reach)]).astype(np.float32)


def plausible(good: np.ndarray, parts: BodyParts | None) -> bool:
    """A body, not a thing the detector took for one (a basketball hoop): at least half of
    the keypoints confident (`good`), a shoulder and a hip among them (a torso)."""
    if good.sum() < np.ceil(len(good) / 2):
        return False
    return parts is None or bool(good[parts.shoulders].any() and good[parts.hips].any())
