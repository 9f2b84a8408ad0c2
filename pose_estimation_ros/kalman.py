"""Constant-velocity Kalman filter over a track's box and keypoints.

Every coordinate (box centre, box size, each keypoint's x and y) has its own position and
velocity with a 2×2 covariance; coordinates are independent, so the filter is a vectorised set
of small filters. Noise scales with the person's size (as in SORT/DeepSORT), so the same
settings work near and far from the camera. Time advances in frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KalmanParams:
    #: standard deviations as fractions of the person's size (the box's longer side)
    position_noise: float = 0.05
    velocity_noise: float = 0.0125
    measurement_noise: float = 0.05


class PoseKalman:
    """State: z = [cx, cy, w, h, x0, y0, x1, y1, ...] and its velocity."""

    def __init__(self, measurement: np.ndarray, scale: float, params: KalmanParams):
        self.params = params
        self.x = np.asarray(measurement, np.float64).copy()
        self.v = np.zeros_like(self.x)
        s = max(scale, 1.0)
        p0, v0 = (2 * params.measurement_noise * s) ** 2, (10 * params.velocity_noise * s) ** 2
        self.P = np.zeros((len(self.x), 2, 2))
        self.P[:, 0, 0], self.P[:, 1, 1] = p0, v0

    def predict(self, scale: float) -> np.ndarray:
        """Advance one frame; returns the predicted measurement."""
        s = max(scale, 1.0)
        self.x = self.x + self.v
        P = self.P
        p00 = P[:, 0, 0] + 2 * P[:, 0, 1] + P[:, 1, 1]
        p01 = P[:, 0, 1] + P[:, 1, 1]
        P[:, 0, 0] = p00 + (self.params.position_noise * s) ** 2
        P[:, 0, 1] = P[:, 1, 0] = p01
        P[:, 1, 1] += (self.params.velocity_noise * s) ** 2
        return self.x.copy()

    def innovation_variance(self, scale: float) -> np.ndarray:
        return self.P[:, 0, 0] + (self.params.measurement_noise * max(scale, 1.0)) ** 2

    def update(self, measurement: np.ndarray, observed: np.ndarray, scale: float) -> None:
        """Correct the coordinates marked `observed` with `measurement`."""
        z = np.asarray(measurement, np.float64)
        S = self.innovation_variance(scale)
        k0, k1 = self.P[:, 0, 0] / S, self.P[:, 1, 0] / S
        y = np.where(observed, z - self.x, 0.0)
        k0, k1 = np.where(observed, k0, 0.0), np.where(observed, k1, 0.0)
        self.x = self.x + k0 * y
        self.v = self.v + k1 * y
        P = self.P.copy()
        self.P[:, 0, 0] = (1 - k0) * P[:, 0, 0]
        self.P[:, 0, 1] = (1 - k0) * P[:, 0, 1]
        self.P[:, 1, 0] = P[:, 1, 0] - k1 * P[:, 0, 0]
        self.P[:, 1, 1] = P[:, 1, 1] - k1 * P[:, 0, 1]
