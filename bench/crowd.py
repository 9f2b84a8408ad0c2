"""Crowds: the pose budget's effect on a top-down pipeline as people enter.

    python bench/crowd.py [--budgets 0,3] [--tiles 1,2,3] [--frames 142] [--interval 8]

Builds 1280×720 clips from the hug clip (`mmaction2_demo_skeleton.mp4`, 2 people) by tiling
it 1×1, 2×2 and 3×3, each tile a time-shifted copy played forward then backward (no jump at
the loop), and runs the frame step (topdown: rtmdet-nano + movenet-thunder, tracking,
re-identification, target policy `largest`) on each. Per tiling and budget it prints fps (the
step's time only: building the tiles is not counted), people per frame, crops per frame, the
follow target's refresh share, the share of people reported predicted, the longest run of
frames a person went without a crop, confirmed ids, and how far the predicted keypoints were
from what the pose head gives on the same boxes (run after the timed step, not counted): mean
and 95th percentile in pixels and in person heights, over the confident keypoints.
"""
from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from pose_estimation_ros.core.results import CONFIDENT, TrackState
from pose_estimation_ros.settings.build import defaults, pipeline_options, step_config
from pose_estimation_ros.stream.step import create_step
from pose_estimation_ros.tracking.tracker import TrackerConfig
from pose_estimation_ros.vision.imaging import VideoReader

#: the test data folder (`test/fetch_test_data.py`), else ../shared beside the checkout
DATA = Path(os.environ.get("POSE_ESTIMATION_TEST_DATA")
            or Path(__file__).resolve().parents[2] / "shared") / "data"
CLIP = DATA / "videos" / "mmaction2_demo_skeleton.mp4"
SIZE = (1280, 720)


def clip_frames(path: Path) -> list[np.ndarray]:
    reader = VideoReader(str(path))
    try:
        frames = [cv2.resize(f.image, SIZE, interpolation=cv2.INTER_AREA) for f in reader]
    finally:
        reader.close()
    return frames + frames[-2:0:-1]  # forward then backward: a loop without a jump


def tiled(frames: list[np.ndarray], n: int, k: int) -> np.ndarray:
    """Frame k of the n×n clip: tile i shows the clip shifted by i / n² of its length."""
    w, h = SIZE[0] // n, SIZE[1] // n
    out = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for i in range(n * n):
        src = frames[(k + i * len(frames) // (n * n)) % len(frames)]
        r, c = divmod(i, n)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = cv2.resize(src, (w, h),
                                                               interpolation=cv2.INTER_AREA)
    return out


def run(frames, n: int, count: int, budget: int, interval: int) -> dict:
    values = defaults() | {"pipeline": "topdown", "max_people": 20, "target_policy": "largest",
                           "max_crops_per_frame": budget, "max_refresh_interval": interval}
    step = create_step(pipeline_options(values), step_config(values))
    video, head = step.pipeline, step.pipeline.pipeline
    seconds, people, predicted, target_frames, target_fresh = 0.0, 0, 0, 0, 0
    run_without, longest, errors, sizes = defaultdict(int), 0, [], []
    for k in range(count):
        image = tiled(frames, n, k)
        start = time.perf_counter()
        out = step.step(image, int(k * 1e9 / 28))
        seconds += time.perf_counter() - start
        result = out.result
        people += len(result.people)
        state = {p.track_id: p.track_state for p in result.people}
        for tid, s in state.items():
            run_without[tid] = run_without[tid] + 1 if s is TrackState.PREDICTED else 0
            longest = max(longest, run_without[tid])
        predicted += sum(s is TrackState.PREDICTED for s in state.values())
        if out.target.track_id >= 0 and out.target.track_id in state:
            target_frames += 1
            target_fresh += state[out.target.track_id] is TrackState.CONFIRMED
        left = video.tracker.left_out
        if left is not None and len(left):  # what the head would have given (not timed)
            measured = head.process_boxes(image, left.boxes, left.scores).people
            by_id = {p.track_id: p for p in result.people}
            for tid, m in zip(left.track_ids, measured):
                p = by_id.get(step.identities.published(int(tid)))
                if p is None or p.track_state is not TrackState.PREDICTED:
                    continue
                good = m.keypoint_scores >= CONFIDENT
                d = np.linalg.norm(p.keypoints[good] - m.keypoints[good], axis=1)
                errors.extend(d)
                sizes.extend([max(m.bbox[3] - m.bbox[1], 1.0)] * len(d))
    errors, sizes = np.asarray(errors), np.asarray(sizes)
    return {"fps": count / seconds, "people": people / count, "crops": video.crops / count,
            "target": target_fresh / max(target_frames, 1), "target_frames": target_frames,
            "predicted": predicted / max(people, 1), "longest": longest,
            "ids": step.confirmed_ids, "detector": video.detector_runs / count,
            "err": errors, "rel": errors / sizes if len(errors) else errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", default="0,3")
    parser.add_argument("--tiles", default="1,2,3")
    parser.add_argument("--frames", type=int, default=142)
    parser.add_argument("--interval", type=int, default=TrackerConfig().max_refresh_interval)
    parser.add_argument("--clip", default=str(CLIP))
    args = parser.parse_args()
    frames = clip_frames(Path(args.clip))
    base = None
    for budget in [int(b) for b in args.budgets.split(",")]:
        for n in [int(t) for t in args.tiles.split(",")]:
            r = run(frames, n, args.frames, budget, args.interval)
            base = r["fps"] if n == 1 else base
            err = (f"predicted vs head {np.mean(r['err']):.1f} / {np.percentile(r['err'], 95):.1f}"
                   f" px (mean / p95), {np.mean(r['rel']):.3f} / "
                   f"{np.percentile(r['rel'], 95):.3f} person heights" if len(r["err"])
                   else "nobody predicted")
            ratio = f" ({r['fps'] / base:.2f}x 1x1)" if base else ""
            print(f"budget {budget} (refresh every {args.interval}) {n}x{n}: "
                  f"{r['fps']:.1f} fps{ratio}, {r['people']:.1f} people/frame, "
                  f"{r['crops']:.2f} crops/frame, detector on {100 * r['detector']:.0f}% of "
                  f"frames, target refreshed {100 * r['target']:.0f}% of "
                  f"{r['target_frames']} frames, predicted {100 * r['predicted']:.0f}% of "
                  f"people, longest without a crop {r['longest']} frames, "
                  f"{r['ids']} confirmed ids; {err}", flush=True)


if __name__ == "__main__":
    main()
