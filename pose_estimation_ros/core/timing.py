"""Per-stage wall-clock timing for results and benchmarks."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import numpy as np


class StageTimer:
    """Accumulates milliseconds per named stage for one frame."""

    def __init__(self):
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - start) * 1000.0)

    def add(self, name: str, ms: float) -> None:
        self.ms[name] = self.ms.get(name, 0.0) + ms


def model_ms(timings: dict[str, float]) -> float:
    """Time spent inside ONNX Runtime: the sum of the "model:*" stages."""
    return sum(v for k, v in timings.items() if k.startswith("model:"))


def median_table(per_frame: list[dict[str, float]]) -> dict[str, float]:
    """Median of each stage over the frames it appeared in, the stages in the order they
    first ran (the pipeline's order: decode, preprocess, each model, postprocess, …)."""
    names = list(dict.fromkeys(k for t in per_frame for k in t))
    return {k: float(np.median([t[k] for t in per_frame if k in t])) for k in names}
