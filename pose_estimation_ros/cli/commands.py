"""The commands of the command line (`cli.main` parses the arguments)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

from ..core.topology import COCO17
from ..models import fetch
from ..models import store as model_store
from ..models.specs import MODELS, get_spec
from ..pipelines.base import DET_SCORE, MIN_PERSON_SCORE
from ..pipelines.registry import PipelineOptions, create_pipeline, pipeline_family
from ..settings.build import output_options, pipeline_options, step_config, tracker_config
from ..vision.draw import draw_result
from ..vision.imaging import ImageError, iter_inputs
from .extras import require

log = logging.getLogger("pose_estimation_ros")


def det_score(args) -> float:
    """--det-score, or where it is left to the command (`eval`): 0 for top-down (the COCO
    top-down protocol keeps every box, AP ranks them by score), else the pipelines' default."""
    value = args.values["det_score"]
    if value is not None:
        return value
    return 0.0 if pipeline_family(args.values["pipeline"]).topdown else DET_SCORE


def _options(args, static: bool = False) -> PipelineOptions:
    return pipeline_options(args.values | {"det_score": det_score(args)}, static)


def _pipeline(args, static: bool = False):
    return create_pipeline(_options(args, static))


def _video_pipeline(args):
    """The pipeline with the tracking layer, for videos."""
    from ..pipelines.video import VideoPipeline

    if not args.values["tracking"]:
        return _pipeline(args, static=False)
    return VideoPipeline(_pipeline(args, static=False), tracker_config(args.values))


def cmd_run(args) -> int:
    from .run import cmd_run as run

    return run(args, lambda static: _options(args, static))


def _demo_image(path: str | None) -> tuple[np.ndarray, str]:
    if path:
        frame = next(iter_inputs(path))
        if frame.image is None:
            raise ImageError(frame.error)
        return frame.image, path
    photo = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError(f"{photo}: the demo photo is missing from this install")
    return image, "astronaut.jpg (Eileen Collins, NASA, public domain)"


def cmd_demo(args) -> int:
    ids = _options(args).model_ids()
    downloads = fetch.plan(ids)  # nothing (and no network) where every model is here
    if downloads:
        for line in fetch.describe(downloads):
            print(line, flush=True)
    for outcome in fetch.prepare_all(ids):  # an archive several models share: once
        if isinstance(outcome, Exception):
            raise outcome
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
    require("eval")
    from .evaluation import evaluate, per_image_table

    if (args.values["coco"] is None) == (args.values["hand_annotations"] is None):
        raise ValueError("give --coco FILE (body keypoints) or --hands FILE (hand keypoints)")
    if args.values["hand_annotations"] is not None:
        return _eval_hands(args)
    pipeline = _pipeline(args, static=True)
    if args.gt_boxes:
        if not pipeline.runs_on_boxes:
            raise ValueError(f"pipeline {args.pipeline} looks at the whole image and cannot "
                             "run on given boxes (no --gt-boxes for it)")

        def predict(image, boxes):
            return pipeline.process_boxes(image, boxes)
    else:
        def predict(image, boxes):
            return pipeline.process(image)
    topology = pipeline.topology
    joints = np.asarray(topology.to_coco17) >= 0
    result = evaluate(args.coco, args.images, predict, progress=not args.no_progress,
                      joints=joints, unlabelled=args.unlabelled, per_image=args.per_image,
                      gt_boxes=args.gt_boxes, working_score=_working_score(args))
    models = "+".join(m.spec.id for m in pipeline.models)
    print(f"pipeline={args.pipeline} models={models} "
          f"boxes={'gt' if args.gt_boxes else 'detector'} joints={int(joints.sum())}/17")
    if args.per_image:
        print(per_image_table(result))
    print(f"PCK@0.2 of the people found at score >= {result.working_score:g} (the working "
          f"threshold): {result.pck_working:.3f}")
    print(result.line())
    return 0


def _eval_hands(args) -> int:
    from dataclasses import replace

    from ..hands.stage import HandStage
    from ..settings.build import hand_config
    from .hand_evaluation import (
        evaluate_crops,
        evaluate_wholebody,
        is_wholebody,
        load_hand_annotations,
    )

    data = load_hand_annotations(args.values["hand_annotations"])
    options = _options(args, static=True)
    config = replace(hand_config(args.values), enabled=True)
    if is_wholebody(data):
        pipeline = create_pipeline(options)
        stage = HandStage(config, pipeline.topology, options.runtime)

        def predict(image):
            result = pipeline.process(image)
            stage.process(image, result)
            return result
        result = evaluate_wholebody(data, args.images, predict)
        how = f"through the body: pipeline={args.pipeline}"
    else:
        stage = HandStage(replace(config, recrop=False), COCO17, options.runtime)
        result = evaluate_crops(data, args.images, stage)
        how = "crops: the GT box"
    models = "+".join(m.spec.id for m in stage.models)
    skipped = ", ".join(f"{k}={v}" for k, v in sorted(result.skipped.items())) or "none"
    print(f"hands {how} models={models}")
    print(f"found {result.found} of {result.hands} labelled hands with the right side "
          f"(only the other side there: {result.wrong_side}, that side elsewhere: "
          f"{result.elsewhere}); skipped in the images: {skipped}")
    print(result.line())
    return 0


