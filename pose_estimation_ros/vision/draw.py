"""The annotated image every path renders (`run`, `bag --annotated`, the node's
`annotated_image`): what a person looks at first.

Per person: the box and the label in the track's colour (`#id`, or the score when untracked),
limbs of the left side in orange and of the right side in blue (centre lines in the track's
colour), confident joints as white dots. The follow target gets a thick box and `TARGET`, with
its distance in metres where its 3D centre is known and its state where it is not `tracking`
(`reacquired`); while it is occluded, a dashed box at the tracker's predicted position says
`TARGET occluded`.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..core.results import CONFIDENT, FrameResult

#: track colours (BGR), none of them orange or blue, which mark left and right limbs
_PALETTE = [(80, 220, 80), (220, 60, 220), (60, 60, 255), (0, 230, 230), (160, 80, 255),
            (0, 160, 160), (200, 200, 0), (200, 200, 200)]
LEFT_BGR = (0, 140, 255)  # orange
RIGHT_BGR = (255, 90, 0)  # blue


def colour_for(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per track id (untracked people share the first)."""
    return _PALETTE[max(track_id, 0) % len(_PALETTE)]


def _side(name: str) -> int:
    return -1 if name.startswith("left_") else 1 if name.startswith("right_") else 0


def draw_result(image: np.ndarray, result: FrameResult, target_track_id: int = -1,
                min_score: float = CONFIDENT, target_state: str = "",
                predicted_box: np.ndarray | None = None) -> np.ndarray:
    """Copy of `image` with every person drawn (see the module docstring); `target_state`
    and `predicted_box` are the follow target's state and, while occluded, its box."""
    out = image.copy()
    topology = result.topology
    sides = [_side(n) for n in topology.keypoints]
    thick = max(1, round(max(out.shape[:2]) / 400))
    font = 0.4 * thick
    for person in result.people:
        colour = colour_for(person.track_id)
        pts = np.round(person.keypoints).astype(int)
        ok = person.keypoint_scores >= min_score
        for a, b in topology.edges:
            if ok[a] and ok[b]:
                side = sides[a] if sides[a] == sides[b] else 0
                limb = LEFT_BGR if side < 0 else RIGHT_BGR if side > 0 else colour
                cv2.line(out, tuple(pts[a]), tuple(pts[b]), limb, thick, cv2.LINE_AA)
        for p, good in zip(pts, ok):
            if good:
                cv2.circle(out, tuple(p), thick + 2, (255, 255, 255), -1, cv2.LINE_AA)
        x1, y1, x2, y2 = np.round(person.bbox).astype(int)
        is_target = target_track_id >= 0 and person.track_id == target_track_id
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 3 * thick if is_target else 1)
        label = f"{person.score:.2f}" if person.track_id < 0 else f"#{person.track_id}"
        if is_target:
            label += " TARGET" + (f" {target_state}" if target_state not in ("", "tracking")
                                  else "")
            if person.position is not None and np.all(np.isfinite(person.position)):
                label += f" {float(np.linalg.norm(person.position)):.2f} m"
        cv2.putText(out, label, (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, font, colour,
                    thick, cv2.LINE_AA)
    if predicted_box is not None:
        x1, y1, x2, y2 = np.round(predicted_box).astype(int)
        colour = colour_for(target_track_id)
        _dashed(out, (x1, y1), (x2, y2), colour, 2 * thick, 6 * thick)
        cv2.putText(out, f"#{target_track_id} TARGET {target_state or 'occluded'}",
                    (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, font, colour, thick,
                    cv2.LINE_AA)
    return out


def _dashed(out: np.ndarray, a: tuple[int, int], b: tuple[int, int], colour, thick: int,
            dash: int) -> None:
    """A rectangle of dashes from corner `a` to corner `b`."""
    corners = [a, (b[0], a[1]), b, (a[0], b[1]), a]
    for (x1, y1), (x2, y2) in zip(corners, corners[1:]):
        length = max(abs(x2 - x1), abs(y2 - y1), 1)
        for start in range(0, length, 2 * dash):
            t0, t1 = start / length, min(start + dash, length) / length
            cv2.line(out, (round(x1 + (x2 - x1) * t0), round(y1 + (y2 - y1) * t0)),
                     (round(x1 + (x2 - x1) * t1), round(y1 + (y2 - y1) * t1)), colour, thick,
                     cv2.LINE_AA)
