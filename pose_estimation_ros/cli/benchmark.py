"""`bench`: per-stage timings of a pipeline on a video, and batched vs per-crop head calls."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.timing import median_table, model_ms
from ..vision.imaging import ImageError, VideoReader


@dataclass
class BenchReport:
    frames: int
    seconds: float
    stages: dict[str, float]  # median ms per stage over the frames it ran
    decode_mean_ms: float  # FFmpeg decodes in bursts: the median alone hides the burst
    stage_frames: dict[str, int]
    total_ms: float  # median per frame, decode included
    model_ms: float  # median per frame inside ONNX Runtime
    #: median per frame of the same model inputs run again through bare session calls, after
    #: the timed run, on up to 60 frames spread over it: the floor no pipeline around those
    #: models can beat (replaying each frame at once would slow the next one's decoding)
    floor_ms: float = 0.0
    #: frames (image, boxes) with at least two people, for the batching comparison
    crowded: list = field(default_factory=list)
    #: mean ms per frame of each stage over every frame (0 where it did not run)
    means: dict[str, float] = field(default_factory=dict)

    def last_line(self) -> str:
        return (f"fps={self.frames / max(self.seconds, 1e-9):.1f} model_ms={self.model_ms:.2f} "
                f"total_ms={self.total_ms:.2f} overhead={self.total_ms / self.model_ms:.2f} "
                f"floor_ms={self.floor_ms:.2f}")


def run_bench(pipeline, video: str, max_frames: int, keep_crowded: int = 0,
              after=None) -> BenchReport:
    """`after(result, image)`, where given, runs on every frame inside its time (the stages
    the frame step adds after the pipeline: re-identification)."""
    reader = VideoReader(video)
    per_frame, totals, models, crowded, fed = [], [], [], [], []
    frames = iter(reader)
    every = max(1, max_frames // 60)
    start_all = time.perf_counter()
    try:
        for i in range(max_frames):
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            decode_ms = (time.perf_counter() - t0) * 1000.0
            for m in pipeline.models:
                m.recorder = [] if i % every == 0 else None
            result = pipeline.process(frame.image, frame.stamp)
            if after is not None:
                after(result, frame.image)
            totals.append((time.perf_counter() - t0) * 1000.0)
            if i % every == 0:
                fed.append([(m, x) for m in pipeline.models for x in m.recorder])
            per_frame.append({"decode": decode_ms, **result.timings})
            models.append(model_ms(result.timings))
            if len(result.people) >= 2 and len(crowded) < keep_crowded:
                crowded.append((frame.image, np.stack([p.bbox for p in result.people])))
    finally:
        reader.close()
        for m in pipeline.models:
            m.recorder = None
    elapsed = time.perf_counter() - start_all
    if not per_frame:
        raise ImageError(f"{video}: no frame to benchmark")
    floor = [sum(m.bare_ms(x) for m, x in calls) for calls in fed]
    stages = median_table(per_frame)
    return BenchReport(len(per_frame), elapsed, stages,
                       float(np.mean([t["decode"] for t in per_frame])),
                       {k: sum(k in t for t in per_frame) for k in stages},
                       float(np.median(totals)), float(np.median(models)),
                       floor_ms=float(np.median(floor)), crowded=crowded,
                       means={k: float(np.mean([t.get(k, 0.0) for t in per_frame]))
                              for k in stages})


def batch_comparison(head, crowded: list, repeats: int = 3) -> tuple[float, float, int]:
    """Median ms per person of one batched call vs one call per crop, on the same crops.

    Returns (batched_ms_per_person, per_crop_ms_per_person, people_per_frame)."""
    batched, single, people = [], [], []
    for image, boxes in crowded:
        x = head.preprocess(image, boxes)[0]
        for _ in range(repeats):  # alternate, so both see the same machine load
            batched.append(head.infer(x, batched=True)[1] / len(x))
            single.append(head.infer(x, batched=False)[1] / len(x))
        people.append(len(x))
    return float(np.median(batched)), float(np.median(single)), int(np.median(people))


def per_box_loop(pipeline, image) -> tuple[int, float]:
    """The plain top-down loop of rtmlib's examples: the detector on every frame, then one
    pose-model call per box, no tracking. Returns the people found and the detector's ms."""
    from ..core.timing import StageTimer

    timer = StageTimer()
    start = time.perf_counter()
    boxes, scores = pipeline.detect(image, timer)
    detector_ms = (time.perf_counter() - start) * 1000.0
    for i in range(len(boxes)):
        pipeline.head(image, boxes[i:i + 1], scores[i:i + 1], timer)
    return len(boxes), detector_ms


@dataclass
class LoopComparison:
    tracked_fps: float  # medians over the repeats
    plain_fps: float
    frames: int
    tracked_crops: float  # pose-model crops per frame
    plain_crops: float
    #: the detector's share of the per-box loop's time: skipping it on every frame could make
    #: that loop at most 1 / (1 - share) times faster
    detector_share: float

    @property
    def ratio(self) -> float:
        return self.tracked_fps / self.plain_fps


def compare_loops(video_pipeline, video: str, max_frames: int,
                  repeats: int = 3) -> LoopComparison:
    """fps of the tracked, batched top-down (`VideoPipeline`) and of `per_box_loop` on the
    same models and the same frames (decoded in advance), alternated `repeats` times."""
    reader = VideoReader(video)
    try:
        frames = [f for f, _ in zip(reader, range(max_frames)) if f.image is not None]
    finally:
        reader.close()
    pipeline, tracked, plain, shares = video_pipeline.pipeline, [], [], []
    for _ in range(repeats):
        video_pipeline.reset()
        start = time.perf_counter()
        for f in frames:
            video_pipeline.process(f.image, f.stamp)
        tracked.append(len(frames) / (time.perf_counter() - start))
        people, detector_ms = 0, 0.0
        start = time.perf_counter()
        for f in frames:
            n, ms = per_box_loop(pipeline, f.image)
            people, detector_ms = people + n, detector_ms + ms
        seconds = time.perf_counter() - start
        plain.append(len(frames) / seconds)
        shares.append(detector_ms / 1000.0 / seconds)
    n = max(len(frames), 1)
    return LoopComparison(float(np.median(tracked)), float(np.median(plain)), len(frames),
                          video_pipeline.crops / n, people / n, float(np.median(shares)))
