"""`pose-estimation-ros bag INPUT… --output DIR`: many bags, resumable, each with a sidecar that
records how its output was made, on one of two backends: `local` (`--jobs N` processes on this
machine) or `ray` (one Ray task per bag, on a local Ray instance or a cluster: `ray_backend`).
Both run `worker.process_one` for each bag, and whichever order bags finish in, the merged
table follows the order the bags were given and the last line counts them the same way.
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

import yaml

from ..transport.plan import OutputOptions
from .inputs import find_bags, output_name
from .outputs import CSV_COLUMNS
from .process import BagJob, remove_if_empty, sidecar_path, table_path, work_path
from .topics import BagError


def output_paths(out_dir: Path, bag: Path) -> tuple[Path, Path]:
    """The output bag and its sidecar for one input bag."""
    output = out_dir / output_name(bag)
    return output, sidecar_path(output)


def _complete(sidecar: Path, output: Path, parameters: dict) -> bool:
    record = _record(sidecar)
    return record is not None and record.get("parameters") == parameters and output.is_dir()


def _record(sidecar: Path) -> dict | None:
    """A sidecar that says its output is complete, else None (none, unreadable, not a
    mapping, complete: false)."""
    try:
        record = yaml.safe_load(sidecar.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("complete") is True else None


def run(args, options, config, outputs: OutputOptions) -> int:
    """The `bag` command (`options` the pipeline's, `config` the frame step's, `outputs` what
    the output bags hold); returns the exit code (2 for a bag that cannot be processed)."""
    bags = find_bags(args.inputs)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = args.jobs
    if args.backend == "ray":
        from .ray_backend import import_ray

        import_ray()  # before anything is written: a missing extra is one clear error
        if options.runtime.threads == 0:  # a task asks for the CPUs its threads use
            options = replace(options, runtime=replace(options.runtime, threads=1))
    elif jobs > 1 and options.runtime.threads == 0:  # share the cores, do not oversubscribe
        options = replace(options, runtime=replace(options.runtime,
                                                   threads=max(1, (os.cpu_count() or 1) // jobs)))
    parameters = {"pipeline": _plain(asdict(options)), "step": _plain(asdict(config)),
                  "outputs": _plain(asdict(outputs)),
                  "bag": {k: getattr(args, k) for k in (
                      "image_topic", "depth_topic", "camera_info_topic", "depth_info_topic",
                      "namespace", "storage", "copy_input", "max_image_pixels",
                      "select_target")}}
    todo, skipped = [], []
    for bag in bags:
        output, sidecar = output_paths(out_dir, bag)
        if args.resume and _complete(sidecar, output, parameters):
            skipped.append(bag)
            continue
        sidecar.unlink(missing_ok=True)
        todo.append(BagJob(
            input=bag, output=output, image_topic=args.image_topic, depth_topic=args.depth_topic,
            camera_info_topic=args.camera_info_topic, depth_info_topic=args.depth_info_topic,
            namespace=args.namespace, storage=args.storage, copy_input=args.copy_input,
            table=bool(args.csv), max_pixels=args.max_image_pixels, outputs=outputs,
            select_target=tuple(args.select_target)))
    for bag in skipped:
        print(f"{bag}: complete with these parameters, skipped (--resume)")
    try:
        outcomes = _run_backend(args, todo, options, config, parameters, jobs)
    except KeyboardInterrupt:
        remove_unfinished(todo)
        raise
    finally:
        remove_if_empty(out_dir / ".partial")
    failures = [(job.input, _reason(job, out)) for job, out in outcomes
                if isinstance(out, Exception)]
    records = [out for _, out in outcomes if not isinstance(out, Exception)]
    if args.csv and not _merge_csv(bags, out_dir, Path(args.csv)):
        print(f"error: {args.csv}: not written: no bag is complete", file=sys.stderr)
    for _bag, reason in failures:
        print(f"error: {reason}", file=sys.stderr)
    for record in records:
        if (warning := depth_warning(record)):
            print(warning)
    done = len(todo) - len(failures)
    print(f"bags={len(bags)} processed={done} skipped={len(skipped)} failed={len(failures)}")
    return 2 if failures else 0


def remove_unfinished(todo: list[BagJob]) -> None:
    """After Ctrl-C: the files of every bag without its sidecar (a worker stopped between
    moving its outputs out of `.partial` and writing the sidecar included), so only complete
    outputs stay."""
    for job in todo:
        if sidecar_path(job.output).exists():
            continue
        for path in (job.output, work_path(job.output)):
            shutil.rmtree(path, ignore_errors=True)
        for path in (table_path(job.output), work_path(table_path(job.output))):
            path.unlink(missing_ok=True)


def depth_warning(record: dict) -> str | None:
    """A line for a bag whose frames mostly have no 3D, with the reasons."""
    without = record.get("frames_without_3d")
    if not without:
        return None
    missing, total = sum(without.values()), record["frames_processed"]
    if missing * 2 <= total:
        return None
    reasons = ", ".join(f"{k} {n}" for k, n in sorted(without.items(), key=lambda kv: -kv[1]))
    return (f"warning: {Path(record['input']).name}: {missing} of {total} frames have no 3D "
            f"({reasons}); check --depth-topic, --camera-info-topic and --depth-tolerance")


def _run_backend(args, todo, options, config, parameters, jobs) -> list:
    """(job, record or the exception it failed with) for every job, in the order of `todo`."""
    overall = None
    if not args.no_progress:
        from tqdm import tqdm
        overall = tqdm(total=len(todo), desc="bags", unit="bag", position=0)

    def report(job, outcome) -> None:
        if overall is not None:
            overall.update(1)
    from .local import run_local

    try:
        if args.backend == "ray":
            from .ray_backend import run as run_on_ray

            return run_on_ray(todo, options, config, parameters, args.ray_address, jobs,
                              not args.no_progress, report)
        return run_local(todo, options, config, parameters, jobs, not args.no_progress,
                         report)
    finally:
        if overall is not None:
            overall.close()


def _reason(job: BagJob, exc: Exception) -> str:
    """The `error:` text of a bag that failed: `<file>: <reason>`."""
    if isinstance(exc, BagError):
        return str(exc)
    if isinstance(exc, OSError):  # the output side: a full or read-only disk
        where = exc.filename or job.output
        return f"{where}: {exc.strerror or exc}"
    return f"{job.input}: {type(exc).__name__}: {exc}"


def _merge_csv(bags: list[Path], out_dir: Path, target: Path) -> bool:
    """One table for all complete bags, in the order they were given, written under a
    temporary name; False (nothing written) when no bag is complete."""
    tables = []
    for bag in bags:
        output, sidecar = output_paths(out_dir, bag)
        if _record(sidecar) is not None and table_path(output).is_file():
            tables.append(table_path(output))
    if not tables:
        return False
    tmp = target.with_name(target.name + ".partial")
    with open(tmp, "w", newline="") as out:
        csv.writer(out).writerow(CSV_COLUMNS)
        for table in tables:
            with open(table, newline="") as f:
                next(f, None)  # its header
                shutil.copyfileobj(f, out)
    tmp.replace(target)
    return True


def _plain(value):
    """Dataclass dicts as YAML-safe plain values (tuples → lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
