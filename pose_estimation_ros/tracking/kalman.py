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
    """Standard deviations as fractions of the person's size (the box's longer side).

    Position and measurement noise are DeepSORT's 1/20 of the box height; velocity noise is
    twice its 1/160, since single joints (a wrist) accelerate more than a whole box. The
    initial covariance follows DeepSORT too: 2 × the measurement noise for positions and
    10 × the velocity noise for velocities (see `PoseKalman.__init__`)."""

    position_noise: float = 0.05
    velocity_noise: float = 0.0125
    measurement_noise: float = 0.05


class PoseKalman:
    """State: z = [cx, cy, w, h, x0, y0, x1, y1, ...] and its velocity; each coordinate's
    symmetric 2×2 covariance is kept as three vectors (p00, p01, p11)."""

    def __init__(self, measurement: np.ndarray, scale: float, params: KalmanParams):
        self.params = params
        self.x = np.asarray(measurement, np.float64).copy()
        self.v = np.zeros_like(self.x)
        s = max(scale, 1.0)
        self.p00 = np.full_like(self.x, (2 * params.measurement_noise * s) ** 2)
        self.p01 = np.zeros_like(self.x)
        self.p11 = np.full_like(self.x, (10 * params.velocity_noise * s) ** 2)

    def predict(self, scale: float) -> np.ndarray:
        """Advance one frame; returns the predicted measurement."""
        s = max(scale, 1.0)
        self.x = self.x + self.v
        # P ← F P Fᵀ + Q with F = [[1, 1], [0, 1]]
        self.p00 += 2 * self.p01 + self.p11 + (self.params.position_noise * s) ** 2
        self.p01 += self.p11
        self.p11 += (self.params.velocity_noise * s) ** 2
        return self.x.copy()

    def innovation_variance(self, scale: float) -> np.ndarray:
        return self.p00 + (self.params.measurement_noise * max(scale, 1.0)) ** 2

    def update(self, measurement: np.ndarray, observed: np.ndarray, scale: float) -> None:
        """Correct the coordinates marked `observed` with `measurement`."""
        S = self.innovation_variance(scale)
        k0 = np.where(observed, self.p00 / S, 0.0)
        k1 = np.where(observed, self.p01 / S, 0.0)
        y = np.where(observed, np.asarray(measurement, np.float64) - self.x, 0.0)
        self.x = self.x + k0 * y
        self.v = self.v + k1 * y
        # P ← (I − K H) P with H = [1, 0]; the result stays symmetric
        self.p11 = self.p11 - k1 * self.p01
        self.p01 = (1 - k0) * self.p01
        self.p00 = (1 - k0) * self.p00
