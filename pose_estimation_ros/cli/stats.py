"""Run statistics for video: keypoint jitter before and after smoothing."""
from __future__ import annotations

import numpy as np

from ..core.results import CONFIDENT, FrameResult, TrackState


class JitterMeter:
    """Mean absolute second difference of confirmed tracks' keypoints, in pixels.

    |x[t+1] − 2·x[t] + x[t−1]| is zero for a still or steadily moving joint, so it measures
    frame-to-frame shake. The raw (model) and smoothed keypoints of the same run are measured
    side by side: the raw ones are exactly what a run with smoothing off would publish, since
    smoothing feeds nothing back into detection or association.
    """

    def __init__(self, min_score: float = CONFIDENT):
        self.min_score = min_score
        self._history: dict[int, list] = {}
        self._sums = np.zeros(2)
        self._count = 0

    def add(self, index: int, result: FrameResult, raw_by_track: dict[int, np.ndarray]) -> None:
        for p in result.people:
            if p.track_state != TrackState.CONFIRMED or p.track_id not in raw_by_track:
                continue
            hist = self._history.setdefault(p.track_id, [])
            if hist and hist[-1][0] != index - 1:
                hist.clear()  # a gap: start over
            hist.append((index, raw_by_track[p.track_id], p.keypoints, p.keypoint_scores))
            if len(hist) > 3:
                hist.pop(0)
            if len(hist) == 3:
                ok = np.all([h[3] >= self.min_score for h in hist], axis=0)
                for j in (1, 2):  # raw, smoothed
                    second = hist[2][j] - 2 * hist[1][j] + hist[0][j]
                    self._sums[j - 1] += np.linalg.norm(second[ok], axis=1).sum()
                self._count += int(ok.sum())

    def figures(self) -> tuple[float, float]:
        """(raw, smoothed) jitter in pixels."""
        if not self._count:
            return float("nan"), float("nan")
        raw, smooth = self._sums / self._count
        return float(raw), float(smooth)
