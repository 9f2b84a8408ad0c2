"""Decoding of the BlazePose detector and landmark model outputs (no state, no I/O).

Constants are those of MediaPipe's pose_detection and pose_landmark graphs (Apache-2.0);
the BlazePose paper (Bazarevsky et al., 2020) describes the design.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..core.numeric import sigmoid
from ..core.results import Person, bbox_of_keypoints
from ..vision.crops import RotatedRect, crop_to_image, rotate_vectors
from ..vision.nms import weighted_nms

# SSD anchors of the pose detector: 5 layers; layers of equal stride share one feature map,
# 2 anchors per layer and location (aspect 1 and the interpolated scale), fixed anchor size.
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
DETECTOR_INPUT = 224
NUM_LANDMARKS = 33
NUM_ALL_LANDMARKS = 39  # 33 pose + hip centre, scale point + 4 unused


def ssd_anchor_centres(input_size: int = DETECTOR_INPUT,
                       strides: tuple[int, ...] = DETECTOR_STRIDES,
                       anchors_per_layer: int = 2) -> np.ndarray:
    """[N, 2] anchor centres (x, y) normalised to the input; 2254 for the pose detector."""
    centres = []
    i = 0
    while i < len(strides):
        stride, layers = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            layers += 1
            i += 1
        size = math.ceil(input_size / stride)
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size,
                             indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, anchors_per_layer * layers, axis=0))
    return np.concatenate(centres).astype(np.float32)


ANCHORS = ssd_anchor_centres()


@dataclass
class Detection:
    box: np.ndarray  # [4] x1, y1, x2, y2 image pixels
    keypoints: np.ndarray  # [4, 2] image pixels; 0 hip centre, 1 full-body circle point
    score: float


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, letterbox: RotatedRect,
                      min_score: float = 0.5, iou_threshold: float = 0.3) -> list[Detection]:
    """raw_boxes [2254,12], raw_scores [2254,1] → detections in image pixels, best first."""
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)
    scores = sigmoid(logits)
    keep = scores >= min_score
    if not np.any(keep):
        return []
    raw = raw_boxes[keep] / DETECTOR_INPUT
    anchors = ANCHORS[keep]
    centre = raw[:, 0:2] + anchors
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    boxes, kept_scores, keypoints = weighted_nms(boxes, scores[keep], keypoints, iou_threshold)
    out = []
    for box, score, kps in zip(boxes, kept_scores, keypoints):
        corners = crop_to_image(box.reshape(2, 2), letterbox).reshape(4)
        out.append(Detection(corners, crop_to_image(kps, letterbox), float(score)))
    return out


@functools.lru_cache(maxsize=8)
def _window_offsets(kernel: int, hm_w: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat-index offsets [k·k] of a k×k window in an [h, w, n] heatmap, and the window's
    weights [k·k, 3]: 1, column offset, row offset (for the sums of one matrix product)."""
    offs = np.arange(kernel) - (kernel - 1) // 2
    dr, dc = np.meshgrid(offs, offs, indexing="ij")
    weights = np.stack([np.ones(kernel * kernel), dc.ravel(), dr.ravel()], axis=1)
    return ((dr * hm_w + dc) * n).ravel(), weights.astype(np.float32)


