"""Per-frame result types shared by every pipeline, the tracker and the ROS message layer."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .topology import Topology

#: a keypoint at or above this score is confident: it is drawn, matched and filtered by the
#: tracker, given a 3D position and counted in the jitter statistic (one value for all)
CONFIDENT = 0.3


class TrackState(str, Enum):
    """A person's track state; `msg_value` is the PersonPose.TRACK_STATE_* constant. LOST is
    the tracker's own: a lost track is never reported."""

    UNTRACKED = ""
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    PREDICTED = "predicted"
    LOST = "lost"

    @property
    def msg_value(self) -> int:
        return {"": 0, "tentative": 1, "confirmed": 2, "predicted": 3}.get(self.value, 0)

    def __str__(self) -> str:
        return self.value


@dataclass
class Hand:
    """One hand of a person, 21 keypoints in the `hand21` topology. Its side comes from the
    body (the wrist it was found at), not from the image."""

    side: str  # "left" or "right": the person's own
    keypoints: np.ndarray  # [21, 2] pixels of the input image
    #: probability that a hand is in the region (the landmark model's hand flag)
    presence: float
    #: [21, 3] metres in the camera's optical frame from aligned depth, NaN where unknown
    positions: np.ndarray | None = None

    def to_dict(self) -> dict:
        out = {"side": self.side, "presence": round(float(self.presence), 4),
               "keypoints": [[round(float(x), 2), round(float(y), 2)]
                             for x, y in self.keypoints]}
        if self.positions is not None:
            out["positions"] = [None if not np.all(np.isfinite(p)) else
                                [round(float(v), 4) for v in p] for p in self.positions]
        return out


@dataclass
class Person:
    """One detected person. All coordinates are pixels of the input image."""

    bbox: np.ndarray  # [4] x1, y1, x2, y2
    score: float
    keypoints: np.ndarray  # [K, 2] x, y
    keypoint_scores: np.ndarray  # [K] in [0, 1]
    #: [K] visibility probability, NaN where the model has none.
    visibility: np.ndarray | None = None
    #: [K] probability that the keypoint is inside the image (BlazePose), where given.
    presence: np.ndarray | None = None
    #: [K, 3] metric landmarks (metres, hip-centred) where the model gives them.
    world_keypoints: np.ndarray | None = None
    track_id: int = -1
    track_state: TrackState = TrackState.UNTRACKED
    segmentation: np.ndarray | None = None  # [H, W] float32 probability, image sized
    #: [K, 3] metres in the camera's optical frame from aligned depth, NaN where unknown
    positions: np.ndarray | None = None
    #: [3] the person's robust 3D centre (torso), None where unknown
    position: np.ndarray | None = None
    #: the hands found (`hands` on): left first, each at most once
    hands: list[Hand] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {
            "bbox": [round(float(v), 2) for v in self.bbox],
            "score": round(float(self.score), 4),
            "keypoints": [[round(float(x), 2), round(float(y), 2)] for x, y in self.keypoints],
            "keypoint_scores": [round(float(s), 4) for s in self.keypoint_scores],
            "track_id": int(self.track_id),
        }
        if self.track_state is not TrackState.UNTRACKED:
            out["track_state"] = self.track_state.value
        if self.visibility is not None:
            out["visibility"] = [None if np.isnan(v) else round(float(v), 4)
                                 for v in self.visibility]
        if self.presence is not None:
            out["presence"] = [round(float(v), 4) for v in self.presence]
        if self.world_keypoints is not None:
            out["world_keypoints"] = np.round(self.world_keypoints, 4).tolist()
        if self.positions is not None:  # 3D from depth: null where unknown
            out["positions"] = [None if not np.all(np.isfinite(p)) else
                                [round(float(v), 4) for v in p] for p in self.positions]
            out["position"] = None if self.position is None else \
                [round(float(v), 4) for v in self.position]
        if self.hands:
            out["hands"] = [h.to_dict() for h in self.hands]
        return out


@dataclass
class FrameResult:
    """Everything one pipeline found in one frame."""

    stamp: float  # seconds
    image_size: tuple[int, int]  # (width, height)
    topology: Topology
    people: list[Person] = field(default_factory=list)
    #: milliseconds per stage, e.g. {"preprocess": 0.4, "model:blazepose-landmark-full": 9.7}
    timings: dict[str, float] = field(default_factory=dict)
    #: the tracker's confirmed tracks after this frame, also those briefly missing (predicted);
    #: None without tracking
    tracked: list[int] | None = None
    #: hands looked for and not given, by reason (`hands.stage.SKIPS`); empty with hands off
    hands_skipped: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "stamp": self.stamp,
            "image_size": list(self.image_size),
            "topology": self.topology.name,
            "people": [p.to_dict() for p in self.people],
            "timings_ms": {k: round(v, 3) for k, v in self.timings.items()},
            **({"hands_skipped": dict(self.hands_skipped)} if self.hands_skipped else {}),
        }


def bbox_of_keypoints(keypoints: np.ndarray, scores: np.ndarray, min_score: float = 0.0,
                      scale: float = 1.0) -> np.ndarray:
    """Tight (optionally scaled about its centre) box around the keypoints above `min_score`."""
    pts = keypoints[scores > min_score] if np.any(scores > min_score) else keypoints
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * scale
    return np.concatenate([centre - half, centre + half]).astype(np.float32)
