"""The hand stage of a frame: every person's hands, after the tracker.

For each person and side: a search region from the body keypoints (`regions.py`), refined by
the recrop model (`recrop.py`, all hands of the frame in one batch), then the hand landmark
model (`landmarks.py`, one batch). A hand not looked for or not found is counted by reason
(`SKIPS`) in `FrameResult.hands_skipped`, never given made-up keypoints. Every hand looked for
is given with its presence (the landmark model's hand flag): small, gloved or blurred hands
get a low one while their keypoints are still near (the whole-body photos' gloved fists:
presence under 0.01, keypoints 2–7 px off on 11–30 px hands), so the flag is reported, not
used to drop them, unless `min_presence` asks for that (MediaPipe drops below 0.5). The side
is the
body's (the wrist the region came from), not the landmark model's handedness, which guesses
from the image. A tracked person's hands are smoothed by a One-Euro filter per (track id, side)
with the tracker's parameters, so hands follow their person's id and are as steady as the
body's keypoints.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..core.results import FrameResult, Hand
from ..core.topology import Topology
from ..models.runtime import ModelPool, RuntimeOptions, open_model
from ..tracking.smoothing import OneEuroFilter, OneEuroParams
from ..vision.crops import RotatedRect
from .landmarks import keypoints_rect, landmarks
from .recrop import recrop
from .regions import SIDES, HandRegion, knuckles, search_region

VARIANTS = ("lite", "full")
#: why a hand was not given: the body model did not see its wrist (or, COCO-17, its elbow),
#: its region's centre is outside the image, its region is smaller than `min_size`, its
#: presence is below `min_presence`
SKIPS = ("wrist_unseen", "outside_image", "too_small", "no_hand")


@dataclass(frozen=True)
class HandConfig:
    enabled: bool = False
    #: hand landmark model: lite or full
    variant: str = "full"
    #: refine each search region with the recrop model (MediaPipe Holistic); off: the
    #: landmark model looks at the search region shrunk to a hand's size
    recrop: bool = True
    #: hands whose region is smaller than this many pixels across are skipped: the landmark
    #: model would look at a handful of pixels blown up to 224
    min_size: float = 16.0
    #: hands whose presence (the landmark model's hand flag) is below this are dropped
    #: (counted no_hand); 0 gives every hand looked for, with its presence
    min_presence: float = 0.0

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown hand model variant {self.variant!r}; choose from "
                             f"{VARIANTS}")

    def model_ids(self) -> list[str]:
        if not self.enabled:
            return []
        return ["hand-recrop"] * self.recrop + [f"hand-landmark-{self.variant}"]


class HandStage:
    """The models, opened once, and the smoothing state of one stream."""

    def __init__(self, config: HandConfig, topology: Topology,
                 runtime: RuntimeOptions | None = None, pool: ModelPool | None = None,
                 smoothing: OneEuroParams | None = None):
        """`smoothing`: the One-Euro parameters of a tracked person's hands (None: none)."""
        self.config = config
        self.topology = topology
        self.landmark_model = open_model(f"hand-landmark-{config.variant}", runtime, pool)
        self.recrop_model = open_model("hand-recrop", runtime, pool) if config.recrop else None
        self.smoothing = smoothing
        self.filters: dict[tuple[int, str], OneEuroFilter] = {}
        self.skipped: Counter = Counter()  # since the reset
        self.given = 0  # hands given since the reset

    @property
    def models(self) -> list:
        return [m for m in (self.recrop_model, self.landmark_model) if m is not None]

    def reset(self) -> None:
        self.filters.clear()
        self.skipped.clear()
        self.given = 0

    def process(self, image: np.ndarray, result: FrameResult) -> None:
        """Give every person of `result` their hands (in place), count the rest by reason."""
        start = time.perf_counter()
        regions, skipped = self.regions(result, image.shape[1], image.shape[0])
        rects = [r.rect for r in regions]
        if self.recrop_model is not None and rects:
            rects = recrop(self.recrop_model, image, rects)
            result.timings["model:hand-recrop"] = self.recrop_model.last_ms
        else:
            rects = [_hand_sized(r) for r in rects]
        found = landmarks(self.landmark_model, image, rects)
        if rects:
            result.timings[f"model:{self.landmark_model.spec.id}"] = \
                self.landmark_model.last_ms
        for person in result.people:
            person.hands = []
        seen = set()
        for region, rect, points, presence in zip(regions, rects, found.keypoints,
                                                  found.presence):
            if presence < self.config.min_presence:
                skipped["no_hand"] += 1
                continue
            person = result.people[region.index]
            points = self._smooth(person.track_id, region.side, points, rect, result.stamp)
            person.hands.append(Hand(region.side, points, float(presence)))
            self.given += 1
            seen.add((person.track_id, region.side))
        for key in [k for k in self.filters if k not in seen]:
            del self.filters[key]  # a hand not seen starts afresh when it comes back
        result.hands_skipped = {k: skipped[k] for k in SKIPS if skipped[k]}
        self.skipped.update(skipped)
        result.timings["hands"] = (time.perf_counter() - start) * 1000.0

    def regions(self, result: FrameResult, width: int,
                height: int) -> tuple[list[HandRegion], Counter]:
        """The search region of every hand to look for, and the others counted by reason."""
        regions, skipped = [], Counter()
        for i, person in enumerate(result.people):
            for side in SIDES:
                points = knuckles(person, self.topology, side)
                if points is None:
                    skipped["wrist_unseen"] += 1
                    continue
                rect = search_region(*points)
                if not (0 <= rect.cx < width and 0 <= rect.cy < height):
                    skipped["outside_image"] += 1
                elif _hand_sized(rect).width < self.config.min_size:
                    skipped["too_small"] += 1
                else:
                    regions.append(HandRegion(i, side, rect))
        return regions, skipped

    def _smooth(self, track_id: int, side: str, points: np.ndarray, rect: RotatedRect,
                stamp: float) -> np.ndarray:
        if track_id < 0 or self.smoothing is None:
            return points
        f = self.filters.setdefault((track_id, side), OneEuroFilter(self.smoothing))
        return f(points, stamp, 1.0 / max(rect.width, 1.0)).astype(np.float32)


def _hand_sized(search: RotatedRect) -> RotatedRect:
    """A search region shrunk to the hand it is drawn around (the recrop model's output is
    about this size)."""
    from .regions import SEARCH_SCALE

    scale = 2.0 / SEARCH_SCALE  # a hand region is 2 knuckle rectangles across, like the
    return RotatedRect(search.cx, search.cy, search.width * scale,  # tracking region
                       search.height * scale, search.angle)


def hands_in_boxes(stage: HandStage, image: np.ndarray, boxes: np.ndarray,
                   scale: float = 1.5, passes: int = 2) -> list[tuple[np.ndarray, float]]:
    """(keypoints [21, 2], presence) of the hand in each x1, y1, x2, y2 box (`eval` on hand
    crops with a ground-truth box): an upright square `scale` times the box's long side, then
    (`passes` 2) the region those keypoints give, as MediaPipe's tracking does."""
    rects = [RotatedRect(float(b[0] + b[2]) / 2, float(b[1] + b[3]) / 2,
                         max(float(b[2] - b[0]), float(b[3] - b[1])) * scale,
                         max(float(b[2] - b[0]), float(b[3] - b[1])) * scale)
             for b in boxes]
    found = landmarks(stage.landmark_model, image, rects)
    for _ in range(passes - 1):
        found = landmarks(stage.landmark_model, image,
                          [keypoints_rect(k) for k in found.keypoints])
    return list(zip(found.keypoints, (float(p) for p in found.presence)))
