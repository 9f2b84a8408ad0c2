"""Skeleton topologies as data: keypoint names, edges, OKS sigmas and maps between them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Topology:
    name: str
    keypoints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    #: COCO OKS per-keypoint sigmas, or None where the dataset defines none.
    sigmas: tuple[float, ...] | None = None
    #: index in this topology of each COCO-17 keypoint, -1 where it has none.
    to_coco17: tuple[int, ...] | None = None

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)


COCO17 = Topology(
    name="coco17",
    keypoints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    edges=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
        (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    # COCO keypoint evaluation sigmas (cocodataset.org, keypoints evaluation).
    sigmas=(
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
        0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    ),
    to_coco17=tuple(range(17)),
)

BLAZEPOSE33 = Topology(
    name="blazepose33",
    keypoints=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer",
        "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
        "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
        "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    edges=(
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
        (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
        (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
        (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
        (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
    ),
    to_coco17=(0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28),
)

MPII16 = Topology(
    name="mpii16",
    keypoints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "pelvis", "thorax", "upper_neck", "head_top", "right_wrist", "right_elbow",
        "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    ),
    edges=(
        (0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
        (10, 11), (11, 12), (12, 7), (7, 13), (13, 14), (14, 15),
    ),
    # MPII has no face joints: only COCO's limb joints (5–16) have a counterpart.
    to_coco17=(-1, -1, -1, -1, -1, 13, 12, 14, 11, 15, 10, 3, 2, 4, 1, 5, 0),
)

_FINGERS = ("thumb", "index_finger", "middle_finger", "ring_finger", "pinky")
#: MediaPipe's 21 hand landmarks (the order of its hand landmark model and of the hand
#: keypoint datasets: the wrist, then each finger from base to tip, thumb to little finger)
HAND21 = Topology(
    name="hand21",
    keypoints=("wrist", *(f"{finger}_{joint}" for finger, joints in zip(
        _FINGERS, [("cmc", "mcp", "ip", "tip")] + [("mcp", "pip", "dip", "tip")] * 4)
        for joint in joints)),
    edges=tuple((0 if j == 0 else 1 + 4 * f + j - 1, 1 + 4 * f + j)
                for f in range(5) for j in range(4)) + ((5, 9), (9, 13), (13, 17)),
)

TOPOLOGIES = {t.name: t for t in (COCO17, BLAZEPOSE33, MPII16, HAND21)}


def get_topology(name: str) -> Topology:
    try:
        return TOPOLOGIES[name]
    except KeyError:
        raise KeyError(f"unknown topology {name!r}; known: {sorted(TOPOLOGIES)}") from None


def to_coco17(topology: Topology, keypoints: np.ndarray, scores: np.ndarray):
    """Map [K,2] keypoints and [K] scores of `topology` to COCO-17; missing joints score 0."""
    if topology.to_coco17 is None:
        raise ValueError(f"topology {topology.name!r} has no map to COCO-17")
    idx = np.asarray(topology.to_coco17)
    have = idx >= 0
    kps = np.zeros((17, 2), np.float32)
    scs = np.zeros(17, np.float32)
    kps[have] = keypoints[idx[have]]
    scs[have] = scores[idx[have]]
    return kps, scs, have
