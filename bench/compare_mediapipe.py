"""Compare this project's BlazePose with MediaPipe 0.10.14 (the reference) on the same frames.

MediaPipe runs in its own virtual environment (it needs OpenCV 5, this project pins OpenCV 4):

    python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14
    python bench/compare_mediapipe.py --mediapipe-python /tmp/mpvenv/bin/python

Static mode on the COCO test images, tracking mode on video frames (MediaPipe's
smooth_landmarks off; both sides use the same 30 fps timestamps). Tracking is compared twice:
with our landmark stage run on the regions MediaPipe used (the implementation's agreement), and
free-running. Free-running tracking is chaotic, because a uint8 bilinear crop changes with tiny
region shifts: the script also prints how far our own pipeline drifts from itself when every
region is nudged by 0.001 px, the floor under any free-running comparison. Speeds of both
pipelines are measured one after the other on the same frames.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pose_estimation_ros.core.timing import StageTimer  # noqa: E402
from pose_estimation_ros.models.runtime import RuntimeOptions  # noqa: E402
from pose_estimation_ros.pipelines.blazepose import BlazePoseConfig, BlazePosePipeline  # noqa: E402
from pose_estimation_ros.vision.crops import RotatedRect  # noqa: E402
from pose_estimation_ros.vision.imaging import VideoReader, read_image  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
STEP = 1 / 30  # MediaPipe's Python solution stamps frames 33333 µs apart


def _frames_bgr(groups):
    for frames in groups:
        yield [cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) for rgb in frames]


def run_ours(pipeline: BlazePosePipeline, groups: list[np.ndarray], nudge: float = 0.0):
    """Free-running pipeline; `nudge` shifts every tracked region by that many pixels (used
    to measure how far two runs drift apart from a negligible difference)."""
    kps, times = [], []
    for frames in _frames_bgr(groups):
        pipeline.reset()
        for i, bgr in enumerate(frames):
            start = time.perf_counter()
            result = pipeline.process(bgr, stamp=(i + 1) * STEP)
            times.append(time.perf_counter() - start)
            kps.append(result.people[0].keypoints if result.people
                       else np.full((33, 2), np.nan, np.float32))
            if nudge and pipeline._next_rect is not None:
                pipeline._next_rect = replace(pipeline._next_rect,
                                              cx=pipeline._next_rect.cx + nudge)
    return np.stack(kps), np.asarray(times)


def run_ours_on_regions(pipeline: BlazePosePipeline, groups: list[np.ndarray], rects):
    """Our landmark stage on the regions MediaPipe used, frame by frame."""
    kps = []
    flat = iter(rects)
    for frames in _frames_bgr(groups):
        for bgr in frames:
            r = next(flat)
            if np.isnan(r[0]):
                kps.append(np.full((33, 2), np.nan, np.float32))
                continue
            lm, _ = pipeline.landmarks(bgr, RotatedRect(*map(float, r)), StageTimer())
            kps.append(lm.keypoints)
    return np.stack(kps)


def run_mediapipe(python: str, groups: list[np.ndarray], mode: str, tmp: Path):
    files = []
    for i, frames in enumerate(groups):
        path = tmp / f"{mode}_{i}.npy"
        np.save(path, frames)
        files.append(str(path))
    out = tmp / f"{mode}.npz"
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run([python, str(HERE / "mediapipe_worker.py"), mode, str(out), *files],
                   check=True, env=env, stderr=subprocess.DEVNULL)
    return dict(np.load(out))


def distance(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-landmark distances on frames where both found a person, and the frames where only
    one of them did."""
    both = ~np.isnan(a[:, 0, 0]) & ~np.isnan(b[:, 0, 0])
    only = int(np.sum(np.isnan(a[:, 0, 0]) != np.isnan(b[:, 0, 0])))
    return np.linalg.norm(a[both] - b[both], axis=-1), only


def report(name: str, d: np.ndarray, only: int) -> None:
    print(f"{name}: frames_compared={d.shape[0]} found_by_one_only={only} "
          f"mean_px={d.mean():.4f} median_px={np.median(d):.4f} max_px={d.max():.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mediapipe-python", required=True,
                    help="python of a venv with mediapipe==0.10.14")
    ap.add_argument("--frames", type=int, default=72, help="video frames per clip")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads")
    args = ap.parse_args()

    images = sorted((DATA / "mmpose_tests" / "coco").glob("*.jpg"))
    static = [cv2.cvtColor(read_image(p), cv2.COLOR_BGR2RGB)[None] for p in images]
    clips = []
    for video in ("mmaction2_demo_skeleton.mp4", "mmaction2_test_video_structuralize.mp4"):
        frames = [cv2.cvtColor(f.image, cv2.COLOR_BGR2RGB)
                  for f, _ in zip(VideoReader(DATA / "videos" / video), range(args.frames))]
        clips.append(np.stack(frames))

    runtime = RuntimeOptions(threads=args.threads)
    still = BlazePosePipeline(BlazePoseConfig(static_image_mode=True, runtime=runtime))
    tracker = BlazePosePipeline(BlazePoseConfig(static_image_mode=False, runtime=runtime))
    with tempfile.TemporaryDirectory() as tmp:
        ref_static = run_mediapipe(args.mediapipe_python, static, "static", Path(tmp))
        ref_track = run_mediapipe(args.mediapipe_python, clips, "tracking", Path(tmp))
    ours_static, _ = run_ours(still, static)
    ours_track, times = run_ours(tracker, clips)
    nudged, _ = run_ours(tracker, clips, nudge=1e-3)
    same_regions = run_ours_on_regions(tracker, clips, ref_track["rects"])

    d_static, o_static = distance(ours_static, ref_static["keypoints"])
    d_regions, o_regions = distance(same_regions, ref_track["keypoints"])
    d_free, o_free = distance(ours_track, ref_track["keypoints"])
    d_floor, _ = distance(ours_track, nudged)
    report("static, COCO images", d_static, o_static)
    report("tracking, landmark stage on MediaPipe's regions", d_regions, o_regions)
    report("tracking, free-running", d_free, o_free)
    report("tracking, ours vs ours with regions nudged 0.001 px (chaos floor)", d_floor, 0)
    both = np.concatenate([d_static.ravel(), d_regions.ravel()])
    ours_ms, ref_ms = np.median(times) * 1e3, np.median(ref_track["times"]) * 1e3
    print(f"tracking speed, same {len(times)} frames: "
          f"ours {ours_ms:.1f} ms ({1e3 / ours_ms:.1f} fps)"
          f", mediapipe {ref_ms:.1f} ms ({1e3 / ref_ms:.1f} fps)")
    print(f"mean landmark distance (static images + tracking frames on the same regions): "
          f"{both.mean():.4f} px")


if __name__ == "__main__":
    main()
