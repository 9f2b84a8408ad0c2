"""Cost of the tracking layer alone: milliseconds per update for 1 to 6 walking people.

    python bench/tracker_cost.py
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))
from test_tracking_tracker import FPS, frame, person  # noqa: E402  (synthetic people of the tests)

from pose_estimation_ros.core.topology import COCO17  # noqa: E402
from pose_estimation_ros.tracking.tracker import Tracker, TrackerConfig  # noqa: E402


def main() -> None:
    rng = np.random.default_rng(0)
    for n in range(1, 7):
        tracker = Tracker(TrackerConfig(), COCO17)
        times = []
        for i in range(300):
            people = [person(100 + 180 * k + 2 * i + rng.normal(0, 1), 400 + 10 * k, 300)
                      for k in range(n)]
            start = time.perf_counter()
            tracker.update(frame(i / FPS, *people), i / FPS)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{n} people: tracking {np.median(times[10:]):.3f} ms per frame (median), "
              f"{tracker.confirmed_total} track ids")


if __name__ == "__main__":
    main()
