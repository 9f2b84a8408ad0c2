"""From a BGR camera image to model input tensors: box regions, crops, letterbox, normalisation.

Coordinates follow OpenCV's convention (pixel centres on integers), the same on both sides of a
warp, so a point maps between image and crop by the affine transform alone (no ±0.5 terms).
"""
from __future__ import annotations

import cv2
import numpy as np

from .crop import RotatedRect, crop_to_image, warp_crop
from .model_specs import ModelSpec


def box_rect(box: np.ndarray, aspect: float, padding: float = 1.25) -> RotatedRect:
    """Upright region around an x1, y1, x2, y2 box: enlarged by `padding`, then widened or
    heightened (never shrunk) to `aspect` = width / height, as MMPose's top-down crops are."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    w, h = (x2 - x1) * padding, (y2 - y1) * padding
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return RotatedRect((x1 + x2) / 2.0, (y1 + y2) / 2.0, max(w, 1.0), max(h, 1.0), 0.0)


def affine_crop(image: np.ndarray, rect: RotatedRect, out_w: int, out_h: int,
                border_value: float = 0.0, out: np.ndarray | None = None) -> np.ndarray:
    """Cut `rect` out of `image` into an (out_h, out_w) image by an affine warp; pixels outside
    the image get `border_value`. `out` (an [out_h, out_w, 3] uint8 array) is filled in place."""
    src = rect.corners()[:3]  # bottom-left, top-left, top-right
    dst = np.array([[0, out_h], [0, 0], [out_w, 0]], np.float32)
    m = cv2.getAffineTransform(src, dst)
    return cv2.warpAffine(image, m, (out_w, out_h), dst=out, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(border_value,) * 3)


def crop_batch(image: np.ndarray, rects: list[RotatedRect], spec: ModelSpec,
               border: str = "constant") -> np.ndarray:
    """[N, H, W, 3] uint8 BGR crops of every region, in the model's input size."""
    w, h = spec.input_size
    batch = np.empty((len(rects), h, w, 3), np.uint8)
    for i, rect in enumerate(rects):
        if border == "replicate":
            batch[i] = warp_crop(image, rect, w, h, "replicate")
        else:
            affine_crop(image, rect, w, h, spec.pad_value, out=batch[i])
    return batch


def pad_outside_boxes(crops: np.ndarray, rects: list[RotatedRect], boxes: np.ndarray,
                      padding: float, pad_value: float) -> None:
    """Fill each [N, H, W, 3] crop of `box_rect(box, …, padding)` with `pad_value` outside the
    padded box itself (in place), so the widening to the model's aspect adds no image."""
    n, h, w = crops.shape[:3]
    for crop, rect, box in zip(crops, rects, boxes):
        half_w = 0.5 * w * min(1.0, float(box[2] - box[0]) * padding / rect.width)
        half_h = 0.5 * h * min(1.0, float(box[3] - box[1]) * padding / rect.height)
        x0, x1 = round(w / 2 - half_w), round(w / 2 + half_w)
        y0, y1 = round(h / 2 - half_h), round(h / 2 + half_h)
        crop[:, :x0] = crop[:, x1:] = pad_value
        crop[:y0] = crop[y1:] = pad_value


def crop_points_to_image(points: np.ndarray, rect: RotatedRect, out_w: int,
                         out_h: int) -> np.ndarray:
    """[K, 2] points in crop pixels → image pixels."""
    norm = np.asarray(points, np.float64) / np.array([out_w, out_h], np.float64)
    return crop_to_image(norm, rect)


def letterbox(image: np.ndarray, out_w: int, out_h: int,
              pad_value: float) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio into the top-left of an (out_h, out_w) canvas filled
    with `pad_value` (MMDetection's exports, MoveNet MultiPose). Returns the canvas, the scale
    and the (x, y) offset: image point p sits at p·scale + offset on the canvas."""
    h, w = image.shape[:2]
    scale = min(out_w / w, out_h / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((out_h, out_w, 3), pad_value, np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, scale, (0.0, 0.0)


def to_input(crops: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """[N, H, W, 3] uint8 BGR → the model's tensor: colour order, dtype, normalisation
    ((value − mean) / std, computed as value·(1/std) − mean/std like MediaPipe) and layout."""
    n, h, w, _ = crops.shape
    x = crops
    if spec.color == "RGB":  # cv2 works on 2-D images: stack the batch vertically
        x = cv2.cvtColor(crops.reshape(n * h, w, 3), cv2.COLOR_BGR2RGB).reshape(n, h, w, 3)
    if spec.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    if spec.dtype == "int32":
        return np.ascontiguousarray(x, dtype=np.int32)
    x = np.ascontiguousarray(x, dtype=np.float32)
    scale = [1.0 / s for s in spec.std]
    offset = [-m / s for m, s in zip(spec.mean, spec.std)]
    if len(set(scale)) == 1 and len(set(offset)) == 1:  # numpy is slow on a last axis of 3
        x *= np.float32(scale[0])
        if offset[0]:
            x += np.float32(offset[0])
        return x
    if spec.layout != "NCHW":
        raise ValueError(f"{spec.id}: per-channel normalisation needs an NCHW model")
    for c in range(3):
        x[:, c] *= np.float32(scale[c])
        x[:, c] += np.float32(offset[c])
    return x
