"""`run`: an image, a folder of images, an image sequence or a video through the frame step the
node and `bag` use, into keypoints.jsonl and annotated images or video.

A video, and a folder that is an image sequence (`vision.sequences`: decided by `--sequence
auto`, or forced with `yes`/`no`), is a stream: tracking, smoothing, the follow target, stamps
`--start-stamp` + i / fps (the video's frame rate, `--fps` for sequences). Other folders and
single images are photos: each on its own (static mode, no ids). `--depth` gives aligned depth:
a folder paired with the colour frames by file name (by index with a video), or a 16-bit video
paired by index.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2

from ..core.camera import Intrinsics, camera_matrix
from ..settings.build import step_config
from ..stream.depth import DepthFrame, NoDepth, NoDepthReason, partner
from ..stream.selections import Selections
from ..stream.step import FrameStep, StepOutput, create_step
from ..transport.convert import annotate
from ..vision.headers import MAX_PIXELS
from ..vision.imaging import IMAGE_SUFFIXES, Frame, ImageError, VideoReader, read_image
from ..vision.sequences import image_files, pair_by_name, sequence_order

log = logging.getLogger("pose_estimation_ros")


@dataclass
class RunInput:
    kind: str  # "video", "sequence" or "photos"
    frames: Iterator[Frame]
    total: int | None
    fps: float  # the stamps' rate (photos: 0, every stamp is the start stamp)
    files: list[Path] | None  # the image files in frame order (folders)
    why: str


def open_input(source: Path, sequence: str, fps: float,
               max_pixels: int = MAX_PIXELS) -> RunInput:
    if not fps > 0 or fps == float("inf"):
        raise ValueError(f"--fps must be a positive number of frames per second, not {fps}")
    if source.is_dir():
        files = image_files(source)
        ordered, why = sequence_order(files)
        if sequence == "yes" and ordered is None:
            ordered = sorted(files, key=lambda p: (len(p.stem), p.stem))
            why = "--sequence yes"
        is_sequence = ordered is not None and sequence != "no"
        chosen = ordered if is_sequence else files
        return RunInput("sequence" if is_sequence else "photos", _read(chosen, max_pixels),
                        len(chosen), fps if is_sequence else 0.0, chosen,
                        why if sequence == "auto" else f"--sequence {sequence}")
    if source.suffix.lower() in IMAGE_SUFFIXES:  # one image: unreadable is an error (exit 2)
        image = read_image(source, max_pixels)
        return RunInput("photos", iter([Frame(0, 0.0, image, source.name)]), 1, 0.0, [source],
                        "a single image")
    reader = VideoReader(source)
    return RunInput("video", iter(reader), reader.frame_count, reader.fps, None, "a video")


def _read(files: list[Path], max_pixels: int) -> Iterator[Frame]:
    for i, f in enumerate(files):
        try:  # one unreadable file is reported, not the end of the run
            yield Frame(i, 0.0, read_image(f, max_pixels), f.name)
        except ImageError as exc:
            yield Frame(i, 0.0, None, f.name, str(exc))


class DepthInput:
    """The depth partner of each colour frame of `run --depth`."""

    def __init__(self, args, run_input: RunInput):
        from ..following.depth import iter_depth

        if not args.intrinsics:
            raise ValueError("--depth needs --intrinsics fx,fy,cx,cy of the colour camera")
        self.colour = Intrinsics(_matrix(args.intrinsics, "--intrinsics"))
        self.camera = Intrinsics(_matrix(args.depth_intrinsics, "--depth-intrinsics")) \
            if args.depth_intrinsics else None
        path = Path(args.depth)
        self.files = None
        if path.is_dir() and run_input.files is not None:
            self.files = pair_by_name(run_input.files, image_files(path))
        self.frames = iter_depth(path)
        self.ended = False

    def frame(self, index: int) -> DepthFrame | NoDepth:
        from ..following.depth import DepthError, check_depth, read_depth_image

        if self.files is not None:
            return partner(self.files[index], read_depth_image, self.camera)
        try:
            depth = None if self.ended else next(self.frames, None)
        except DepthError as exc:
            return NoDepth.of(NoDepthReason.DEPTH_REJECTED, problem=exc)
        if depth is None:
            if not self.ended:
                log.warning("the depth input ended before the colour input: no 3D from here")
            self.ended = True
            return NoDepth.of(NoDepthReason.DEPTH_ENDED)
        return partner(depth, check_depth, self.camera)


def _matrix(text: str, option: str):
    try:
        fx, fy, cx, cy = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{option} must be fx,fy,cx,cy (pixels), not {text!r}") from None
    return camera_matrix(fx, fy, cx, cy)


def run_step(args, options_for) -> tuple[FrameStep, RunInput, DepthInput | None]:
    """The input, the frame step for it and the depth input of a `run` command line."""
    run_input = open_input(Path(args.input), args.sequence, args.fps, args.max_image_pixels)
    streamed = run_input.kind != "photos"
    config = step_config(args.values | {"use_depth": bool(args.depth),
                                        "tracking": streamed and args.values["tracking"]})
    step = create_step(options_for(static=not streamed), config)
    depth = DepthInput(args, run_input) if args.depth else None
    return step, run_input, depth


def outputs(step: FrameStep, run_input: RunInput, depth: DepthInput | None,
            start_ns: int, selections: Selections | None = None
            ) -> Iterator[tuple[Frame, StepOutput | None]]:
    """Each frame's step output (None for a frame that could not be read), in order."""
    selections = selections or Selections()
    for frame in run_input.frames:
        if frame.image is None:
            yield frame, None
            continue
        stamp = start_ns + round(frame.index * 1e9 / run_input.fps) if run_input.fps \
            else start_ns
        for track_id in selections.due(stamp):
            step.select_target(track_id)
        yield frame, step.step(frame.image, stamp, "", depth.frame(frame.index) if depth
                               else None, depth.colour if depth else None)


