"""Sequences built from the RealSense recording (../shared/data/rgbd) for re-identification and
the follow target: its 40 frames played forward and back at 10 Hz for as long as needed, the
standing person (the nearer one: the `closest` target) painted out for a while, colour with the
median of the box's border and depth with zeros (no data), then back, 0.6 m farther away than
before (his depth shifted), so farther than the seated person. Deterministic: the same arrays
on every call."""
from __future__ import annotations

import functools

import numpy as np
import rgbd

RATE = 10.0  # Hz
#: the standing person, once back, is this much farther (mm): behind the seated person
FARTHER_MM = 600


def order(count: int) -> list[int]:
    """Frame indices 0..39, 38..1, 0.. (forward and back) for `count` frames."""
    cycle = list(range(40)) + list(range(38, 0, -1))
    return [cycle[i % len(cycle)] for i in range(count)]


@functools.lru_cache(maxsize=1)
def standing_boxes() -> dict[int, np.ndarray]:
    """The standing person's box per recorded frame (from `run` on the recording: the person
    whose nose is higher), widened by a tenth on each side."""
    out = {}
    for i, step in enumerate(rgbd.run_outputs()):
        person = min(step.result.people, key=lambda p: p.keypoints[0, 1])
        x1, y1, x2, y2 = person.bbox
        dx, dy = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
        out[i] = np.array([x1 - dx, y1 - dy, x2 + dx, y2 + dy])
    return out


def _region(box: np.ndarray, shape) -> tuple[slice, slice]:
    h, w = shape[:2]
    x1, y1, x2, y2 = np.round(box).astype(int)
    return slice(max(y1, 0), min(y2, h)), slice(max(x1, 0), min(x2, w))


def hidden_target(before_s: float, hidden_s: float, after_s: float):
    """(colour, depth) per frame: both people for `before_s`, the standing one painted out
    for `hidden_s`, then back `FARTHER_MM` farther for `after_s`."""
    data, boxes = rgbd.frames(), standing_boxes()
    n_before, n_hidden = round(before_s * RATE), round(hidden_s * RATE)
    frames = []
    for k, i in enumerate(order(n_before + n_hidden + round(after_s * RATE))):
        _, colour, depth = data[i]
        colour, depth = colour.copy(), depth.copy()
        rows, cols = _region(boxes[i], colour.shape)
        if n_before <= k < n_before + n_hidden:
            border = np.concatenate([colour[rows, cols][[0, -1]].reshape(-1, 3),
                                     colour[rows, cols][:, [0, -1]].reshape(-1, 3)])
            colour[rows, cols] = np.median(border, axis=0).astype(np.uint8)
            depth[rows, cols] = 0
        elif k >= n_before + n_hidden:
            region = depth[rows, cols]
            region[region > 0] += FARTHER_MM
        frames.append((colour, depth))
    return frames


def stamp(k: int) -> int:
    return rgbd.STAMP0 + round(k * 1e9 / RATE)


def tinted(colour: np.ndarray, box: np.ndarray, bgr=(0, 200, 0), share: float = 0.45):
    """The box's pixels blended with a colour: the same person in other clothes."""
    out = colour.copy()
    rows, cols = _region(box, out.shape)
    out[rows, cols] = (out[rows, cols] * (1 - share) + np.array(bgr) * share).astype(np.uint8)
    return out


def swapped(before_s: float, hidden_s: float, after_s: float, tint: bool):
    """(colour, depth) per frame: both people, then nobody (a blank room: colour flat, depth
    zero) for `hidden_s`, then both back with their sides swapped (the frame mirrored, so
    each stands where the other stood). With `tint` the standing person is tinted green on
    every frame, so the two are different people."""
    data, boxes = rgbd.frames(), standing_boxes()
    n_before, n_hidden = round(before_s * RATE), round(hidden_s * RATE)
    frames = []
    for k, i in enumerate(order(n_before + n_hidden + round(after_s * RATE))):
        _, colour, depth = data[i]
        colour = tinted(colour, boxes[i]) if tint else colour.copy()
        if n_before <= k < n_before + n_hidden:
            colour = np.full_like(colour, np.median(colour.reshape(-1, 3), axis=0))
            depth = np.zeros_like(depth)
        elif k >= n_before + n_hidden:
            colour, depth = colour[:, ::-1].copy(), depth[:, ::-1].copy()
        frames.append((colour, depth))
    return frames


def twins(seconds: float):
    """(colour, depth) per frame: the standing person's crop pasted a second time, mirrored,
    over the seated person's side: two people dressed alike, both visible throughout."""
    data, boxes = rgbd.frames(), standing_boxes()
    frames = []
    for i in order(round(seconds * RATE)):
        _, colour, depth = data[i]
        colour, depth = colour.copy(), depth.copy()
        rows, cols = _region(boxes[i], colour.shape)
        width = cols.stop - cols.start
        left = slice(max(0, cols.start - width - 40), max(0, cols.start - width - 40) + width)
        colour[rows, left] = colour[rows, cols][:, ::-1]
        depth[rows, left] = depth[rows, cols][:, ::-1]
        frames.append((colour, depth))
    return frames
