"""Command line: `python -m pose_estimation_ros` / `pose-estimation-ros`."""
from __future__ import annotations

import argparse
import logging
import sys

from ..models.runtime import PROVIDERS
from ..models.store import ModelError
from ..pipelines.base import DET_SCORE, MAX_PEOPLE
from ..pipelines.blazepose import VARIANTS
from ..pipelines.detection import DETECTORS
from ..pipelines.heads import HEADS
from ..pipelines.registry import PIPELINES, PipelineOptions
from ..tracking.tracker import TrackerConfig
from ..vision.headers import MAX_PIXELS
from ..vision.imaging import ImageError
from . import commands

_DEFAULTS = PipelineOptions()


def _add_pipeline_args(p: argparse.ArgumentParser, det_score: float | None = DET_SCORE,
                       max_people: int = MAX_PEOPLE) -> None:
    """The pipeline options (defaults from `PipelineOptions`); det_score None: `eval`'s
    protocol default (see `commands.det_score`)."""
    o = _DEFAULTS
    p.add_argument("--pipeline", default=o.pipeline, choices=PIPELINES,
                   help="rtmpose = topdown with rtmdet-nano + rtmpose-s (default: %(default)s)")
    p.add_argument("--variant", default=o.variant, choices=VARIANTS,
                   help="BlazePose landmark model of --pipeline blazepose (default: %(default)s)")
    p.add_argument("--detector", default=o.detector, choices=DETECTORS,
                   help="person detector of --pipeline topdown (default: %(default)s)")
    p.add_argument("--pose", default=o.pose, choices=sorted(HEADS),
                   help="pose head of --pipeline topdown; model of --pipeline movenet "
                        "(default: %(default)s)")
    p.add_argument("--det-score", type=float, default=det_score,
                   help="minimum person detector score (default: "
                        + ("0 for top-down, the COCO protocol; else 0.5)" if det_score is None
                           else "%(default)s)"))
    p.add_argument("--max-people", type=int, default=max_people,
                   help="people per frame, top-down (default: %(default)s)")
    p.add_argument("--min-tracking-confidence", type=float,
                   default=o.min_tracking_confidence,
                   help="BlazePose: pose flag below this re-runs the detector "
                        "(default: %(default)s)")
    p.add_argument("--min-person-score", type=float, default=o.min_person_score,
                   help="MoveNet: minimum person score (default: %(default)s)")
    p.add_argument("--provider", default=o.runtime.provider, choices=sorted(PROVIDERS),
                   help="onnxruntime execution provider; falls back to cpu with a warning")
    p.add_argument("--threads", type=int, default=o.runtime.threads,
                   help="onnxruntime intra-op threads (0: one per physical core)")
    p.add_argument("--spin", action="store_true",
                   help="onnxruntime threads spin between operators: faster on an idle "
                        "machine, slower when other processes need the cores")
    p.add_argument("--trt-cache-dir", default=o.runtime.trt_cache_dir,
                   help="TensorRT engine cache (default: tensorrt/ beside the model cache)")
    p.add_argument("--max-image-pixels", type=int, default=MAX_PIXELS, metavar="N",
                   help="images with more pixels are refused from their header, before "
                        "decoding (default: %(default)s)")


