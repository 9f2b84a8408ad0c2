"""Small numeric helpers shared by decoders."""
from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(−x)), element-wise; `out` (may be `x` itself) saves the allocations on hot
    paths. Callers clip logits where exp could overflow."""
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)
