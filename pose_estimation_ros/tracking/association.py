"""The tracker's measurement and distance between a track's prediction and a pose."""
from __future__ import annotations

import numpy as np

from ..core.results import Person


def scale_of(box: np.ndarray) -> float:
    """A person's size in pixels: the longer side of their box."""
    return max(float(box[2] - box[0]), float(box[3] - box[1]), 1.0)


def measurement(person: Person, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """The Kalman measurement of a pose (box centre and size, then every keypoint) and which
    of its values are observed (the keypoints at or above `min_score`)."""
    b = person.bbox
    box = [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]]
    z = np.concatenate([box, person.keypoints.reshape(-1)])
    seen = np.repeat(person.keypoint_scores >= min_score, 2)
    return z, np.concatenate([np.ones(4, bool), seen])


def box_of_state(x: np.ndarray) -> np.ndarray:
    """x1 y1 x2 y2 of a Kalman state (box centre and size first)."""
    cx, cy, w, h = x[:4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


def keypoint_costs(tracks: list, measurements: list) -> tuple[np.ndarray, np.ndarray]:
    """Two [T, P] matrices between each track's prediction and each pose, over the pose's
    confident keypoints (the box centre where it has none): the mean squared Mahalanobis
    distance per keypoint (x and y together: 2 degrees of freedom), which gates, and the
    mean distance in units of the track's size, which ranks. Ranking by Mahalanobis
    distance alone would favour the least certain track (the fastest mover)."""
    x = np.array([t.kalman.x for t in tracks])[:, None]  # [T, 1, D]
    var = np.array([t.kalman.innovation_variance(t.scale) for t in tracks])[:, None]
    z = np.array([m[0] for m in measurements])[None]  # [1, P, D]
    seen = np.array([m[1][4::2] for m in measurements], np.float64)  # [P, K]
    scale = np.array([t.scale for t in tracks])[:, None]  # [T, 1]
    diff2 = (z - x) ** 2
    d2 = diff2 / var
    n = np.maximum(seen.sum(-1), 1)  # [P]
    maha = np.einsum("tpk,pk->tp", d2[..., 4::2] + d2[..., 5::2], seen) / n
    dist = np.einsum("tpk,pk->tp", np.sqrt(diff2[..., 4::2] + diff2[..., 5::2]), seen) / n
    none = ~seen.any(-1)  # poses without a confident keypoint: use the box centre
    if none.any():
        maha[:, none] = (d2[..., 0] + d2[..., 1])[:, none]
        dist[:, none] = np.sqrt(diff2[..., 0] + diff2[..., 1])[:, none]
    return maha, dist / scale
