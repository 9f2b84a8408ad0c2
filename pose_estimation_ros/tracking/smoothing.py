"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) over numpy arrays, driven by timestamps."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    """cutoff = min_cutoff + beta * |filtered derivative|; frequencies in Hz."""

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0
    #: a gap longer than this (seconds) restarts the filter instead of smoothing across it
    max_gap: float = 1.0

    def __post_init__(self):
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0 or self.max_gap <= 0:
            raise ValueError(f"invalid One-Euro parameters {self}: cutoffs and max_gap must be "
                             "> 0 and beta >= 0")


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters an array of values (any shape) element-wise.

    The filter restarts (returns the raw value and forgets its state) on its first sample, when
    time does not advance (bag replays jump backwards) and after a gap longer than `max_gap`.
    `value_scale` multiplies the derivative only, as MediaPipe does to make the speed term
    independent of the object's size in pixels.
    """

    def __init__(self, params: OneEuroParams):
        self.params = params
        self.reset()

    def reset(self) -> None:
        self._t: float | None = None
        self._x: np.ndarray | None = None
        self._raw: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self.restarts = 0

    def __call__(self, value: np.ndarray, t: float, value_scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        p = self.params
        if (self._t is None or self._x is None or self._x.shape != value.shape
                or not t > self._t or t - self._t > p.max_gap):
            if self._t is not None:
                self.restarts += 1
            self._t, self._x, self._raw = t, value.copy(), value.copy()
            self._dx = np.zeros_like(value)
            return value.copy()
        dt = t - self._t
        derivative = (value - self._raw) * value_scale / dt
        self._dx = self._dx + _alpha(p.d_cutoff, dt) * (derivative - self._dx)
        cutoff = p.min_cutoff + p.beta * np.abs(self._dx)
        self._x = self._x + _alpha(cutoff, dt) * (value - self._x)
        self._t, self._raw = t, value.copy()
        return self._x.copy()