def _add_tracking_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--det-interval", type=int, default=TrackerConfig.det_interval,
                   help="top-down on video: run the detector every N frames (default: "
                        "%(default)s)")
    p.add_argument("--no-smoothing", action="store_true", help="no One-Euro smoothing")
    p.add_argument("--no-tracking", action="store_true",
                   help="video without the tracking layer (no ids, detector every frame)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="pose-estimation-ros", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="annotate an image, a folder of images, an image sequence "
                                   "or a video")
    p.add_argument("input")
    p.add_argument("--output", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stats", action="store_true",
                   help="videos and sequences: print keypoint jitter with and without "
                        "smoothing")
    p.add_argument("--sequence", choices=("auto", "yes", "no"), default="auto",
                   help="a folder is an image sequence (tracked, stamped at --fps): auto when "
                        "its names are consecutive frame numbers of one image size (default: "
                        "%(default)s)")
    p.add_argument("--fps", type=float, default=30.0,
                   help="frame rate of an image sequence, for its stamps (default: %(default)s)")
    p.add_argument("--start-stamp", type=float, default=0.0, metavar="SECONDS",
                   help="stamp of the first frame (default: %(default)s)")
    p.add_argument("--depth", metavar="PATH",
                   help="aligned depth: a folder of 16-bit PNGs (mm) paired with the colour "
                        "frames by file name (by index with a video), or a 16-bit video paired "
                        "by index; JSON lines get 3D positions")
    p.add_argument("--intrinsics", metavar="FX,FY,CX,CY", help="colour camera (with --depth)")
    p.add_argument("--depth-intrinsics", metavar="FX,FY,CX,CY",
                   help="depth camera (default: the colour intrinsics scaled to its size)")
    p.add_argument("--min-depth", type=float, default=0.2, help="metres (default: 0.2)")
    p.add_argument("--max-depth", type=float, default=10.0, help="metres (default: 10)")
    p.add_argument("--target-policy", default="closest",
                   choices=("closest", "largest", "centre", "none"),
                   help="whom to follow (closest needs --depth; default: closest)")
    _add_pipeline_args(p)
    _add_tracking_args(p)
    p.set_defaults(func=commands.cmd_run)

    p = sub.add_parser("demo", help="run the default pipeline on a sample photo")
    p.add_argument("input", nargs="?", help="an image (default: a bundled sample photo)")
    p.add_argument("--output", default="pose_demo", help="output folder (default: pose_demo)")
    _add_pipeline_args(p)
    p.set_defaults(func=commands.cmd_demo)

    p = sub.add_parser("eval", help="COCO OKS AP and PCK@0.2 on keypoint annotations")
    p.add_argument("--coco", required=True, help="COCO-format keypoint annotation file")
    p.add_argument("--images", required=True, help="folder the file names are relative to")
    p.add_argument("--gt-boxes", action="store_true", help="crop the GT boxes, no detector")
    p.add_argument("--unlabelled", metavar="FILE",
                   help="people the annotations leave out (JSON: file_name, bbox); detections "
                        "on them are ignored, not false positives")
    p.add_argument("--per-image", action="store_true",
                   help="also print AP and PCK@0.2 of every image (to find the failures)")
    p.add_argument("--no-progress", action="store_true")
    # The COCO top-down protocol (HRNet's and MMPose's test settings) keeps every detected box,
    # since AP ranks them by score, and COCO's keypoint AP counts up to 20 people per image.
    _add_pipeline_args(p, det_score=None, max_people=20)
    p.set_defaults(func=commands.cmd_eval)

    p = sub.add_parser("bench", help="per-stage timings on a video")
    p.add_argument("video")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--compare", action="store_true",
                   help="top-down: also time the per-box, detect-every-frame loop on the same "
                        "models and frames, alternated, and print the ratio")
    _add_pipeline_args(p)
    _add_tracking_args(p)
    p.set_defaults(func=commands.cmd_bench)

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
    p.add_argument("--rep155", action="store_true",
                   help="also the ROS4HRI topics (REP-155: /humans/bodies/..., /tf), as the "
                        "node publishes them with hri.enable")
    p.add_argument("--csv", metavar="FILE", help="long-form table: one row per person × "
                   "keypoint per frame")
    p.add_argument("--parquet", metavar="FILE", help="the same table as Parquet (pyarrow)")
    p.add_argument("--jobs", type=int, default=1,
                   help="bags processed at once on this machine: processes (--backend local), "
                        "or the CPUs of a local Ray instance (--backend ray without an address)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local processes, or one Ray task per bag (pip install "
                        "\"pose_estimation_ros[ray]\") (default: %(default)s)")
    p.add_argument("--ray-address", default="", metavar="ADDR",
                   help="an existing Ray cluster (ray start --head prints it; default: start a "
                        "local instance)")
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
    p.set_defaults(func=commands.cmd_bag)

    p = sub.add_parser("models", help="list, verify (sha256) or prepare model files")
    p.add_argument("action", choices=("list", "verify", "prepare"))
    p.add_argument("ids", nargs="*", help="model ids (default: all)")
    p.add_argument("--pipeline", action="append", default=[], choices=PIPELINES,
                   help="the models of this pipeline with its default models (repeatable)")
    p.add_argument("--all", action="store_true", help="every model (as with no ids)")
    p.set_defaults(func=commands.cmd_models)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ModelError, ImageError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
