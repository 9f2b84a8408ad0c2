"""Pinhole camera geometry shared by every path: camera matrices, the intrinsics of an aligned
depth image, and pixels ↔ metres in the camera's optical frame (x right, y down, z forward).

One rule for the depth image's intrinsics, on every path (node, `bag`, `run`): its own camera
matrix where one is given (its CameraInfo, `--depth-intrinsics`), else the colour camera's
scaled to the depth image's size (aligned depth at the colour size: the colour K as it is).
A matrix is used for an image of another size only where that image is the same picture
resized (the same aspect ratio: it is scaled); otherwise the frame has no 3D and says why. The
colour camera's CameraInfo is held to the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: focal lengths (pixels) a real camera can have: a 10 px focal length would be a 175° view of
#: a 640 px image, 100,000 px a telescope; outside this the matrix is a mistake
FOCAL_RANGE = (10.0, 100_000.0)


class CameraError(ValueError):
    """A camera matrix or an image size that cannot be used, with the reason."""


def camera_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    return check_camera_matrix(np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]))


def check_camera_matrix(k, what: str = "camera matrix") -> np.ndarray:
    """`k` (9 values, row-major, or 3×3) as a 3×3 float64 array, or CameraError saying why it
    cannot be used: non-finite values, or focal lengths outside FOCAL_RANGE (0 is the
    CameraInfo of an uncalibrated camera)."""
    try:
        k = np.asarray(k, np.float64).reshape(3, 3)
    except (TypeError, ValueError):
        raise CameraError(f"{what} must have 9 numbers, not {np.size(k)}") from None
    if not np.all(np.isfinite(k)):
        raise CameraError(f"{what} has non-finite values: {k.reshape(-1).tolist()}")
    lo, hi = FOCAL_RANGE
    if not (lo <= k[0, 0] <= hi and lo <= k[1, 1] <= hi):
        raise CameraError(f"{what} has focal lengths fx={k[0, 0]:g}, fy={k[1, 1]:g} px: need "
                          f"{lo:g} to {hi:g} (0 means the camera is not calibrated)")
    return k


#: two image sizes are the same picture resized when their aspect ratios agree this closely
#: (a driver's 1280×720 → 424×240 republish rounds to within 0.7 %)
ASPECT_TOLERANCE = 0.01


def scaled(k: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """The camera matrix of the same camera with its image resized from (w, h) to (w, h)."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return k * np.array([sx, sy, 1.0])[:, None]


@dataclass(frozen=True)
class Intrinsics:
    """A camera matrix and the image size it was calibrated for (None: whatever size the
    images have, e.g. `run --intrinsics`)."""

    k: np.ndarray  # 3×3
    size: tuple[int, int] | None = None  # (width, height)
    frame_id: str = ""

    def for_size(self, size: tuple[int, int], what: str = "CameraInfo") -> np.ndarray:
        """The matrix for an image of `size`: as it is at its own size, scaled where the
        image is the same picture resized (aspect ratios within ASPECT_TOLERANCE), else
        CameraError: a matrix for another picture would put every point elsewhere."""
        if self.size is None or tuple(self.size) == tuple(size):
            return self.k
        if not same_aspect(self.size, size):
            raise CameraError(f"the image is {size[0]}×{size[1]} but its {what} is for "
                              f"{self.size[0]}×{self.size[1]} (another aspect ratio: not the "
                              "same picture resized)")
        return scaled(self.k, self.size, size)


def same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs((a[0] / a[1]) / (b[0] / b[1]) - 1.0) <= ASPECT_TOLERANCE


def depth_intrinsics(colour: Intrinsics, colour_size: tuple[int, int],
                     depth_size: tuple[int, int], depth: Intrinsics | None = None) -> np.ndarray:
    """The aligned depth image's camera matrix (the module's rule); CameraError when a
    matrix is for a picture of another shape."""
    if depth is not None:
        return depth.for_size(depth_size, "depth CameraInfo")
    colour_k = colour.for_size(colour_size)
    return colour_k if tuple(depth_size) == tuple(colour_size) else \
        Intrinsics(colour_k, tuple(colour_size)).for_size(
            depth_size, "colour CameraInfo (the depth image has none)")


def deproject(points_px: np.ndarray, z, k: np.ndarray) -> np.ndarray:
    """[N, 2] pixels at depths z ([N] or one value, metres) → [N, 3] metres in the camera's
    optical frame; NaN depth gives NaN points."""
    points_px = np.asarray(points_px, np.float64).reshape(-1, 2)
    z = np.broadcast_to(np.asarray(z, np.float64), (len(points_px),))
    x = (points_px[:, 0] - k[0, 2]) / k[0, 0] * z
    y = (points_px[:, 1] - k[1, 2]) / k[1, 1] * z
    return np.stack([x, y, z], axis=1)


def colour_to_depth_pixels(points_px: np.ndarray, colour_k: np.ndarray,
                           depth_k: np.ndarray) -> np.ndarray:
    """Colour pixels → pixels of a registered depth image with its own intrinsics (same
    optical frame, so the same ray)."""
    rays = (points_px - colour_k[[0, 1], [2, 2]]) / colour_k[[0, 1], [0, 1]]
    return rays * depth_k[[0, 1], [0, 1]] + depth_k[[0, 1], [2, 2]]
