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


def oks_matrix(a: np.ndarray, b: np.ndarray, areas: np.ndarray, sigmas,
               valid: np.ndarray | None = None) -> np.ndarray:
    """Object keypoint similarity of every pose of a [N,K,2] with every pose of b [M,K,2].

    `areas` [N] is each a-pose's object area (the COCO scale), `valid` [N,K] the a-keypoints
    that count (all where None). Returns [N, M] in [0, 1]."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    var = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    d2 = np.sum((a[:, None] - b[None]) ** 2, axis=-1)  # [N, M, K]
    e = d2 / (2.0 * var * (np.asarray(areas, np.float64)[:, None, None] + np.spacing(1)))
    w = np.ones(a.shape[:2]) if valid is None else np.asarray(valid, np.float64)
    return np.sum(np.exp(-e) * w[:, None, :], axis=-1) / np.maximum(w.sum(-1), 1)[:, None]


def pose_nms(keypoints: np.ndarray, keypoint_scores: np.ndarray, scores: np.ndarray,
             boxes: np.ndarray, sigmas=None, threshold: float = 0.5,
             min_keypoint_score: float = 0.2) -> np.ndarray:
    """Greedy pose NMS: indices of the poses kept, best score first.

    With `sigmas` a pose is suppressed when its OKS with a kept, better pose exceeds
    `threshold` (the kept pose's confident keypoints and box area set the similarity);
    without sigmas (a topology with no OKS constants) the box IoU is used instead."""
    boxes = np.asarray(boxes, np.float64)
    if sigmas is None:
        sim = iou_matrix(boxes, boxes)
    else:
        valid = np.asarray(keypoint_scores) > min_keypoint_score
        valid[~valid.any(axis=1)] = True  # nothing confident: use every keypoint
        areas = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0)
        sim = oks_matrix(keypoints, keypoints, areas, sigmas, valid)
    order = np.argsort(-np.asarray(scores), kind="stable")
    suppressed = np.zeros(len(order), bool)
    keep: list[int] = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= sim[i] > threshold
    return np.asarray(keep, int)


def pose_nms_indices(people: list, sigmas, threshold: float) -> list[int]:
    """Pose NMS over one frame's `Person`s (`pose_nms`), ranked by person score × mean
    keypoint score: the indices kept, best first; a threshold of 1 or more keeps everyone."""
    if len(people) < 2 or threshold >= 1.0:
        return list(range(len(people)))
    keep = pose_nms(np.stack([p.keypoints for p in people]),
                    np.stack([p.keypoint_scores for p in people]),
                    np.array([p.score * float(np.mean(p.keypoint_scores)) for p in people]),
                    np.stack([p.bbox for p in people]), sigmas, threshold)
    return [int(i) for i in keep]


def suppress_duplicate_people(people: list, sigmas, threshold: float) -> list:
    """The people `pose_nms_indices` keeps, best first."""
    return [people[i] for i in pose_nms_indices(people, sigmas, threshold)]
