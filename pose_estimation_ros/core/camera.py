"""Pinhole camera geometry shared by every path: camera matrices, the intrinsics of an aligned
depth image, and pixels ↔ metres in the camera's optical frame (x right, y down, z forward).

One rule for the depth image's intrinsics, on every path (node, `bag`, `run`): its own camera
matrix where one is given (its CameraInfo, `--depth-intrinsics`), else the colour camera's
scaled to the depth image's size (aligned depth at the colour size: the colour K as it is). A
depth image whose size disagrees with its own CameraInfo is refused with the reason.
"""
from __future__ import annotations

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


def scaled(k: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """The camera matrix of the same camera with its image resized from (w, h) to (w, h)."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return k * np.array([sx, sy, 1.0])[:, None]


def depth_intrinsics(colour_k: np.ndarray, colour_size: tuple[int, int],
                     depth_size: tuple[int, int], depth_k: np.ndarray | None = None,
                     depth_info_size: tuple[int, int] | None = None) -> np.ndarray:
    """The aligned depth image's camera matrix (the module's rule); CameraError when the depth
    image's size disagrees with its own CameraInfo."""
    if depth_k is None:
        return colour_k if tuple(depth_size) == tuple(colour_size) else \
            scaled(colour_k, colour_size, depth_size)
    if depth_info_size is not None and tuple(depth_info_size) != tuple(depth_size):
        raise CameraError(f"depth image is {depth_size[0]}×{depth_size[1]} but its CameraInfo "
                          f"says {depth_info_size[0]}×{depth_info_size[1]}")
    return depth_k


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
