"""`pointing`: an arm lifted away from the body and extended, held; its ray.

On a frame an arm points when its shoulder, elbow and wrist are confident and
- the upper arm is lifted at least `LIFT_DEG` from the torso (the angle at the shoulder
  between shoulder → elbow and shoulder → hip; 0 for a hanging arm, 90 held out level);
- the arm is extended: shoulder-to-wrist at least `EXTENSION` of upper arm + forearm (1 for
  a straight arm, 0.87 for an elbow bent to 120°, 0.71 at 90°), in 3D where depth gives the
  three joints (the image foreshortens an arm pointing at the camera), else in the image.
Chosen on the RealSense recording (../shared/data/rgbd): the seated person's pointing arm is
lifted 37–173° with the elbow at 82–176° (3D), hanging arms and hands in laps are lifted
below 31°, and the standing person's bent arms (elbow under 110°) stay below the extension.
It is a gesture once it has held for `hold` seconds, a dip of at most `gap` seconds (one or
two frames of a bending elbow) not restarting it.

The ray goes from the eyes (their midpoint; else the shoulder) through the index fingertip of
the hand found on that arm with a presence of at least 0.5 (else the wrist): the
eye-fingertip line is the one people aim along. In the image always; in 3D where depth gives
both points; and where it meets the floor plane n·p + d = 0 (camera optical frame, `floor`)
when it goes down to it.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.results import CONFIDENT, Person
from ..core.topology import HAND21, Topology
from ..hands.landmarks import PRESENCE
from .events import Ray

LIFT_DEG = 40.0
EXTENSION = 0.8
_INDEX_TIP = HAND21.keypoints.index("index_finger_tip")


def _names(topology: Topology) -> dict[str, int]:
    return {n: i for i, n in enumerate(topology.keypoints)}


def arm_points(person: Person, topology: Topology, side: str) -> float | None:
    """How clearly the arm points on this frame (the lowest of its joints' scores, scaled by
    how straight it is), None where it does not."""
    n = _names(topology)
    joints = [n.get(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist")]
    if None in joints or min(person.keypoint_scores[joints]) < CONFIDENT:
        return None
    s, e, w = (person.keypoints[j].astype(np.float64) for j in joints)
    hip = n.get(f"{side}_hip")
    down = (person.keypoints[hip] - s if hip is not None and
            person.keypoint_scores[hip] >= CONFIDENT else np.array([0.0, 1.0]))
    if _angle(e - s, down) < LIFT_DEG:
        return None
    pts = s, e, w
    if person.positions is not None and np.all(np.isfinite(person.positions[joints])):
        pts = tuple(person.positions[j].astype(np.float64) for j in joints)
    reach = np.linalg.norm(pts[2] - pts[0])
    length = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[1])
    extension = reach / length if length > 0 else 0.0
    if extension < EXTENSION:
        return None
    return float(min(person.keypoint_scores[joints])) * min(1.0, extension)


def ray(person: Person, topology: Topology, side: str,
        floor: tuple[float, float, float, float] | None = None) -> Ray | None:
    """The pointing ray of one arm (None where its points coincide)."""
    n = _names(topology)
    eyes = [n[e] for e in ("left_eye", "right_eye") if e in n
            and person.keypoint_scores[n[e]] >= CONFIDENT]
    origin_ids = eyes or [n[f"{side}_shoulder"]]
    o2 = person.keypoints[origin_ids].astype(np.float64).mean(axis=0)
    hand = next((h for h in person.hands if h.side == side and h.presence >= PRESENCE), None)
    wrist = n[f"{side}_wrist"]
    t2 = (hand.keypoints[_INDEX_TIP] if hand is not None else
          person.keypoints[wrist]).astype(np.float64)
    d2 = t2 - o2
    if np.linalg.norm(d2) < 1e-6:
        return None
    origin = direction = hit = None
    o3 = _mean3(person.positions, origin_ids)
    t3 = None
    if hand is not None and hand.positions is not None and \
            np.all(np.isfinite(hand.positions[_INDEX_TIP])):
        t3 = hand.positions[_INDEX_TIP].astype(np.float64)
    elif person.positions is not None and np.all(np.isfinite(person.positions[wrist])):
        t3 = person.positions[wrist].astype(np.float64)
    if o3 is not None and t3 is not None and np.linalg.norm(t3 - o3) > 1e-6:
        origin, direction = o3, (t3 - o3) / np.linalg.norm(t3 - o3)
        hit = floor_point(origin, direction, floor)
    return Ray(o2, d2 / np.linalg.norm(d2), origin, direction, hit)


def floor_point(origin: np.ndarray, direction: np.ndarray,
                floor: tuple[float, float, float, float] | None) -> np.ndarray | None:
    """Where the ray meets the plane n·p + d = 0 ahead of its origin, None where it does not
    (no floor known, parallel, or behind)."""
    if floor is None:
        return None
    normal, d = np.asarray(floor[:3], np.float64), float(floor[3])
    along = float(normal @ direction)
    if abs(along) < 1e-9:
        return None
    t = -(float(normal @ origin) + d) / along
    return origin + t * direction if t > 0 else None


def _mean3(positions: np.ndarray | None, ids: list[int]) -> np.ndarray | None:
    if positions is None:
        return None
    pts = positions[ids]
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    return pts.mean(axis=0).astype(np.float64) if len(pts) else None


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return math.degrees(math.acos(float(np.clip(a @ b / (na * nb), -1.0, 1.0))))
