"""Box overlap and non-maximum suppression."""
from __future__ import annotations

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every box of a [N,4] and b [M,4] (x1, y1, x2, y2) → [N, M]."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, extras: np.ndarray,
                 iou_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blending NMS (BlazeFace/BlazePose): each kept detection is the score-weighted mean of
    the boxes (and extras, e.g. keypoints) it suppresses, and keeps its own score.

    boxes [N,4], scores [N], extras [N, ...]. Returns the kept boxes, scores and extras,
    highest score first.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores, extras = boxes[order], scores[order], extras[order]
    remaining = np.arange(len(scores))
    out_b, out_s, out_e = [], [], []
    while remaining.size:
        top = remaining[0]
        overlap = iou_matrix(boxes[top], boxes[remaining])[0]
        group = remaining[overlap > iou_threshold]
        if group.size == 0:  # degenerate (zero-area) box: keep it alone
            group = remaining[:1]
        w = scores[group]
        w_sum = w.sum()
        out_b.append((boxes[group] * w[:, None]).sum(0) / w_sum)
        shape = (-1,) + (1,) * (extras.ndim - 1)
        out_e.append((extras[group] * w.reshape(shape)).sum(0) / w_sum)
        out_s.append(scores[top])
        remaining = remaining[~np.isin(remaining, group)]
    if not out_s:
        return boxes[:0], scores[:0], extras[:0]
    return np.stack(out_b), np.asarray(out_s), np.stack(out_e)
