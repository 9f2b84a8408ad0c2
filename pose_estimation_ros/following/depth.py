"""3D keypoints from an aligned (registered) depth image, transport-free.

Depth comes as robots' RGB-D cameras publish it: `16UC1` millimetres (0 = no data) or `32FC1`
metres (NaN, ±inf and 0 = no data), registered to the colour camera (same optical frame), at
the colour resolution or another one (e.g. 640×480 depth for 1280×720 colour): a colour pixel
is mapped to the depth image through the two intrinsics.

Each keypoint samples a window scaled to the person's size and takes the *nearest surface* in
it: the valid depths are split into clusters at gaps, and the nearest cluster holding at least
a quarter of them wins (its median). A hand in front of the torso so gives the hand's depth for
the wrist, not the torso's behind it (a plain median would), and one flying pixel does not
count as a surface. Depths outside [min_depth, max_depth] are no data. The point is deprojected
with the colour camera matrix. Unknown is NaN with `valid` false, never (0, 0, 0).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..core.camera import colour_to_depth_pixels, deproject
from ..core.results import CONFIDENT, Person
from ..core.topology import Topology
from ..vision.errors import ImageError, Rejection


class DepthError(ImageError):
    """A depth image that cannot be used, with the reason."""


@dataclass(frozen=True)
class DepthConfig:
    min_depth: float = 0.2  # metres; nearer is no data (below every common RGB-D camera's range)
    max_depth: float = 10.0  # metres; farther is no data
    #: window side as a share of the person's box height (in depth pixels), and its limits
    window_share: float = 0.05
    min_window: int = 3
    max_window: int = 21
    #: keypoints below this score get no position
    min_score: float = CONFIDENT
    #: samples per side of the lattice laid over each window
    grid: int = 5
    #: a window needs this share of valid samples (and at least 3) for a position
    min_valid_share: float = 0.2
    #: the nearest cluster wins with at least this share of the window's valid samples
    min_surface_share: float = 0.25

    def __post_init__(self):
        if not 0 <= self.min_depth < self.max_depth:  # NaN fails too
            raise ValueError(f"min_depth must be below max_depth (and not negative), not "
                             f"min_depth {self.min_depth}, max_depth {self.max_depth}")


def check_depth(depth: np.ndarray) -> np.ndarray:
    """A 16UC1 (mm) or 32FC1 (m) H×W depth array as it is, or DepthError saying why not."""
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2 or depth.size == 0:
        raise DepthError(f"depth must be a non-empty H×W image, not shape {depth.shape}",
                         Rejection.EMPTY if depth.size == 0 else Rejection.UNSUPPORTED)
    if depth.dtype not in (np.uint16, np.float32):
        raise DepthError(f"depth must be 16-bit millimetres or 32-bit float metres, not "
                         f"{depth.dtype}", Rejection.UNSUPPORTED)
    return depth


def depth_to_metres(depth: np.ndarray) -> np.ndarray:
    """A 16UC1 (mm) or 32FC1 (m) depth array as float32 metres, NaN where there is no data."""
    depth = check_depth(depth)
    if depth.dtype == np.uint16:
        metres = depth.astype(np.float32) * 0.001
        metres[depth == 0] = np.nan
        return metres
    metres = depth.copy()
    metres[~np.isfinite(metres) | (metres <= 0)] = np.nan
    return metres


@functools.lru_cache(maxsize=8)
def _lattice(grid: int) -> tuple[np.ndarray, np.ndarray]:
    unit = np.linspace(-1.0, 1.0, grid)
    return tuple(a.reshape(-1) for a in np.meshgrid(unit, unit, indexing="ij"))


@functools.lru_cache(maxsize=8)
def _torso(topology: Topology) -> np.ndarray:
    return np.array([n.endswith(("shoulder", "hip"))
                     for n in topology.keypoints])


def _windows(depth: np.ndarray, centres: np.ndarray, radii: np.ndarray,
             grid: int) -> np.ndarray:
    """[N, grid²] metres sampled on a grid×grid lattice spanning each row's square window
    (radius per row; every pixel where the window is smaller than the grid), NaN outside the
    image. A 5×5 lattice over a 21-pixel window keeps the statistic's robustness at a
    seventeenth of the cost (measured: bench/depth_cost.py)."""
    dy, dx = _lattice(grid)
    ys = np.rint(centres[:, 1:2] + dy[None, :] * radii[:, None]).astype(np.int64)
    xs = np.rint(centres[:, 0:1] + dx[None, :] * radii[:, None]).astype(np.int64)
    h, w = depth.shape
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    values = depth_to_metres(depth[np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)])
    values[~inside] = np.nan
    return values


def nearest_surface(samples: np.ndarray, min_surface_share: float,
                    min_valid: np.ndarray) -> np.ndarray:
    """[N] depth of the nearest surface per row of samples (NaN = no data), NaN where too few
    samples are valid. Rows are split into clusters where sorted depths jump by more than
    max(5 cm, 3 %)."""
    s = np.sort(samples, axis=1)  # NaN last
    n = np.sum(np.isfinite(s), axis=1)
    jump = np.diff(s, axis=1) > np.maximum(0.05, 0.03 * s[:, :-1])  # NaN compares False
    cluster = np.concatenate([np.zeros((len(s), 1), np.int64), np.cumsum(jump, axis=1)], axis=1)
    m = s.shape[1]
    valid = np.arange(m)[None, :] < n[:, None]
    flat = (np.arange(len(s))[:, None] * m + cluster)[valid]
    sizes = np.bincount(flat, minlength=len(s) * m).reshape(len(s), m)
    big = sizes >= np.maximum(1, np.ceil(min_surface_share * n))[:, None]
    first = np.argmax(big, axis=1)  # the nearest cluster that is big enough
    starts = np.argmax(cluster == first[:, None], axis=1)
    size = sizes[np.arange(len(s)), first]
    out = s[np.arange(len(s)), np.clip(starts + (size - 1) // 2, 0, m - 1)]
    return np.where((n >= min_valid) & (size > 0), out, np.nan).astype(np.float32)


def add_positions(people: list[Person], topology: Topology, depth: np.ndarray,
                  depth_k: np.ndarray, colour_k: np.ndarray,
                  config: DepthConfig = DepthConfig()) -> None:
    """Fill `positions` ([K, 3], NaN unknown) and `position` (the person's robust 3D centre:
    median of the valid torso joints, else of all valid ones) of every person, in place.
    `depth` is uint16 millimetres or float32 metres as the camera sends it: only the sampled
    windows are converted."""
    if not people:
        return
    depth = check_depth(depth)
    k_count = len(people[0].keypoints)
    points = np.concatenate([p.keypoints for p in people]).astype(np.float64)
    scores = np.concatenate([p.keypoint_scores for p in people])
    at = colour_to_depth_pixels(points, colour_k, depth_k)
    scale = depth_k[1, 1] / colour_k[1, 1]
    heights = np.array([max(p.bbox[3] - p.bbox[1], 1.0) for p in people]) * scale
    side = np.clip(np.rint(heights * config.window_share), config.min_window, config.max_window)
    radii = np.repeat((side // 2).astype(np.int64), k_count)
    samples = _windows(depth, at, radii, config.grid)
    samples[(samples < config.min_depth) | (samples > config.max_depth)] = np.nan
    min_valid = np.full(len(radii), max(3, int(np.ceil(config.min_valid_share
                                                       * config.grid ** 2))))
    z = nearest_surface(samples, config.min_surface_share, min_valid)
    z[scores < config.min_score] = np.nan
    xyz = deproject(points, z, colour_k).astype(np.float32)
    torso = _torso(topology)
    per_person = xyz.reshape(len(people), k_count, 3)
    known = np.isfinite(z).reshape(len(people), k_count)
    core = known & torso
    use = np.where((core.sum(1) >= 2)[:, None], core, known & (known.sum(1) >= 3)[:, None])
    centres = _row_medians(np.where(use[:, :, None], per_person, np.nan), use.sum(1))
    for i, person in enumerate(people):
        person.positions = per_person[i]
        person.position = centres[i] if use[i].any() else None


#: a hand keypoint's depth window side, as a share of the hand's extent (fingers are thin:
#: the nearest surface of a small window is the finger, not the wall behind it)
HAND_WINDOW_SHARE = 0.08
HAND_MAX_WINDOW = 9
#: metres a hand keypoint's depth may be off the hand's median depth: a hand is about this
#: deep; a fingertip's window catching the wall behind, or a depth camera's flying pixels at
#: the finger's edge (the RealSense recording: pointing fingertips at 2.5–3.0 m on a hand
#: at 2.0 m), is off by more and takes the hand's median depth instead
HAND_DEPTH_SPAN = 0.15


def add_hand_positions(people: list[Person], depth: np.ndarray, depth_k: np.ndarray,
                       colour_k: np.ndarray, config: DepthConfig = DepthConfig()) -> None:
    """Fill every hand's `positions` ([21, 3], NaN unknown) from aligned depth, in place: the
    body keypoints' rule with a window sized to the hand, and each keypoint within
    `HAND_DEPTH_SPAN` of the hand's median depth (the median where it is not, or has none).
    A hand with no valid depth, or a presence below the depth config's `min_score`, has none."""
    hands = [h for p in people for h in p.hands]
    if not hands:
        return
    depth = check_depth(depth)
    points = np.concatenate([h.keypoints for h in hands]).astype(np.float64)
    at = colour_to_depth_pixels(points, colour_k, depth_k)
    scale = depth_k[1, 1] / colour_k[1, 1]
    extent = np.array([np.ptp(h.keypoints, axis=0).max() for h in hands]) * scale
    side = np.clip(np.rint(extent * HAND_WINDOW_SHARE), config.min_window, HAND_MAX_WINDOW)
    radii = np.repeat((side // 2).astype(np.int64), len(hands[0].keypoints))
    samples = _windows(depth, at, radii, config.grid)
    samples[(samples < config.min_depth) | (samples > config.max_depth)] = np.nan
    min_valid = np.full(len(radii), max(3, int(np.ceil(config.min_valid_share
                                                       * config.grid ** 2))))
    z = nearest_surface(samples, config.min_surface_share, min_valid)
    z = z.reshape(len(hands), -1)
    for row, hand in zip(z, hands):
        known = np.isfinite(row)
        if hand.presence < config.min_score or not known.any():
            row[:] = np.nan
            continue
        middle = float(np.median(row[known]))
        row[~known | (np.abs(row - middle) > HAND_DEPTH_SPAN)] = middle
    xyz = deproject(points, z.reshape(-1), colour_k).astype(np.float32)
    for hand, positions in zip(hands, xyz.reshape(len(hands), -1, 3)):
        hand.positions = positions


def _row_medians(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median over axis 1 of [P, K, 3] values whose first `counts` per row are finite after
    sorting (NaN sorts last): one sort for every person instead of a median call each."""
    s = np.sort(values, axis=1)
    rows = np.arange(len(s))
    lo = s[rows, np.maximum(counts - 1, 0) // 2]
    hi = s[rows, np.maximum(counts, 1) // 2 - (counts == 0)]
    return ((lo + hi) / 2).astype(np.float32)


def read_depth_image(path) -> np.ndarray:
    """A 16-bit PNG (millimetres) or 32-bit float TIFF/EXR (metres) depth image, as stored."""
    import cv2

    depth = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    if depth is None:
        raise DepthError(f"cannot read depth image {path}")
    if depth.dtype not in (np.uint16, np.float32):
        raise DepthError(f"depth image {path} is {depth.dtype}: store depth as 16-bit PNG "
                         "(millimetres) or 32-bit float (metres)")
    return check_depth(depth)


def iter_depth(path):
    """Depth frames of a folder of depth images (sorted by name) or a 16-bit video (FFV1
    gray16le), in order, for pairing by index with the colour input."""
    from pathlib import Path

    import cv2

    from ..vision.imaging import IMAGE_SUFFIXES

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DepthError(f"depth folder {path} holds no images")
        for f in files:
            yield read_depth_image(f)
        return
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DepthError(f"cannot open depth input {path}")
    capture.set(cv2.CAP_PROP_CONVERT_RGB, 0)
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        if frame.dtype != np.uint16:
            raise DepthError(f"depth video {path} has {frame.dtype} frames: a depth video must "
                             "be 16-bit single channel (e.g. FFV1 gray16le), else use a folder "
                             "of 16-bit PNGs")
        yield check_depth(frame)
