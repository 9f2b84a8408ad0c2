"""The figures a live stream reports (the node's `/diagnostics` key/values): rates over the
last period, latency, compute, every frame count by reason, 3D counts by reason, stamps, the
follow target and the providers. Plain Python, so the arithmetic is tested without ROS."""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np


class StreamFigures:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._last = (0, 0, clock())
        self._latencies: list[float] = []
        self._lock = threading.Lock()

    def add_latency(self, seconds: float) -> None:
        with self._lock:
            self._latencies.append(seconds)

    def pairs(self, state: str, stream=None, *, missed: int | str = "unknown",
              reliability: str = "-", providers: dict[str, str] | None = None) -> dict[str, Any]:
        """The key/values of one report; rates and the mean latency cover the time since the
        previous report. `stream` is the LiveStream (None before configure)."""
        now = self.clock()
        with self._lock:
            latencies, self._latencies = self._latencies, []
        received, published, then = self._last
        dt = max(now - then, 1e-6)
        pairs: dict[str, Any] = {"state": state}
        if stream is not None:
            s = stream.scheduler.stats
            self._last = (s.received, s.published, now)
            pairs |= {
                "input_rate_hz": (s.received - received) / dt,
                "output_rate_hz": (s.published - published) / dt,
                "latency_ms_mean": 1000 * float(np.mean(latencies)) if latencies
                else float("nan"),
                "compute_ms_median": stream.compute_ms_median,
                **{f"frames_{k}": v for k, v in vars(s).items() if k != "pending"},
                **{f"rejected_{r.value}": n for r, n in sorted(stream.rejections.items(),
                                                                key=lambda kv: kv[0].value)},
                "frames_missed": missed,
                "image_reliability": reliability,
            }
            if stream.use_depth:
                counts = stream.step.counts
                without = stream.step.without_3d
                pairs |= {"depth_frames_rejected": stream.depth_rejected,
                          "frames_with_3d": counts["with_3d"],
                          "frames_without_3d": sum(without.values()),
                          **{f"without_3d_{k}": n for k, n in without.items()}}
            video = stream.step.pipeline
            if getattr(video, "frames", 0):  # tracked: the pose budget's effect
                pairs |= {"crops_per_frame": video.crops / video.frames,
                          "people_predicted": video.predicted}
            hands = stream.step.hands
            if hands is not None:
                pairs |= {"hands_given": hands.given,
                          **{f"hands_skipped_{k}": n for k, n in sorted(hands.skipped.items())}}
            target = stream.last_target
            pairs |= {"target_state": target.state.value if target else "none",
                      "target_track_id": target.track_id if target else -1,
                      "target_seconds_since_seen": target.since_seen if target else 0.0,
                      "target_reason": target.reason if target else "-",
                      **{f"stamps_{k}": n for k, n in sorted(stream.stamps.counts.items())}}
        providers = providers or {}
        pairs |= {"providers": ", ".join(f"{k}={v}" for k, v in providers.items()),
                  "models": ", ".join(providers)}
        return pairs