class _Writer:
    """keypoints.jsonl and the annotated images (photos, sequences) or video."""

    def __init__(self, out_dir: Path, run_input: RunInput, with_depth: bool):
        self.out_dir, self.run_input, self.with_depth = out_dir, run_input, with_depth
        self.jsonl_path = out_dir / "keypoints.jsonl"
        self.jsonl = open(self.jsonl_path, "w")
        self.video = None

    def write(self, frame: Frame, out: StepOutput) -> None:
        self.jsonl.write(json.dumps(_record(frame, out, self.with_depth)) + "\n")
        annotated = annotate(out)
        if self.run_input.kind != "video":
            cv2.imwrite(str(self.out_dir / f"annotated_{Path(frame.name).stem}.jpg"), annotated)
            return
        if self.video is None:
            h, w = annotated.shape[:2]
            self.video = cv2.VideoWriter(str(self.out_dir / "annotated.mp4"),
                                         cv2.VideoWriter_fourcc(*"mp4v"), self.run_input.fps,
                                         (w, h))
        self.video.write(annotated)

    def close(self) -> None:
        self.jsonl.close()
        if self.video is not None:
            self.video.release()


@dataclass
class _Tally:
    frames: int = 0
    people: int = 0
    dropped: int = 0
    targets: set = field(default_factory=set)
    #: frames with nobody although the detector's best box scored `HINT_SCORE` or more
    unsure: int = 0
    unsure_best: float = 0.0

    def nobody(self, detector) -> None:
        """A frame without people: remember when the detector saw someone below det_score."""
        best = getattr(detector, "best_score", 0.0)
        if best >= HINT_SCORE:
            self.unsure += 1
            self.unsure_best = max(self.unsure_best, best)


#: a frame that finds nobody while the detector's best box scored this much gets a hint
HINT_SCORE = 0.2


