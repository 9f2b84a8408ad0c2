"""Where a person's hands are, from the body keypoints: one region per wrist.

MediaPipe Holistic's rule (`HandLandmarksFromPoseToRecropRoi`, mediapipe 0.10.14): from the
wrist and a point on the knuckles, the region is centred on that point, 2·|knuckles − wrist|
across, turned so the wrist-to-knuckles direction points up, then moved by 0.1 of its size
towards the wrist, squared to its long side and enlarged 2.7 times: a search region for the
recrop model (`recrop.py`), which finds the hand in it.

The knuckle point: BlazePose has the hand's index and pinky knuckles (its `*_index`,
`*_pinky`): (2·index + pinky) / 3, MediaPipe's estimate of the middle finger's. COCO-17 and
MPII have only elbow and wrist: the point is put on the forearm's line 0.35 forearm lengths
beyond the wrist (a hand is about 0.7 forearms from wrist to fingertips, its knuckles about
half-way), so the same rule gives a region about 1.9 forearm lengths across.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.results import Person
from ..core.topology import Topology
from ..vision.crops import RotatedRect, normalize_radians

SIDES = ("left", "right")
#: the recrop model's search region, in units of the knuckle rectangle (MediaPipe's 2.7)
SEARCH_SCALE = 2.7
#: the knuckle point's distance beyond the wrist, in forearm lengths (COCO-17, MPII)
KNUCKLES_PER_FOREARM = 0.35
#: the wrist (and elbow) score from which a hand is looked for: below the body's confident
#: score, as the hand model then looks for itself (the whole-body photos' small people have
#: wrists at 0.26–0.36; MediaPipe Holistic looks from a wrist visibility of 0.1)
WRIST_SCORE = 0.2


@dataclass(frozen=True)
class HandRegion:
    """Where to look for one hand: `rect` in image pixels, for the person at `index`."""

    index: int  # the person's position in the frame's people
    side: str
    rect: RotatedRect


def transform_rect(rect: RotatedRect, scale: float, shift_y: float) -> RotatedRect:
    """MediaPipe's RectTransformation: moved by `shift_y` of its height along its own y axis,
    squared to its long side, scaled."""
    c, s = math.cos(rect.angle), math.sin(rect.angle)
    cx = rect.cx - rect.height * shift_y * s
    cy = rect.cy + rect.height * shift_y * c
    side = max(rect.width, rect.height) * scale
    return RotatedRect(cx, cy, side, side, rect.angle)


def points_rect(start: np.ndarray, end: np.ndarray, target_angle: float) -> RotatedRect:
    """A square centred on `start`, 2·|end − start| across, turned so start → end points at
    `target_angle` (MediaPipe's detections-to-rects with two alignment points)."""
    dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
    size = 2.0 * math.hypot(dx, dy)
    angle = normalize_radians(target_angle - math.atan2(-dy, dx))
    return RotatedRect(float(start[0]), float(start[1]), size, size, angle)


def knuckles(person: Person, topology: Topology,
             side: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(wrist, knuckle point) of one hand, None where the body model did not see the wrist."""
    names = {n: i for i, n in enumerate(topology.keypoints)}
    wrist = names.get(f"{side}_wrist")
    if wrist is None or person.keypoint_scores[wrist] < WRIST_SCORE:
        return None
    w = person.keypoints[wrist].astype(np.float64)
    index, pinky = names.get(f"{side}_index"), names.get(f"{side}_pinky")
    if index is not None and pinky is not None:
        return w, (2.0 * person.keypoints[index] + person.keypoints[pinky]) / 3.0
    elbow = names.get(f"{side}_elbow")
    if elbow is None or person.keypoint_scores[elbow] < WRIST_SCORE:
        return None
    forearm = w - person.keypoints[elbow]
    return w, w + KNUCKLES_PER_FOREARM * forearm


def search_region(wrist: np.ndarray, knuckle: np.ndarray) -> RotatedRect:
    """The recrop model's search region for a hand (MediaPipe Holistic's rule, above)."""
    dx, dy = float(knuckle[0] - wrist[0]), float(knuckle[1] - wrist[1])
    size = 2.0 * math.hypot(dx, dy)
    angle = normalize_radians(math.pi / 2 - math.atan2(-dy, dx))
    rect = RotatedRect(float(knuckle[0]), float(knuckle[1]), size, size, angle)
    return transform_rect(rect, SEARCH_SCALE, -0.1)
