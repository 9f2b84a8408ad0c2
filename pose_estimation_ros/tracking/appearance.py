"""What a person looks like, from their own keypoints: the colours of their clothing per body
part (torso, upper arms, upper legs, lower legs), for re-identification (`tracking.reid`).

Each part is a region laid over the person's keypoints (the torso's quadrilateral shrunk to its
middle, a band along each limb segment), sampled from the image at a fixed resolution. Its
pixels go into one histogram: hue × saturation for coloured pixels, and brightness bins for
grey ones (low saturation or dark), the brightness divided by the person's own bright
pixels (their 90th percentile), so that a whole person lit more or less keeps their
signature. Two signatures are compared part by part (the Hellinger distance of the
histograms, weighted by the smaller pixel count) over the parts both have.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..core.results import CONFIDENT, Person
from ..core.topology import Topology

HUE_BINS, SAT_BINS, GREY_BINS = 12, 3, 4
BINS = HUE_BINS * SAT_BINS + GREY_BINS
#: a pixel is grey below this saturation or this brightness (0–1), where hue means little
GREY_SATURATION, DARK = 0.25, 0.2
#: parts as (name, keypoint pairs): a limb is the band along each segment of its pairs
PARTS = (("torso", ()), ("upper_arms", (("left_shoulder", "left_elbow"),
                                        ("right_shoulder", "right_elbow"))),
         ("upper_legs", (("left_hip", "left_knee"), ("right_hip", "right_knee"))),
         ("lower_legs", (("left_knee", "left_ankle"), ("right_knee", "right_ankle"))))
TORSO = ("left_shoulder", "right_shoulder", "right_hip", "left_hip")
#: pixels a part needs to count
MIN_PIXELS = 40
#: the person is sampled at this height (pixels), whatever their size in the image
SAMPLE_HEIGHT = 96


@dataclass
class Signature:
    """Per part: an L1-normalised histogram and how many pixels it has seen (capped)."""

    parts: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    observations: int = 0

    def update(self, other: Signature, cap: float = 20.0) -> None:
        """Fold a new observation in: a running mean over the last ~`cap` observations."""
        for name, hist in other.parts.items():
            n = min(self.weights.get(name, 0.0), cap - 1.0)
            old = self.parts.get(name)
            self.parts[name] = hist if old is None else (old * n + hist) / (n + 1.0)
            self.weights[name] = n + 1.0
        self.observations += 1

    def distance(self, other: Signature) -> float | None:
        """Mean Hellinger distance (0 same, 1 disjoint) over the parts both have, the torso
        counted twice; None when they share no part."""
        total = weight = 0.0
        for name, hist in self.parts.items():
            if name not in other.parts:
                continue
            bc = float(np.sum(np.sqrt(hist * other.parts[name])))
            w = 2.0 if name == "torso" else 1.0
            total += w * np.sqrt(max(0.0, 1.0 - bc))
            weight += w
        return total / weight if weight else None


def _index(topology: Topology) -> dict[str, int]:
    return {n: i for i, n in enumerate(topology.keypoints)}


def signature(image: np.ndarray, person: Person, topology: Topology,
              min_score: float = CONFIDENT) -> Signature:
    """The person's part colours in this image (parts whose keypoints are confident)."""
    names = _index(topology)
    x1, y1, x2, y2 = person.bbox
    height = max(y2 - y1, 1.0)
    scale = SAMPLE_HEIGHT / height
    h, w = image.shape[:2]
    left, top = int(max(0, np.floor(x1))), int(max(0, np.floor(y1)))
    right, bottom = int(min(w, np.ceil(x2))), int(min(h, np.ceil(y2)))
    out = Signature()
    if right - left < 2 or bottom - top < 2:
        return out
    size = (max(2, round((right - left) * scale)), max(2, round((bottom - top) * scale)))
    crop = cv2.resize(image[top:bottom, left:right], size, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV_FULL).reshape(-1, 3).astype(np.float32) / 255.0
    bins = _bins(hsv)
    kps = (person.keypoints - (left, top)) * scale
    sure = person.keypoint_scores >= min_score
    for name, segments in PARTS:
        polygons = _torso(kps, sure, names) if name == "torso" else \
            [p for a, b in segments if (p := _band(kps, sure, names, a, b)) is not None]
        if not polygons:
            continue
        mask = np.zeros(crop.shape[:2], np.uint8)
        for polygon in polygons:
            cv2.fillConvexPoly(mask, np.round(polygon).astype(np.int32), 1)
        chosen = bins[mask.reshape(-1) > 0]
        if len(chosen) >= MIN_PIXELS:
            hist = np.bincount(chosen, minlength=BINS).astype(np.float64)
            out.parts[name] = hist / hist.sum()
            out.weights[name] = 1.0
    out.observations = 1 if out.parts else 0
    return out


def _bins(hsv: np.ndarray) -> np.ndarray:
    """The histogram bin of every pixel (H, S, V in 0–1)."""
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    bright = max(float(np.percentile(val, 90)), 1e-3)
    grey = (sat < GREY_SATURATION) | (val < DARK)
    colour = (np.minimum((hue * HUE_BINS).astype(np.int64), HUE_BINS - 1) * SAT_BINS
              + np.minimum(((sat - GREY_SATURATION) / (1 - GREY_SATURATION) * SAT_BINS)
                           .astype(np.int64), SAT_BINS - 1))
    level = np.minimum((np.clip(val / bright, 0, 1) * GREY_BINS).astype(np.int64), GREY_BINS - 1)
    return np.where(grey, HUE_BINS * SAT_BINS + level, np.clip(colour, 0, HUE_BINS * SAT_BINS - 1))


def _torso(kps, sure, names) -> list[np.ndarray]:
    if not all(n in names and sure[names[n]] for n in TORSO):
        return []
    quad = kps[[names[n] for n in TORSO]]
    centre = quad.mean(axis=0)
    return [centre + 0.7 * (quad - centre)]  # the middle, away from arms and background


def _band(kps, sure, names, a: str, b: str) -> np.ndarray | None:
    """A band along the segment a→b from 20 % to 80 % of its length, a fifth as wide."""
    if a not in names or b not in names or not (sure[names[a]] and sure[names[b]]):
        return None
    p, q = kps[names[a]], kps[names[b]]
    d = q - p
    length = float(np.hypot(*d))
    if length < 4.0:
        return None
    normal = np.array([-d[1], d[0]]) / length * (0.1 * length)
    s, e = p + 0.2 * d, p + 0.8 * d
    return np.stack([s - normal, s + normal, e + normal, e - normal])
