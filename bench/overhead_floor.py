"""How low can `bench`'s overhead go on this machine? The BlazePose pipeline on frames that are
already decoded in memory, without the tracking layer: what is left is the serial work every
frame needs (exact crop, normalisation, landmark decoding, next region), against the model.

    POSE_ESTIMATION_MODELS=../shared/models python bench/overhead_floor.py [VIDEO] [--runs N]

It prints, per run, the medians of `process()` and of the time inside ONNX Runtime and their
ratio, then the cost of the exact crop (warpPerspective, as MediaPipe) and of an affine warp
on the same regions, each alone.
"""
import argparse
import time

import cv2
import numpy as np

from pose_estimation_ros.core.timing import model_ms
from pose_estimation_ros.pipelines.blazepose import BlazePosePipeline
from pose_estimation_ros.vision.crops import crop_matrix, warp_crop
from pose_estimation_ros.vision.imaging import VideoReader

VIDEO = "../shared/data/videos/mmaction2_test_video_structuralize.mp4"


def one_run(pipeline: BlazePosePipeline, frames: list) -> tuple[float, float, list]:
    pipeline.reset()
    totals, models, rects = [], [], []
    for i, image in enumerate(frames):
        rect = pipeline.next_region
        start = time.perf_counter()
        result = pipeline.process(image, i / 30.0)
        totals.append((time.perf_counter() - start) * 1000.0)
        models.append(model_ms(result.timings))
        if rect is not None:
            rects.append((image, rect))
    return float(np.median(totals)), float(np.median(models)), rects


def warp_ms(crops: list, affine: bool) -> float:
    times = []
    for image, rect in crops:
        start = time.perf_counter()
        if affine:  # the alternative: same matrix, OpenCV's fixed-point affine warp
            cv2.warpAffine(image, crop_matrix(rect, 256, 256)[:2], (256, 256),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        else:  # the pipeline's exact crop
            warp_crop(image, rect, 256, 256, "replicate")
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", default=VIDEO)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    frames = [f.image for _, f in zip(range(300), VideoReader(args.video))]
    pipeline = BlazePosePipeline()
    for run in range(args.runs):
        total, model, rects = one_run(pipeline, frames)
        print(f"run {run + 1}: {len(frames)} decoded frames, no tracking layer: "
              f"process {total:.2f} ms, model {model:.2f} ms, ratio {total / model:.3f}")
    print(f"crop alone on the same {len(rects)} regions: warpPerspective "
          f"{warp_ms(rects, False):.3f} ms, warpAffine {warp_ms(rects, True):.3f} ms")


if __name__ == "__main__":
    main()
