"""Drawing results onto images (the annotated output of `run` and of the ROS node)."""
from __future__ import annotations

import cv2
import numpy as np

from ..core.results import CONFIDENT, FrameResult
from ..core.topology import get_topology

_PALETTE = [(0, 200, 255), (255, 120, 0), (80, 220, 80), (220, 60, 220), (60, 60, 255),
            (255, 220, 0), (0, 160, 160), (160, 80, 255)]


def colour_for(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per track id (untracked people share the first)."""
    return _PALETTE[max(track_id, 0) % len(_PALETTE)]


def draw_result(image: np.ndarray, result: FrameResult, min_score: float = CONFIDENT) -> np.ndarray:
    """Copy of `image` with every person's skeleton, joints and box; low-score joints hidden."""
    out = image.copy()
    topology = get_topology(result.topology)
    thick = max(1, round(max(out.shape[:2]) / 400))
    for person in result.people:
        colour = colour_for(person.track_id)
        pts = np.round(person.keypoints).astype(int)
        ok = person.keypoint_scores >= min_score
        for a, b in topology.edges:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, thick, cv2.LINE_AA)
        for p, good in zip(pts, ok):
            if good:
                cv2.circle(out, tuple(p), thick + 2, (255, 255, 255), -1, cv2.LINE_AA)
        x1, y1, x2, y2 = np.round(person.bbox).astype(int)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 1)
        label = f"{person.score:.2f}" if person.track_id < 0 else f"#{person.track_id}"
        cv2.putText(out, label, (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick, colour, thick, cv2.LINE_AA)
    return out
