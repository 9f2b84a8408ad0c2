"""From a camera image to model input tensors: rotated regions, crops, letterbox, normalisation.

A region is a rotated rectangle in image pixels. Cropping follows MediaPipe's CPU image-to-tensor
converter: the rectangle's four corners are mapped onto the output's corners with a perspective
transform and the **uint8** image is warped bilinearly before conversion to float, which keeps
this project's crops identical to the reference implementation's. Coordinates follow OpenCV's
convention (pixel centres on integers), the same on both sides of a warp, so a point maps between
image and crop by the affine transform alone (no ±0.5 terms).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..models.specs import ModelSpec


@dataclass(frozen=True)
class RotatedRect:
    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0  # radians, clockwise in image coordinates (y down)

    def corners(self) -> np.ndarray:
        """Corners in cv2.boxPoints order: bottom-left, top-left, top-right, bottom-right."""
        return cv2.boxPoints(((self.cx, self.cy), (self.width, self.height),
                              math.degrees(self.angle)))


def normalize_radians(angle: float) -> float:
    """Wrap to [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def whole_image_rect(width: int, height: int) -> RotatedRect:
    """The image centred in a square of its long side (a centred letterbox)."""
    side = float(max(width, height))
    return RotatedRect(width / 2.0, height / 2.0, side, side, 0.0)


def aligned_rect(centre: np.ndarray, edge: np.ndarray, scale: float = 1.25,
                 target_angle: float = math.pi / 2) -> RotatedRect:
    """Square region around `centre` reaching `edge`, rotated so centre→edge points up.

    BlazePose's alignment: size = 2·|edge − centre|, rotation = target − atan2(−dy, dx), then
    enlarged by `scale` (the square's long side, as MediaPipe's RectTransformation does).
    """
    dx, dy = float(edge[0] - centre[0]), float(edge[1] - centre[1])
    size = 2.0 * math.hypot(dx, dy) * scale
    angle = normalize_radians(target_angle - math.atan2(-dy, dx))
    return RotatedRect(float(centre[0]), float(centre[1]), size, size, angle)


def crop_matrix(rect: RotatedRect, out_w: int, out_h: int) -> np.ndarray:
    """3×3 perspective matrix taking image pixels into the crop's pixel frame."""
    dst = np.array([[0, out_h], [0, 0], [out_w, 0], [out_w, out_h]], np.float32)
    return cv2.getPerspectiveTransform(rect.corners(), dst)


def warp_crop(image: np.ndarray, rect: RotatedRect, out_w: int, out_h: int,
              border: str = "replicate") -> np.ndarray:
    """Cut `rect` out of `image` into an (out_h, out_w) image of the same dtype."""
    mode = {"replicate": cv2.BORDER_REPLICATE, "zero": cv2.BORDER_CONSTANT}[border]
    return cv2.warpPerspective(image, crop_matrix(rect, out_w, out_h), (out_w, out_h),
                               flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=0)


def crop_to_image(points: np.ndarray, rect: RotatedRect) -> np.ndarray:
    """Map [..., 2] points normalised to the crop ([0,1] across) back to image pixels."""
    c, s = math.cos(rect.angle), math.sin(rect.angle)
    x = points[..., 0] - 0.5
    y = points[..., 1] - 0.5
    out = np.empty(points.shape[:-1] + (2,), np.float32)
    out[..., 0] = (c * x - s * y) * rect.width + rect.cx
    out[..., 1] = (s * x + c * y) * rect.height + rect.cy
    return out


def rotate_vectors(vectors: np.ndarray, angle: float) -> np.ndarray:
    """Rotate the x, y components of [..., 3] vectors by `angle` (z unchanged)."""
    c, s = math.cos(angle), math.sin(angle)
    out = vectors.astype(np.float32).copy()
    out[..., 0] = c * vectors[..., 0] - s * vectors[..., 1]
    out[..., 1] = s * vectors[..., 0] + c * vectors[..., 1]
    return out


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