def _working_score(args) -> float:
    """The person score the pipeline reports people at when it runs (not under the COCO
    protocol): the detector's for top-down and BlazePose, MoveNet's person score."""
    family = pipeline_family(args.values["pipeline"])
    return MIN_PERSON_SCORE if family.score == "min_person_score" else DET_SCORE


def cmd_bench(args) -> int:
    from .benchmark import batch_comparison, compare_loops, run_bench

    pipeline = _video_pipeline(args)
    tracking = args.values["tracking"]
    inner = pipeline.pipeline if tracking else pipeline
    head = inner.head
    identities = _identities(args, pipeline) if tracking else None
    hands = _hand_stage(args, pipeline)
    hand_count = [0]

    def after(result, image):  # the frame step's stages after the pipeline
        if identities is not None:
            identities.update(result, image)
        if hands is not None:
            hands.process(image, result)
            hand_count[0] += sum(len(p.hands) for p in result.people)
    report = run_bench(pipeline, args.video, args.frames, keep_crowded=20 if head else 0,
                       after=after)
    models = list(pipeline.models) + (hands.models if hands else [])
    print(f"{report.frames} frames of {args.video}, pipeline {args.pipeline} "
          f"({', '.join(f'{m.spec.id} on {m.provider}' for m in models)})")
    for stage, ms in report.stages.items():
        mean = f", mean {report.decode_mean_ms:.2f} ms" if stage == "decode" else ""
        print(f"  {stage:<36} {ms:8.2f} ms  (median over the {report.stage_frames[stage]} "
              f"frames it ran{mean})")
    if head is not None and not head.batched:
        print(f"pose head {head.model.spec.id}: fixed batch of 1, one call per person")
    elif head is not None and report.crowded:
        per_b, per_s, n = batch_comparison(head, report.crowded)
        print(f"pose head {head.model.spec.id}, {len(report.crowded)} frames with {n} people: "
              f"batched {per_b:.2f} ms/person, one call per person {per_s:.2f} ms/person "
              f"(batched is {per_s / per_b:.2f}x)")
    if pipeline.detector_runs:
        schedule = (f", det_interval {args.det_interval}" if inner.has_detector
                    and tracking else "")
        print(f"detector ran on {pipeline.detector_runs} of {report.frames} frames "
              f"({100 * pipeline.detector_runs / report.frames:.0f}%){schedule}")
        reasons = pipeline.tracker.detect_reasons if tracking else {}
        if reasons:
            print("  why: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
    if args.compare:
        if not tracking or not inner.has_detector:
            raise ValueError("--compare needs a top-down pipeline with tracking")
        c = compare_loops(pipeline, args.video, args.frames)
        print(f"compare, {c.frames} frames alternated 3 times: tracked and batched (det_interval "
              f"{args.det_interval}) {c.tracked_fps:.1f} fps, per-box loop with the detector on "
              f"every frame {c.plain_fps:.1f} fps: {c.ratio:.2f}x")
        print(f"  pose crops per frame: tracked {c.tracked_crops:.2f}, per-box "
              f"{c.plain_crops:.2f}; the detector is {100 * c.detector_share:.0f}% of the "
              "per-box loop's time, so skipping it on every frame would make that loop at "
              f"most {1 / max(1 - c.detector_share, 1e-9):.2f}x faster")
    if tracking and inner.has_detector:
        _print_budget(pipeline, report.frames)
    _print_added(report, identities, hands, hand_count[0])
    print(report.last_line())
    return 0


def _print_budget(video, frames: int) -> None:
    """The pose budget's effect (`max_crops_per_frame`)."""
    budget = video.tracker.config.max_crops_per_frame
    shown = video.crops + video.predicted
    print(f"pose budget {budget or 'none'} (refresh every "
          f"{video.tracker.config.max_refresh_interval} frames): {video.crops / frames:.2f} "
          f"crops (people refreshed) per frame, {video.predicted / frames:.2f} people predicted "
          f"per frame ({100 * video.predicted / max(shown, 1):.0f}% of the people shown)")


def _print_added(report, identities, hands, hand_count: int) -> None:
    """What re-identification and the hand stage add to the frame's time; why the floor may
    be above the models' own time."""
    if report.floor_ms > report.model_ms:
        print(f"floor_ms is above model_ms: the floor replays the model inputs of up to 60 of "
              f"the {report.frames} frames after the run, so its median is over other frames "
              "and another moment; the models then ran as fast inside the pipeline as bare")
    if identities is not None:
        reid, frame = report.means.get("reid", 0.0), report.seconds * 1000 / report.frames
        print(f"re-identification: {reid:.2f} ms per frame (mean; median "
              f"{report.stages.get('reid', 0.0):.2f}), {100 * reid / max(frame - reid, 1e-9):.1f}"
              f"% added to the rest of the frame's time ({frame - reid:.2f} ms, mean); "
              f"{identities.reidentified} re-identified")
    if hands is not None:
        stage, frame = report.means.get("hands", 0.0), report.seconds * 1000 / report.frames
        per_hand = stage * report.frames / max(hand_count, 1)
        print(f"hands: {stage:.2f} ms per frame (mean; {100 * stage / max(frame - stage, 1e-9):.1f}"
              f"% added to the rest of the frame's time), {per_hand:.2f} ms per hand, "
              f"{hand_count} hands in {report.frames} frames "
              f"({hand_count / report.frames:.2f} per frame)")


def _hand_stage(args, pipeline):
    """The frame step's hand stage when --hands is given, for `bench` to time."""
    if not args.values.get("hands"):
        return None
    from ..hands.stage import HandStage

    config = step_config(args.values)
    smoothing = config.tracker.one_euro if config.tracking and config.tracker.smoothing \
        else None
    return HandStage(config.hands, pipeline.topology, _options(args).runtime,
                     smoothing=smoothing)


def _identities(args, pipeline):
    """The frame step's re-identification stage, for `bench` to time."""
    from ..tracking.reid import Identities

    return Identities(step_config(args.values).reid, pipeline.topology)


def cmd_models(args) -> int:
    if args.action == "import":
        return _import_models(args.ids)
    ids = list(args.ids)
    for name in args.pipeline:
        ids += PipelineOptions(pipeline=name).model_ids()
    ids = list(dict.fromkeys(ids)) if ids and not args.all else list(MODELS)
    for model_id in ids:
        get_spec(model_id)  # an unknown id: the error lists the known ones
    if args.action == "list":
        for spec in (MODELS[i] for i in ids):
            built = f" (built from {spec.convert_from})" if spec.convert_from else ""
            print(f"{spec.id:<31} {spec.file}{built}  source: "
                  f"{model_store.download_origin(spec)}  licence: {spec.licence}")
        print(f"search path: {':'.join(str(p) for p in model_store.search_path())}")
        return 0
    if args.action == "verify":
        rows = [model_store.verify(i) for i in ids]
        for r in rows:
            print(f"{r.model_id:<31} {r.status:<9} {r.path}  {r.detail}")
        return 0 if all(r.status in ("ok", "unpinned", "stale") for r in rows) else 1
    if args.download_only:
        from ..models.offline import download_only

        for line in download_only(ids, Path(args.download_only)):
            print(line)
        print(f"the source files of {len(ids)} model(s) are in {args.download_only}: copy it "
              "to the robot and run `pose-estimation-ros models import "
              f"{Path(args.download_only).name}` there")
        return 0
    for line in fetch.describe(fetch.plan(ids)):
        print(line, flush=True)
    return _ready(zip(ids, fetch.prepare_all(ids)))


def _ready(outcomes) -> int:
    """One line per model: where it is ready, or an `error:` line; exit 2 if any failed."""
    failed = 0
    for model_id, outcome in outcomes:
        if isinstance(outcome, Exception):
            print(f"error: {outcome}", file=sys.stderr)
            failed += 1
        else:
            print(f"{model_id:<31} ready: {outcome}")
    return 2 if failed else 0


def _import_models(folders: list[str]) -> int:
    """`models import DIR`: the models whose verified source files are in DIR, built here."""
    from ..models.offline import import_folder

    if len(folders) != 1:
        raise ValueError("models import takes one folder (made by `models prepare <ids> "
                         "--download-only DIR` on a machine with internet)")
    return _ready(import_folder(Path(folders[0])))


def cmd_bag(args) -> int:
    require("bags")
    from ..bags.batch import run
    from ..bags.topics import BagError
    from ..stream.selections import Selections

    Selections.parse(args.select_target)  # a malformed one is an error before any bag
    values = args.values | {"tracking": True, "use_depth": bool(args.depth_topic)}
    outputs = output_options(values, markers=args.markers, annotated=args.annotated)
    try:
        code = run(args, _options(args), step_config(values), outputs)
    except BagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the output folder: read-only, full, not a folder
        print(f"error: {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
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
