"""Command line: `python -m pose_estimation_ros` / `pose-estimation-ros`."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from ..models import store as model_store
from ..models.runtime import PROVIDERS, RuntimeOptions
from ..models.specs import MODELS
from ..pipelines.detection import DETECTORS
from ..pipelines.heads import HEADS
from ..pipelines.registry import (
    DEFAULT_PIPELINE,
    PIPELINES,
    PipelineOptions,
    box_runner,
    create_pipeline,
)
from ..vision.draw import draw_result
from ..vision.imaging import ImageError, VideoReader, is_video, iter_inputs, to_bgr8

log = logging.getLogger("pose_estimation_ros")


def _add_pipeline_args(p: argparse.ArgumentParser, det_score: float = 0.5,
                       max_people: int = 6) -> None:
    p.add_argument("--pipeline", default=DEFAULT_PIPELINE, choices=PIPELINES,
                   help="rtmpose = topdown with rtmdet-nano + rtmpose-s (default: %(default)s)")
    p.add_argument("--variant", default="full", choices=("lite", "full", "heavy"),
                   help="BlazePose landmark model of --pipeline blazepose (default: full)")
    p.add_argument("--detector", default="rtmdet-nano", choices=DETECTORS,
                   help="person detector of --pipeline topdown (default: %(default)s)")
    p.add_argument("--pose", default="movenet-thunder", choices=sorted(HEADS),
                   help="pose head of --pipeline topdown; model of --pipeline movenet "
                        "(default: %(default)s)")
    p.add_argument("--det-score", type=float, default=det_score,
                   help="minimum person detector score (default: %(default)s)")
    p.add_argument("--max-people", type=int, default=max_people,
                   help="people per frame, top-down (default: %(default)s)")
    p.add_argument("--min-person-score", type=float, default=0.2,
                   help="MoveNet: minimum person score (default: %(default)s)")
    p.add_argument("--provider", default="cpu", choices=sorted(PROVIDERS),
                   help="onnxruntime execution provider; falls back to cpu with a warning")
    p.add_argument("--threads", type=int, default=0,
                   help="onnxruntime intra-op threads (0: one per physical core)")


def _add_tracking_args(p: argparse.ArgumentParser) -> None:
    from ..tracking.tracker import TrackerConfig

    p.add_argument("--det-interval", type=int, default=TrackerConfig.det_interval,
                   help="top-down on video: run the detector every N frames (default: "
                        "%(default)s)")
    p.add_argument("--no-smoothing", action="store_true", help="no One-Euro smoothing")
    p.add_argument("--no-tracking", action="store_true",
                   help="video without the tracking layer (no ids, detector every frame)")


def _options(args, static: bool = False) -> PipelineOptions:
    return PipelineOptions(
        pipeline=args.pipeline, variant=args.variant, static_image_mode=static,
        detector=args.detector, pose=args.pose, det_score=args.det_score,
        max_people=args.max_people, min_person_score=args.min_person_score,
        runtime=RuntimeOptions(provider=args.provider, threads=args.threads))


def _pipeline(args, static: bool = False):
    return create_pipeline(_options(args, static))


def _video_pipeline(args):
    """The pipeline with the tracking layer, for videos."""
    from ..pipelines.registry import TrackedPipeline
    from ..tracking.tracker import TrackerConfig

    if args.no_tracking:
        return _pipeline(args, static=False)
    return TrackedPipeline(_pipeline(args, static=False), TrackerConfig(
        det_interval=args.det_interval, smoothing=not args.no_smoothing))


class _DepthRun:
    """`run --depth`: depth frames paired by index with the colour frames, 3D positions and
    the follow target in every JSON line."""

    def __init__(self, args):
        from ..following.depth import DepthConfig, iter_depth
        from ..following.targets import TargetConfig, TargetSelector

        if not args.intrinsics:
            raise ValueError("--depth needs --intrinsics fx,fy,cx,cy of the colour camera")
        self.k = _camera_matrix(args.intrinsics, "--intrinsics")
        self.depth_k = _camera_matrix(args.depth_intrinsics, "--depth-intrinsics") \
            if args.depth_intrinsics else None
        self.frames = iter_depth(args.depth)
        self.config = DepthConfig(min_depth=args.min_depth, max_depth=args.max_depth)
        self.selector = TargetSelector(TargetConfig(policy=args.target_policy))
        self.ended = False

    def add(self, result, shape) -> dict:
        from ..following.depth import add_positions

        depth = None if self.ended else next(self.frames, None)
        if depth is None:
            if not self.ended:
                log.warning("the depth input ended before the colour input: no 3D from here")
            self.ended = True
            return {"depth": False, "target_track_id": -1}
        k = self.depth_k
        if k is None:  # registered depth at another resolution: the colour K scaled
            scale = np.array([depth.shape[1] / shape[1], depth.shape[0] / shape[0], 1.0])
            k = self.k * scale[:, None]
        add_positions(result.people, result.topology, depth, k, self.k, self.config)
        return {"depth": True, "target_track_id": self.selector.update(result).track_id}


def _camera_matrix(text: str, option: str) -> np.ndarray:
    try:
        fx, fy, cx, cy = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{option} must be fx,fy,cx,cy (pixels), not {text!r}") from None
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], np.float64)


def cmd_run(args) -> int:
    from .stats import JitterMeter

    source = Path(args.input)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = is_video(source)
    pipeline = _video_pipeline(args) if video else _pipeline(args, static=True)
    tracker = getattr(pipeline, "tracker", None)
    writer = None
    frames = iter_inputs(source)
    if video:
        reader = VideoReader(source)
        frames = iter(reader)
        if not args.no_progress:
            from tqdm import tqdm

            frames = tqdm(frames, total=reader.frame_count, unit="frame", desc=source.name)
    depth = _DepthRun(args) if args.depth else None
    count = people = dropped = 0
    jitter = JitterMeter()
    start = time.perf_counter()
    jsonl_path = out_dir / "keypoints.jsonl"
    with open(jsonl_path, "w") as jsonl:
        for frame in frames:
            try:
                if frame.image is None:
                    raise ImageError(frame.error)
                result = pipeline.process(frame.image, frame.stamp)
            except ImageError as exc:  # a bad frame is counted, never the end of the run
                log.warning("frame %s dropped: %s", frame.name, exc)
                dropped += 1
                continue
            count += 1
            people += len(result.people)
            if tracker is not None:
                jitter.add(frame.index, result, tracker.raw_keypoints)
            extra = depth.add(result, frame.image.shape) if depth is not None else {}
            jsonl.write(json.dumps({"frame": frame.name, **result.to_dict(), **extra}) + "\n")
            annotated = draw_result(frame.image, result)
            if video:
                if writer is None:
                    h, w = annotated.shape[:2]
                    writer = cv2.VideoWriter(str(out_dir / "annotated.mp4"),
                                             cv2.VideoWriter_fourcc(*"mp4v"), reader.fps, (w, h))
                writer.write(annotated)
            else:
                cv2.imwrite(str(out_dir / f"annotated_{Path(frame.name).stem}.jpg"), annotated)
    if writer is not None:
        writer.release()
    elapsed = time.perf_counter() - start
    print(f"wrote {jsonl_path} and annotated {'video' if video else 'images'} to {out_dir}")
    if args.stats and tracker is not None:
        raw, smooth = jitter.figures()
        print(f"jitter (mean |second difference| of confirmed keypoints): raw {raw:.3f} px, "
              f"smoothed {smooth:.3f} px, reduction {100 * (1 - smooth / raw):.1f}%")
        runs = getattr(pipeline, "detector_runs", 0)
        print(f"detector ran on {runs} of {count} frames ({100 * runs / max(count, 1):.0f}%)")
    tracks = len(tracker.confirmed_ids) if tracker is not None else 0
    print(f"frames={count} people_per_frame={people / max(count, 1):.2f} tracks={tracks} "
          f"fps={count / max(elapsed, 1e-9):.1f} dropped={dropped}")
    return 0


def _demo_image(path: str | None) -> tuple[np.ndarray, str]:
    if path:
        frame = next(iter_inputs(path))
        if frame.image is None:
            raise ImageError(frame.error)
        return frame.image, path
    from skimage import data

    return to_bgr8(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)), \
        "scikit-image data.astronaut() (NASA, public domain)"


def cmd_demo(args) -> int:
    for model_id in _options(args).model_ids():
        model_store.prepare(model_id)  # downloads only what is missing
    image, name = _demo_image(args.input)
    pipeline = _pipeline(args, static=True)
    result = pipeline.process(image)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_dir / "demo_annotated.jpg"), draw_result(image, result))
    (out_dir / "demo_keypoints.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    providers = ", ".join(f"{m.spec.id} on {m.provider}" for m in pipeline.models)
    print(f"input: {name}")
    print(f"pipeline {args.pipeline}: {len(result.people)} person(s) found ({providers})")
    print(f"annotated image: {out_dir / 'demo_annotated.jpg'}")
    print(f"keypoints:       {out_dir / 'demo_keypoints.json'}")
    return 0


def cmd_eval(args) -> int:
    from .evaluation import evaluate

    pipeline = _pipeline(args, static=True)
    if args.gt_boxes:
        run_boxes = box_runner(pipeline)

        def predict(image, boxes):
            return run_boxes(image, boxes)
    else:
        def predict(image, boxes):
            return pipeline.process(image)
    topology = pipeline.topology
    joints = np.asarray(topology.to_coco17) >= 0
    result = evaluate(args.coco, args.images, predict, progress=not args.no_progress,
                      joints=joints, unlabelled=args.unlabelled)
    models = "+".join(m.spec.id for m in pipeline.models)
    print(f"pipeline={args.pipeline} models={models} "
          f"boxes={'gt' if args.gt_boxes else 'detector'} joints={int(joints.sum())}/17")
    print(result.line())
    return 0


def cmd_bench(args) -> int:
    from .benchmark import batch_comparison, run_bench

    pipeline = _video_pipeline(args)
    head = getattr(getattr(pipeline, "pipeline", pipeline), "head", None)
    report = run_bench(pipeline, args.video, args.frames, keep_crowded=20 if head else 0)
    print(f"{report.frames} frames of {args.video}, pipeline {args.pipeline} "
          f"({', '.join(f'{m.spec.id} on {m.provider}' for m in pipeline.models)})")
    for stage, ms in report.stages.items():
        print(f"  {stage:<36} {ms:8.2f} ms  (median over the {report.stage_frames[stage]} "
              "frames it ran)")
    if head is not None and not head.batched:
        print(f"pose head {head.model.spec.id}: fixed batch of 1, one call per person")
    elif head is not None and report.crowded:
        per_b, per_s, n = batch_comparison(head, report.crowded)
        print(f"pose head {head.model.spec.id}, {len(report.crowded)} frames with {n} people: "
              f"batched {per_b:.2f} ms/person, one call per person {per_s:.2f} ms/person "
              f"(batched is {per_s / per_b:.2f}x)")
    if getattr(pipeline, "detector_runs", 0):
        inner = getattr(pipeline, "pipeline", pipeline)
        schedule = (f", det_interval {args.det_interval}" if hasattr(inner, "process_tracked")
                    and not args.no_tracking else "")
        print(f"detector ran on {pipeline.detector_runs} of {report.frames} frames "
              f"({100 * pipeline.detector_runs / report.frames:.0f}%){schedule}")
    print(report.last_line())
    return 0


def cmd_models(args) -> int:
    ids = args.ids or list(MODELS)
    if args.action == "list":
        for spec in (MODELS[i] for i in ids):
            origin = spec.source.url or spec.source.package
            built = f" (built from {spec.convert_from})" if spec.convert_from else ""
            print(f"{spec.id:<31} {spec.file}{built}  source: {origin}  licence: {spec.licence}")
        print(f"search path: {':'.join(str(p) for p in model_store.search_path())}")
        return 0
    if args.action == "verify":
        rows = [model_store.verify(i) for i in ids]
        for r in rows:
            print(f"{r.model_id:<31} {r.status:<9} {r.path}  {r.detail}")
        return 0 if all(r.status in ("ok", "unpinned") for r in rows) else 1
    for model_id in ids:
        print(f"{model_id:<31} ready: {model_store.prepare(model_id)}")
    return 0


def cmd_bag(args) -> int:
    from ..bags.batch import run
    from ..bags.process import BagError
    from ..following.depth import DepthConfig
    from ..following.targets import TargetConfig
    from ..tracking.tracker import TrackerConfig

    if args.no_tracking:
        raise ValueError("bag always tracks (track ids are part of its output); use "
                         "--no-smoothing for raw keypoints")
    tracker = TrackerConfig(det_interval=args.det_interval, smoothing=not args.no_smoothing)
    try:
        code = run(args, _options(args), tracker,
                   DepthConfig(min_depth=args.min_depth, max_depth=args.max_depth),
                   TargetConfig(policy=args.target_policy))
    except BagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if code == 0 and args.parquet:
        if not args.csv:
            raise ValueError("--parquet needs --csv (the table it converts)")
        try:
            import pyarrow.csv as pa_csv
            import pyarrow.parquet as pa_parquet
        except ImportError:
            raise ValueError("--parquet needs pyarrow (pip install pyarrow)") from None
        pa_parquet.write_table(pa_csv.read_csv(args.csv), args.parquet)
    return code


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="pose-estimation-ros", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="annotate an image, a folder of images or a video")
    p.add_argument("input")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stats", action="store_true",
                   help="videos: print keypoint jitter with and without smoothing")
    p.add_argument("--depth", metavar="PATH",
                   help="aligned depth paired by index with the input: a folder of 16-bit PNGs "
                        "(mm) or a 16-bit video; JSON lines get 3D positions")
    p.add_argument("--intrinsics", metavar="FX,FY,CX,CY", help="colour camera (with --depth)")
    p.add_argument("--depth-intrinsics", metavar="FX,FY,CX,CY",
                   help="depth camera (default: the colour intrinsics scaled to its size)")
    p.add_argument("--min-depth", type=float, default=0.2, help="metres (default: 0.2)")
    p.add_argument("--max-depth", type=float, default=10.0, help="metres (default: 10)")
    p.add_argument("--target-policy", default="closest",
                   choices=("closest", "largest", "centre", "none"),
                   help="whom to follow, with --depth (default: closest)")
    _add_pipeline_args(p)
    _add_tracking_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="run the default pipeline on a sample photo")
    p.add_argument("input", nargs="?", help="an image (default: a bundled sample photo)")
    p.add_argument("--output", default="pose_demo", help="output folder (default: pose_demo)")
    _add_pipeline_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("eval", help="COCO OKS AP and PCK@0.2 on keypoint annotations")
    p.add_argument("--coco", required=True, help="COCO-format keypoint annotation file")
    p.add_argument("--images", required=True, help="folder the file names are relative to")
    p.add_argument("--gt-boxes", action="store_true", help="crop the GT boxes, no detector")
    p.add_argument("--unlabelled", metavar="FILE",
                   help="people the annotations leave out (JSON: file_name, bbox); detections "
                        "on them are ignored, not false positives")
    p.add_argument("--no-progress", action="store_true")
    # The COCO top-down protocol (HRNet's and MMPose's test settings) keeps every detected box,
    # since AP ranks them by score, and COCO's keypoint AP counts up to 20 people per image.
    _add_pipeline_args(p, det_score=0.0, max_people=20)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="per-stage timings on a video")
    p.add_argument("video")
    p.add_argument("--frames", type=int, default=300)
    _add_pipeline_args(p)
    _add_tracking_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("bag", help="process recorded bags offline, every frame, into bags, "
                                   "tables and sidecars")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="rosbag2 folders (sqlite3 or MCAP), ROS 1 .bag files, or folders of bags")
    p.add_argument("--output", required=True, help="output folder: <bag>.poses (a rosbag2 "
                   "bag) and <bag>.poses.yaml (the sidecar) per input")
    p.add_argument("--image-topic", default="",
                   help="sensor_msgs/Image or CompressedImage topic (default: the only one)")
    p.add_argument("--depth-topic", default="", help="aligned depth (16UC1 mm or 32FC1 m)")
    p.add_argument("--camera-info-topic", default="", help="the colour camera's CameraInfo")
    p.add_argument("--depth-info-topic", default="", help="the depth camera's CameraInfo "
                   "(default: the colour one)")
    p.add_argument("--namespace", default="", help="output topics under this namespace")
    p.add_argument("--storage", default="mcap", choices=("mcap", "sqlite3"))
    p.add_argument("--markers", action="store_true", help="also write MarkerArray (needs "
                   "CameraInfo)")
    p.add_argument("--annotated", action="store_true", help="also write the annotated image")
    p.add_argument("--copy-input", action="store_true", help="copy the input topics too")
    p.add_argument("--csv", metavar="FILE", help="long-form table: one row per person × "
                   "keypoint per frame")
    p.add_argument("--parquet", metavar="FILE", help="the same table as Parquet (pyarrow)")
    p.add_argument("--jobs", type=int, default=1, help="bags processed in parallel processes")
    p.add_argument("--resume", action="store_true",
                   help="skip bags whose output and sidecar are complete with these parameters")
    p.add_argument("--depth-tolerance", type=float, default=0.02,
                   help="seconds colour and depth stamps may differ (default: 0.02)")
    p.add_argument("--min-depth", type=float, default=0.2)
    p.add_argument("--max-depth", type=float, default=10.0)
    p.add_argument("--target-policy", default="closest",
                   choices=("closest", "largest", "centre", "none"))
    p.add_argument("--no-progress", action="store_true")
    _add_pipeline_args(p)
    _add_tracking_args(p)
    p.set_defaults(func=cmd_bag)

    p = sub.add_parser("models", help="list, verify (sha256) or prepare model files")
    p.add_argument("action", choices=("list", "verify", "prepare"))
    p.add_argument("ids", nargs="*", help="model ids (default: all)")
    p.set_defaults(func=cmd_models)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (model_store.ModelError, ImageError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
