"""MediaPipe Holistic's hand recrop model: in a search region around a wrist (`regions.py`) it
finds the hand and gives two points, the hand's centre and a point at half its size in the
wrist-to-fingers direction (`HandRecropByRoi`): the hand's region is centred on the first,
2·|second − first| across, turned so first → second points up, then moved by 0.1 of its size
towards the fingers and squared. Every hand of a frame goes through the model in one batch."""
from __future__ import annotations

import math

import numpy as np

from ..models.runtime import Model
from ..vision.crops import RotatedRect, crop_batch, crop_to_image, to_input
from .regions import points_rect, transform_rect


def recrop(model: Model, image: np.ndarray, regions: list[RotatedRect]) -> list[RotatedRect]:
    """The hand region found in each search region (BGR `image`)."""
    if not regions:
        return []
    spec = model.spec
    w, h = spec.input_size
    out = model.run(to_input(crop_batch(image, regions, spec, "replicate"), spec))
    points = out["crop"].reshape(len(regions), 2, 2) / np.array([w, h], np.float32)
    rects = []
    for pts, region in zip(points, regions):
        start, end = crop_to_image(pts, region)
        rect = points_rect(start, end, -math.pi / 2)
        rects.append(transform_rect(rect, 1.0, -0.1))
    return rects
