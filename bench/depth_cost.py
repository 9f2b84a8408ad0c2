"""Added cost of the 3D step per frame (depth decode + keypoint windows + nearest surface +
deprojection) for 1 and 6 people, on a 640×480 16UC1 depth image aligned to 1280×720 colour.

    python bench/depth_cost.py [--topology blazepose33|coco17]
"""
import argparse
import time

import numpy as np

from pose_estimation_ros.core.results import Person
from pose_estimation_ros.core.topology import get_topology
from pose_estimation_ros.following.depth import add_positions
from pose_estimation_ros.transport.image import depth_to_array


def people(n: int, k: int, rng) -> list[Person]:
    out = []
    for i in range(n):
        x0 = 80 + 190 * i
        pts = np.stack([rng.uniform(x0, x0 + 150, k), rng.uniform(150, 650, k)], 1)
        out.append(Person(np.array([x0, 150, x0 + 150, 650], np.float32), 0.9,
                          pts.astype(np.float32), np.full(k, 0.9, np.float32)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topology", default="blazepose33")
    args = parser.parse_args()
    k_count = len(get_topology(args.topology).keypoints)
    rng = np.random.default_rng(0)
    depth_mm = rng.integers(500, 6000, (480, 640)).astype(np.uint16)
    depth_mm[rng.random((480, 640)) < 0.05] = 0  # holes
    colour_k = np.array([[910.0, 0, 640], [0, 910.0, 360], [0, 0, 1]])
    depth_k = np.array([[606.7, 0, 320], [0, 606.7, 240], [0, 0, 1]])
    data = depth_mm.tobytes()
    for n in (1, 6):
        times = []
        for _ in range(300):
            group = people(n, k_count, rng)
            start = time.perf_counter()
            metres = depth_to_array("16UC1", 640, 480, 1280, data)
            add_positions(group, get_topology(args.topology), metres, depth_k, colour_k)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{n} people × {k_count} keypoints: 3D step {np.median(times[20:]):.3f} ms per "
              f"frame (median of 280; decode alone included)")


if __name__ == "__main__":
    main()
