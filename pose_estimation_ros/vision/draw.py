"""The annotated image every path renders (`run`, `bag --annotated`, the node's
`annotated_image`): what a person looks at first.

Per person: the box and the label in the track's colour (`#id`, or the score when untracked),
limbs of the left side in orange and of the right side in blue (centre lines in the track's
colour), confident joints as white dots. The follow target gets a thick box and `TARGET`, with
its distance in metres where its 3D centre is known and its state where it is not `tracking`
(`reacquired`); while it is occluded, a dashed box at the tracker's predicted position says
`TARGET occluded`. Hands in their side's colour (grey where the hand model doubts a hand is
there: presence under 0.5). Gestures (`draw_gestures`): their names under the person's label,
a pointing ray as an arrow to the image's edge.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..core.results import CONFIDENT, FrameResult, Person
from ..core.topology import HAND21

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
        _draw_hands(out, person, max(1, thick // 2))
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


def _draw_hands(out: np.ndarray, person: Person, thick: int) -> None:
    for hand in person.hands:
        colour = (LEFT_BGR if hand.side == "left" else RIGHT_BGR) if hand.presence >= 0.5 \
            else (160, 160, 160)
        pts = np.round(hand.keypoints).astype(int)
        for a, b in HAND21.edges:
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, thick, cv2.LINE_AA)
        for p in pts:
            cv2.circle(out, tuple(p), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)


def draw_gestures(out: np.ndarray, result: FrameResult,
                  gestures: list[tuple[int, str, np.ndarray | None, np.ndarray | None]]) -> None:
    """In place: each (track id, kind, image ray origin, image ray direction) — the kinds
    under the person's box, a ray as an arrow from its origin to the image's edge."""
    thick = max(1, round(max(out.shape[:2]) / 400))
    boxes = {p.track_id: p.bbox for p in result.people if p.track_id >= 0}
    lines: dict[int, list[str]] = {}
    for track_id, kind, origin, direction in gestures:
        lines.setdefault(track_id, []).append(kind.replace("_", " "))
        if origin is not None and direction is not None:
            h, w = out.shape[:2]
            reach = max(h, w) * 2.0  # clipped to the image by OpenCV
            end = origin + direction * reach
            cv2.arrowedLine(out, tuple(np.round(origin).astype(int)),
                            tuple(np.round(end).astype(int)), colour_for(track_id), thick,
                            cv2.LINE_AA, tipLength=0.02)
    for track_id, kinds in lines.items():
        if track_id not in boxes:
            continue
        x1, _, _, y2 = np.round(boxes[track_id]).astype(int)
        cv2.putText(out, ", ".join(sorted(set(kinds))), (x1, y2 + 12 * thick),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, colour_for(track_id), thick,
                    cv2.LINE_AA)


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
