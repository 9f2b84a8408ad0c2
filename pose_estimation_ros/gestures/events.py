"""A gesture of one tracked person, as every output gives it (`~/gestures`, bag, JSON lines)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("hand_raised", "pointing", "waving")


@dataclass(frozen=True)
class Ray:
    """A pointing ray: in the image (pixels) always; in the camera's optical frame (metres)
    where depth gives both of its points; where it meets the floor where that is known."""

    image_origin: np.ndarray  # [2]
    image_direction: np.ndarray  # [2] unit
    origin: np.ndarray | None = None  # [3]
    direction: np.ndarray | None = None  # [3] unit
    floor: np.ndarray | None = None  # [3]


@dataclass(frozen=True)
class Gesture:
    track_id: int
    kind: str  # one of KINDS
    side: str  # "left" or "right": the person's own arm
    confidence: float
    start: float  # stamp (seconds) of the frame it began on
    ray: Ray | None = None  # pointing only

    def to_dict(self) -> dict:
        out = {"track_id": self.track_id, "kind": self.kind, "side": self.side,
               "confidence": round(float(self.confidence), 4),
               "start": round(float(self.start), 6)}
        if self.ray is not None:
            r = self.ray
            out["ray"] = {"image_origin": _round(r.image_origin),
                          "image_direction": _round(r.image_direction),
                          "origin": _round(r.origin), "direction": _round(r.direction),
                          "floor": _round(r.floor)}
        return out


def _round(v: np.ndarray | None) -> list[float] | None:
    return None if v is None else [round(float(x), 4) for x in v]
