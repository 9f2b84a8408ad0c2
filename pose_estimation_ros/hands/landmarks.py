"""MediaPipe's hand landmark model on hand regions: 21 keypoints per hand in image pixels, the
probability that a hand is there, and the region the keypoints themselves give (MediaPipe's
`HandLandmarksToRect` enlarged 2 times and moved 0.1 towards the fingers: the region its
tracking uses on the next frame, and `eval`'s second look at a hand crop)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..models.runtime import Model
from ..vision.crops import RotatedRect, crop_batch, crop_to_image, normalize_radians, to_input
from .regions import transform_rect

#: MediaPipe's `ThresholdingCalculator` on the hand flag: a hand is there from 0.5
PRESENCE = 0.5
#: the keypoints that set a hand's rotation: wrist → the mean of the index, middle and ring
#: fingers' PIP joints (`HandLandmarksToRect`)
_WRIST, _INDEX_PIP, _MIDDLE_PIP, _RING_PIP = 0, 6, 10, 14


@dataclass
class HandLandmarks:
    keypoints: np.ndarray  # [N, 21, 2] image pixels
    presence: np.ndarray  # [N]
    handedness: np.ndarray  # [N] the model's probability of a right hand (as seen)


def landmarks(model: Model, image: np.ndarray, regions: list[RotatedRect]) -> HandLandmarks:
    """The hand landmark model on every region of a BGR `image`, in one batch."""
    n = len(regions)
    if n == 0:
        return HandLandmarks(np.zeros((0, 21, 2), np.float32), np.zeros(0, np.float32),
                             np.zeros(0, np.float32))
    spec = model.spec
    w, h = spec.input_size
    out = model.run(to_input(crop_batch(image, regions, spec, "replicate"), spec))
    raw = out["landmarks"].reshape(n, 21, 3)[..., :2] / np.array([w, h], np.float32)
    points = np.stack([crop_to_image(p, r) for p, r in zip(raw, regions)])
    return HandLandmarks(points.astype(np.float32), out["presence"].reshape(n),
                         out["handedness"].reshape(n))


def keypoints_rect(points: np.ndarray) -> RotatedRect:
    """The region a hand's [21, 2] keypoints give for another look: the tight rectangle turned
    so wrist → fingers points up, enlarged 2 times, moved 0.1 towards the fingers, squared."""
    fingers = (points[_INDEX_PIP] + points[_RING_PIP]) / 2.0
    fingers = (fingers + points[_MIDDLE_PIP]) / 2.0
    dx, dy = fingers - points[_WRIST]
    angle = normalize_radians(math.pi / 2 - math.atan2(-dy, dx))
    c, s = math.cos(angle), math.sin(angle)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    local = (points - centre) @ np.array([[c, -s], [s, c]])  # rotated by −angle
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid = (lo + hi) / 2.0
    cx = centre[0] + mid[0] * c - mid[1] * s
    cy = centre[1] + mid[0] * s + mid[1] * c
    rect = RotatedRect(float(cx), float(cy), float(hi[0] - lo[0]), float(hi[1] - lo[1]),
                       angle)
    return transform_rect(rect, 2.0, -0.1)