def cmd_run(args, options_for) -> int:
    from .stats import JitterMeter

    step, run_input, depth = run_step(args, options_for)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    log.info("%s: %s (%s)", args.input, run_input.kind, run_input.why)
    tracker = step.pipeline.tracker if step.config.tracking else None
    detector = getattr(getattr(step.pipeline, "pipeline", step.pipeline), "detector", None)
    frames = outputs(step, run_input, depth, round(args.start_stamp * 1e9),
                     Selections.parse(args.select_target))
    if run_input.kind == "video" and not args.no_progress:
        from tqdm import tqdm

        frames = tqdm(frames, total=run_input.total, unit="frame", desc=Path(args.input).name)
    writer, tally, jitter = _Writer(out_dir, run_input, depth is not None), _Tally(), \
        JitterMeter()
    start = time.perf_counter()
    try:
        for frame, out in frames:
            if out is None:  # a bad frame is counted, never the end of the run
                log.warning("frame %s dropped: %s", frame.name, frame.error)
                tally.dropped += 1
                continue
            tally.frames += 1
            tally.people += len(out.result.people)
            if not out.result.people:
                tally.nobody(detector)
            if tracker is not None:
                jitter.add(frame.index, out.result, tracker.raw_keypoints)
            if out.target.followed >= 0:
                tally.targets.add(out.target.followed)
            writer.write(frame, out)
    finally:
        writer.close()
    _summary(args, step, run_input, depth, tally, jitter, writer,
             time.perf_counter() - start)
    return 0


def _summary(args, step: FrameStep, run_input: RunInput, depth, tally: _Tally, jitter,
             writer: _Writer, elapsed: float) -> None:
    tracker = step.pipeline.tracker if step.config.tracking else None
    print(f"wrote {writer.jsonl_path} and annotated {'video' if writer.video else 'images'} "
          f"to {writer.out_dir} ({run_input.kind}: {run_input.why})")
    if args.stats and tracker is not None:
        raw, smooth = jitter.figures()
        print(f"jitter (mean |second difference| of confirmed keypoints): raw {raw:.3f} px, "
              f"smoothed {smooth:.3f} px, reduction {100 * (1 - smooth / raw):.1f}%")
        runs = step.pipeline.detector_runs
        if runs or step.pipeline.pipeline.has_detector:  # MoveNet's modes have none
            print(f"detector ran on {runs} of {tally.frames} frames "
                  f"({100 * runs / max(tally.frames, 1):.0f}%)")
    if depth is not None:
        why = ", ".join(f"{k} {n}" for k, n in step.without_3d.items())
        print(f"depth: 3D on {step.counts['with_3d']} of {tally.frames} frames"
              + (f"; without: {why}" if why else "")
              + f"; follow targets: {sorted(tally.targets) or 'none'}")
    if tally.unsure:
        print(f"{tally.unsure} frame(s) found nobody, but the person detector's best box scored "
              f"up to {tally.unsure_best:.2f}, below --det-score {args.det_score}: a lower "
              "--det-score (e.g. 0.3, README \"Detector threshold\") may find them")
    tracks = step.confirmed_ids
    print(f"frames={tally.frames} people_per_frame={tally.people / max(tally.frames, 1):.2f} "
          f"tracks={tracks} fps={tally.frames / max(elapsed, 1e-9):.1f} "
          f"dropped={tally.dropped}")


def _record(frame: Frame, out: StepOutput, with_depth: bool) -> dict:
    target = out.target
    record = {"frame": frame.name, "stamp_ns": out.stamp_ns, **out.result.to_dict(),
              "target_track_id": target.followed,
              "target_state": {"state": target.state.value, "track_id": target.track_id,
                               "seconds_since_seen": round(target.since_seen, 4),
                               "reason": target.reason,
                               "position": None if target.position is None else
                               [round(float(v), 4) for v in target.position],
                               "position_predicted": target.predicted},
              "gestures": [g.to_dict() for g in out.gestures]}
    if with_depth:
        record["depth_status"] = "ok" if out.no_depth is None else out.no_depth.key
    return record
