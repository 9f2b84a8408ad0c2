"""Rotated regions of interest and the warps that cut model inputs out of images.

A region is a rotated rectangle in image pixels. Cropping follows MediaPipe's CPU image-to-tensor
converter: the rectangle's four corners are mapped onto the output's corners with a perspective
transform and the **uint8** image is warped bilinearly before conversion to float, which keeps
this project's crops identical to the reference implementation's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


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