def refine_with_heatmap(xy: np.ndarray, heatmap: np.ndarray, kernel: int = 9,
                        min_confidence: float = 0.5) -> np.ndarray:
    """Replace each landmark by the confidence-weighted mean of the heatmap around it.

    xy [L, 2] normalised to the crop; heatmap [h, w, L] logits. As in MediaPipe's
    RefineLandmarksFromHeatmap, a landmark is refined only when the window's peak confidence
    reaches `min_confidence`; windows are cut at the heatmap's border, not padded. Confidences
    are float32 like the reference's. All windows are gathered at once from the flat heatmap.
    """
    hm_h, hm_w, n = heatmap.shape
    half = (kernel - 1) // 2
    col = np.trunc(xy[:, 0] * hm_w).astype(np.intp)  # C-style truncation, as the reference
    row = np.trunc(xy[:, 1] * hm_h).astype(np.intp)
    # The reference tests the column twice and never the row's upper bound; do the same.
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (col < hm_h)
    offsets, weights = _window_offsets(kernel, hm_w, n)
    flat = ((row * hm_w + col) * n + np.arange(n))[:, None] + offsets  # [L, k·k]
    conf = heatmap.reshape(-1).take(flat, mode="clip").astype(np.float32)
    sigmoid(conf, out=conf)  # the window's logits → confidences
    if (row.min() < half or row.max() >= hm_h - half or col.min() < half
            or col.max() >= hm_w - half):  # some window crosses the border: cut it there
        r = row[:, None] + weights[:, 2].astype(np.intp)
        c = col[:, None] + weights[:, 1].astype(np.intp)
        conf *= (r >= 0) & (r < hm_h) & (c >= 0) & (c < hm_w)
    sums = conf @ weights  # [L, 3]: Σconf, Σconf·Δcol, Σconf·Δrow
    total = sums[:, 0]
    ok = inside & (conf.max(axis=1) >= min_confidence) & (total > 0)
    out = xy.copy()
    if ok.any():
        t = total[ok]
        out[ok, 0] = (col[ok] + sums[ok, 1] / t) / hm_w
        out[ok, 1] = (row[ok] + sums[ok, 2] / t) / hm_h
    return out


@dataclass
class Landmarks:
    keypoints: np.ndarray  # [33, 2] image pixels
    z: np.ndarray  # [33] pixels, relative depth (hips ≈ 0)
    visibility: np.ndarray  # [33] probability
    presence: np.ndarray  # [33] probability
    aux: np.ndarray  # [2, 2] image pixels: hip centre and scale point for the next region
    world: np.ndarray  # [33, 3] metres, hip-centred, camera-aligned
    pose_score: float


def decode_landmarks(raw: np.ndarray, flag: np.ndarray, heatmap: np.ndarray,
                     world: np.ndarray, rect: RotatedRect, crop_size: int = 256,
                     refine_kernel: int = 9) -> Landmarks:
    """One crop's landmark-model outputs → landmarks in image pixels."""
    lm = raw.reshape(NUM_ALL_LANDMARKS, 5).astype(np.float64)
    xy = lm[:, :2] / crop_size
    if refine_kernel > 0:
        xy = refine_with_heatmap(xy, heatmap, refine_kernel)
    pixels = crop_to_image(xy, rect)
    z = lm[:NUM_LANDMARKS, 2] / crop_size * rect.width
    world_xyz = rotate_vectors(world.reshape(NUM_ALL_LANDMARKS, 3)[:NUM_LANDMARKS], rect.angle)
    probs = sigmoid(lm[:NUM_LANDMARKS, 3:5]).astype(np.float32)  # visibility, presence
    return Landmarks(
        keypoints=pixels[:NUM_LANDMARKS],
        z=z.astype(np.float32),
        visibility=probs[:, 0].copy(),
        presence=probs[:, 1].copy(),
        aux=pixels[NUM_LANDMARKS:NUM_LANDMARKS + 2],
        world=world_xyz,
        pose_score=float(np.asarray(flag).reshape(-1)[0]),
    )


def landmarks_person(lm: Landmarks, bbox: np.ndarray | None = None,
                     box_score: float = 1.0) -> Person:
    """A Person from decoded landmarks: the box around the visible landmarks unless one is
    given (a top-down crop's box), the score the pose flag × `box_score`."""
    if bbox is None:
        bbox = bbox_of_keypoints(lm.keypoints, lm.visibility)
    return Person(bbox=np.asarray(bbox[:4], np.float32), score=float(box_score) * lm.pose_score,
                  keypoints=lm.keypoints.astype(np.float32), keypoint_scores=lm.visibility,
                  visibility=lm.visibility, presence=lm.presence, world_keypoints=lm.world)
